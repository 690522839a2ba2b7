"""What makes a change dangerous: the types that hold data or carry user traffic, and the
settings whose loss turns a later deletion into data loss.

A change is dangerous when it deletes or replaces a `STATEFUL` or `TRAFFIC` resource, or when it
loses a safety: Pulumi `protect`, `retain_on_delete`, or one of the `SAFETY` inputs (deletion
protection, final snapshots, a schema's DROP ... CASCADE, a listener's client-certificate verification,
which refuses traffic when switched on too early). Forgetting a resource that is
`retain_on_delete` is not a deletion: Pulumi drops it from the state and the data stays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

STATEFUL: dict[str, str] = {
    "aws:rds/cluster:Cluster": "the database cluster",
    "aws:rds/clusterInstance:ClusterInstance": "a database instance",
    "aws:elasticache/replicationGroup:ReplicationGroup": "the cache",
    "aws:elasticache/serverlessCache:ServerlessCache": "the cache",
    "aws:elasticache/user:User": "a cache user in use: whoever authenticates as it loses the cache",
    "aws:elasticache/userGroup:UserGroup": "the cache's user group: nobody can authenticate while it is gone",
    "aws:kms/key:Key": "a key: what it encrypted becomes unreadable",
    "aws:s3/bucket:Bucket": "a bucket",
    "aws:s3/bucketV2:BucketV2": "a bucket",
    "aws:ecr/repository:Repository": "an image repository",
    "aws:secretsmanager/secret:Secret": "a secret",
    "aws:secretsmanager/secretVersion:SecretVersion": "a secret's value",
    "postgresql:index/database:Database": "a PostgreSQL database",
    "postgresql:index/schema:Schema": "a PostgreSQL schema",
    "postgresql:index/role:Role": "a PostgreSQL role",
    "random:index/randomPassword:RandomPassword": "a password in use",
    "random:index/randomString:RandomString": "a generated value in use",
}
"""Types whose deletion loses data, a key or a credential in use -> what is lost."""

TRAFFIC: dict[str, str] = {
    "cloudflare:index/dnsRecord:DnsRecord": "a DNS record users resolve",
    "aws:lb/loadBalancer:LoadBalancer": "the load balancer (its DNS name changes)",
    "aws:lb/listener:Listener": "a listener on the load balancer",
    "aws:acm/certificate:Certificate": "the TLS certificate",
    "aws:lb/targetGroup:TargetGroup": "a target group: with a gradual strategy the listener rules and the ECS "
    "service keep forwarding to the old one (docs/releases.md, 'Replacing a target group')",
    "aws:lb/listenerRule:ListenerRule": "a listener rule: requests fall to the listener's default action until "
    "the new one exists, and the ECS service names the old rule (docs/releases.md, 'Replacing a target group')",
    "cloudflare:index/authenticatedOriginPullsHostnameCertificate:AuthenticatedOriginPullsHostnameCertificate":
    "the client certificate Cloudflare presents to the origin (docs/origin-lock.md): a new upload activates "
    "asynchronously, and the associations move to it while it may still be pending, then the old one is deleted",
    "cloudflare:index/authenticatedOriginPulls:AuthenticatedOriginPulls": "the per-hostname origin-pull "
    "associations: while they are gone Cloudflare presents no certificate and the verifying origin refuses it",
}
"""Types that carry user traffic: deleting or replacing one interrupts it."""

Lost = Callable[[Any, Any], bool]


def _turned_off(before: Any, after: Any) -> bool:
    return before is True and after is not True


def _turned_on(before: Any, after: Any) -> bool:
    return before is not True and after is True


def _cleared(before: Any, after: Any) -> bool:
    return bool(before) and not after


def _mtls_mode(value: Any) -> str:
    return str(value.get("mode") or "off") if isinstance(value, dict) else "off"


def _verify_changed(before: Any, after: Any) -> bool:
    """The listener starts or stops verifying client certificates (the origin lock, docs/origin-lock.md), as
    the real `pulumi up` does it: a block left out of `after` changes nothing (`mutual_authentication` is
    Optional+Computed in terraform-provider-aws internal/service/elbv2/listener.go: the listener keeps its
    mode), while a listener created without one (`before` absent) runs with mutual TLS off."""
    if not isinstance(after, dict):
        return False
    return (_mtls_mode(before) == "verify") != (_mtls_mode(after) == "verify")


SAFETY: dict[str, dict[str, tuple[Lost, str]]] = {
    "aws:lb/listener:Listener": {
        "mutualAuthentication": (_verify_changed, "client-certificate verification switched (origin lock): on, it "
                                 "refuses every connection without a certificate from the trust store, so "
                                 "Cloudflare must already present ours (a separate, earlier deploy); off, any "
                                 "Cloudflare account can reach the origin again. See docs/origin-lock.md"),
    },
    "aws:rds/cluster:Cluster": {
        "deletionProtection": (_turned_off, "deletion protection turned off"),
        "skipFinalSnapshot": (_turned_on, "no final snapshot on delete"),
    },
    "aws:elasticache/replicationGroup:ReplicationGroup": {
        "finalSnapshotIdentifier": (_cleared, "no final snapshot on delete"),
    },
    "aws:lb/loadBalancer:LoadBalancer": {
        "enableDeletionProtection": (_turned_off, "deletion protection turned off"),
    },
    "aws:s3/bucket:Bucket": {"forceDestroy": (_turned_on, "force_destroy: a delete empties the bucket")},
    "aws:ecr/repository:Repository": {"forceDelete": (_turned_on, "force_delete: a delete removes every image")},
    "postgresql:index/schema:Schema": {
        "dropCascade": (_turned_on, "drop_schema armed: removing the tenant runs DROP SCHEMA CASCADE (data lost)"),
    },
}
"""Type -> input -> (whether a change loses the safety, what it means)."""


def lost_safeties(token: str, before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The safeties of `token` that going from inputs `before` to `after` loses."""
    found = []
    for key, (lost, meaning) in SAFETY.get(token, {}).items():
        if lost(before.get(key), after.get(key)):
            found.append(f"`{key}`: {meaning}")
    return found


