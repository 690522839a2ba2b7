"""What makes a change dangerous: the types that hold data or carry user traffic, and the
settings whose loss turns a later deletion into data loss.

A change is dangerous when it deletes or replaces a `STATEFUL` or `TRAFFIC` resource, or when it
loses a safety: Pulumi `protect`, `retain_on_delete`, or one of the `SAFETY` inputs (deletion
protection, final snapshots, a schema's DROP ... CASCADE). Forgetting a resource that is
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
}
"""Types that carry user traffic: deleting or replacing one interrupts it."""

Lost = Callable[[Any, Any], bool]


def _turned_off(before: Any, after: Any) -> bool:
    return before is True and after is not True


def _turned_on(before: Any, after: Any) -> bool:
    return before is not True and after is True


def _cleared(before: Any, after: Any) -> bool:
    return bool(before) and not after


SAFETY: dict[str, dict[str, tuple[Lost, str]]] = {
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
