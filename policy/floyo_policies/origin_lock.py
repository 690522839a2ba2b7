"""The origin lock (docs/origin-lock.md): in production, the public HTTPS listener verifies client
certificates, and every trust store's CA bundle is encrypted with a customer-managed KMS key.

An IP allow-list of Cloudflare's ranges admits every Cloudflare customer (REVIEW.md, "Shared-trust
boundary"); only the listener's `mutualAuthentication { mode = "verify" }` against our own CA narrows it
to our zone.
"""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs

from ._core import CRITICAL, HIGH, MANDATORY, FloyoStackPolicy, known, of_type, pack_config, referenced, stack_of

LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TRUST_STORE = "aws:lb/trustStore:TrustStore"
OBJECTS = ("aws:s3/bucketObjectv2:BucketObjectv2", "aws:s3/bucketObject:BucketObject")
BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def _public(listener: PolicyResource, lbs: list[PolicyResource]) -> bool:
    """On an internet-facing load balancer (a listener whose load balancer is not in the stack counts too)."""
    found = referenced(listener, "loadBalancerArn", lbs)
    return not found or any(not lb.props.get("internal") for lb in found)


def _verify_listener(args: StackValidationArgs, report: ReportViolation) -> None:
    if not args.resources:
        args.not_applicable("empty stack")
    if not pack_config().is_production(stack_of(args.resources[0].urn)):
        args.not_applicable("not a production stack")
    lbs = of_type(args.resources, LOAD_BALANCER)
    for listener in of_type(args.resources, LISTENER):
        if str(known(listener.props, "protocol")) != "HTTPS" or not _public(listener, lbs):
            continue
        mutual = known(listener.props, "mutualAuthentication")
        mode = str(mutual.get("mode") or "off") if isinstance(mutual, Mapping) else "off"
        if mode != "verify" or not (isinstance(mutual, Mapping) and "trustStoreArn" in list(mutual)):
            report(f"listener {listener.name}: a public HTTPS listener in production must verify client certificates "
                   f"(mutualAuthentication mode verify with a trust store); it is {mode}. Cloudflare's IP ranges "
                   "admit every Cloudflare customer (docs/origin-lock.md)", listener.urn)


prod_listener_verifies = FloyoStackPolicy(
    "prod-public-listener-verifies-clients",
    "In production, every HTTPS listener of an internet-facing load balancer verifies client certificates "
    "against a trust store (mutual TLS verify): the origin lock against other Cloudflare accounts.",
    _verify_listener, MANDATORY, CRITICAL, ["REVIEW.md shared-trust boundary", "docs/origin-lock.md"])


def _kms_default(bucket: PolicyResource, args: StackValidationArgs) -> bool:
    for sse in of_type(args.resources, SSE):
        if bucket not in referenced(sse, "bucket", [bucket]):
            continue
        for rule in known(sse.props, "rules") or []:
            default = rule.get("applyServerSideEncryptionByDefault") if isinstance(rule, Mapping) else None
            if isinstance(default, Mapping) and default.get("sseAlgorithm") in KMS_ALGORITHMS and default.get(
                    "kmsMasterKeyId"):
                return True
    return False


def _bundle_encrypted(args: StackValidationArgs, report: ReportViolation) -> None:
    objects = of_type(args.resources, *OBJECTS)
    buckets = of_type(args.resources, *BUCKETS)
    for store in of_type(args.resources, TRUST_STORE):
        key = known(store.props, "caCertificatesBundleS3Key")
        bucket = referenced(store, "caCertificatesBundleS3Bucket", buckets)
        bundle = referenced(store, "caCertificatesBundleS3Key", objects) or [
            o for o in objects if known(o.props, "key") == key and bucket and referenced(o, "bucket", bucket)]
        if not bundle:
            report(f"trust store {store.name}: its CA bundle ({key}) is not declared in the stack, so nothing shows it "
                   "is KMS-encrypted; declare the object with server_side_encryption aws:kms and a kms_key_id",
                   store.urn)
            continue
        for obj in bundle:
            own = known(obj.props, "serverSideEncryption") in KMS_ALGORITHMS and known(obj.props, "kmsKeyId")
            if not own and not any(_kms_default(b, args) for b in bucket):
                report(f"trust store {store.name}: CA bundle object {obj.name} is not encrypted with a customer-managed "
                       "KMS key (server_side_encryption aws:kms with a kms_key_id, or a bucket default of aws:kms "
                       "with a key)", obj.urn)


trust_bundle_kms = FloyoStackPolicy(
    "trust-store-bundle-kms-encrypted",
    "Every load balancer trust store reads a CA bundle object declared in the stack and encrypted with a "
    "customer-managed KMS key.",
    _bundle_encrypted, MANDATORY, HIGH, ["CKV_AWS_145", "docs/origin-lock.md"])

POLICIES = [prod_listener_verifies, trust_bundle_kms]