def removal(token: str, inputs: dict[str, Any], retained: bool, protected: bool) -> tuple[bool, str]:
    """(dangerous?, what removing a resource of `token` with these inputs does)."""
    if token == "postgresql:index/schema:Schema":
        if retained:
            return False, "tenant schema forgotten, data kept (retain_on_delete)"
        if inputs.get("dropCascade") is True:
            return True, "DROP SCHEMA CASCADE: data lost"
        return True, "DROP SCHEMA (fails while it holds objects)"
    if retained:
        return False, "forgotten by Pulumi, data kept (retain_on_delete)"
    what = STATEFUL.get(token) or TRAFFIC.get(token)
    if what is None:
        return False, "deleted"
    why = f"deleted: {what}"
    if protected:
        why += " (protected: `pulumi up` will refuse until `protect` is lifted)"
    return True, why


REISSUED_UNDER_SAME_CA: dict[str, str] = {"tls:index/locallySignedCert:LocallySignedCert": "caCertPem"}
"""Certificate types -> the input naming their CA. The origin lock re-issues a certificate only by rotating to a new
generation (docs/origin-lock.md): a certificate replaced while its CA is kept (ORGANIZATION, CLIENT_USES,
MONITOR_USES, RSA_BITS or a dns-name format changed in components/origin_pki.py) makes Cloudflare's upload be
replaced create-before-delete and the associations move to a pending upload in the same deploy."""


def reissued_under_same_ca(token: str, dependencies: dict[str, list[str]], replaced: set[str]) -> str | None:
    """Why replacing a certificate of `token` is dangerous when none of the CAs its `dependencies` name is
    `replaced` (None: not a CA-signed certificate, or its CA is replaced too: a new generation's start)."""
    key = REISSUED_UNDER_SAME_CA.get(token)
    sources = dependencies.get(key, []) if key else []
    if not sources or any(src in replaced for src in sources):
        return None
    return ("re-issue under the same CA: rotate to a new generation instead (docs/origin-lock.md, rotation); "
            "Cloudflare's upload is replaced and the associations move to it while it may still be pending")


HALTED_REPLACEMENT: dict[str, tuple[str, str]] = {
    "aws:rds/cluster:Cluster": (
        "deletionProtection",
        "the replacement deletes the instances, then stops at the protected cluster (deletion_protection): "
        "half-executed, the database has no instance; turn database.deletion_protection off in a deploy "
        "before this one",
    ),
}
"""Type -> (input, what a replacement does while that input is true). The cluster is
`delete_before_replace` (components/postgres.py, fixed identifier): the engine deletes the resources
being replaced that depend on it first, in reverse dependency order (pulumi/pulumi
pkg/resource/deploy/step_generator.go, delete-before-replace dependents), so the instances go, and then
RDS refuses to delete a cluster with deletion protection on."""


def halted_replacement(token: str, inputs: dict[str, Any]) -> str | None:
    """What replacing a resource of `token` leaves behind when it stops midway. `inputs`: the resource being
    replaced (the old state, the base), never the replacement: RDS refuses to delete the cluster that exists."""
    key, what = HALTED_REPLACEMENT.get(token, ("", ""))
    return what if key and inputs.get(key) is True else None

