"""Security baseline, modelled on AWS Foundational Security Best Practices (FSBP) controls and Checkov's
AWS checks for the resource types this program declares. Each policy cites the controls it covers."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from ._core import (
    ADVISORY,
    HIGH,
    LOW,
    MANDATORY,
    MEDIUM,
    FloyoResourcePolicy,
    FloyoStackPolicy,
    label,
    of_type,
    pack_config,
    parse_json,
    referenced,
    stack_of,
)


def _cmk(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p, t = args.props, args.resource_type
    missing: str | None = None
    if t == "aws:cloudwatch/logGroup:LogGroup" and not p.get("kmsKeyId"):
        missing = "kmsKeyId (CKV_AWS_158)"
    elif t == "aws:rds/cluster:Cluster" and not (p.get("storageEncrypted") and p.get("kmsKeyId")):
        missing = "storageEncrypted with a kmsKeyId (FSBP RDS.27, CKV_AWS_327)"
    elif t == "aws:elasticache/replicationGroup:ReplicationGroup" and not (
            p.get("atRestEncryptionEnabled") and p.get("kmsKeyId")):
        missing = "atRestEncryptionEnabled with a kmsKeyId (FSBP ElastiCache.4, CKV_AWS_29, CKV_AWS_191)"
    elif t == "aws:secretsmanager/secret:Secret" and not p.get("kmsKeyId"):
        missing = "kmsKeyId (CKV_AWS_149)"
    elif t == "aws:sns/topic:Topic" and not p.get("kmsMasterKeyId"):
        missing = "kmsMasterKeyId (FSBP SNS.1, CKV_AWS_26)"
    elif t == "aws:ecr/repository:Repository" and not any(
            isinstance(c, Mapping) and c.get("encryptionType") == "KMS" and c.get("kmsKey")
            for c in p.get("encryptionConfigurations") or []):
        missing = "a KMS encryption configuration with a kmsKey (CKV_AWS_136)"
    elif t == "aws:kms/key:Key" and not p.get("enableKeyRotation"):
        missing = "enableKeyRotation (FSBP KMS.4, CKV_AWS_7)"
    elif t == "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration" and not any(
            isinstance(r, Mapping) and str((r.get("applyServerSideEncryptionByDefault") or {}).get("sseAlgorithm", ""))
            .startswith("aws:kms") for r in p.get("rules") or []):
        missing = "default encryption with aws:kms and a customer-managed key (CKV_AWS_145)"
    if missing:
        report(f"{label(args)}: not encrypted at rest with a customer-managed key: set {missing}", None)


cmk_encryption = FloyoResourcePolicy(
    "cmk-encryption-at-rest",
    "Data at rest (logs, databases, caches, secrets, topics, images, buckets) is encrypted with a rotating "
    "customer-managed KMS key.",
    _cmk, MANDATORY, HIGH, ["FSBP RDS.27", "FSBP ElastiCache.4", "FSBP SNS.1", "FSBP KMS.4", "CKV_AWS_158",
                            "CKV_AWS_149", "CKV_AWS_136", "CKV_AWS_145", "CKV_AWS_7"])

MODERN_TLS = re.compile(r"^ELBSecurityPolicy-(TLS13-|FS-1-2|TLS-1-2)")


def _tls(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p, t = args.props, args.resource_type
    problem: str | None = None
    if t == "aws:elasticache/replicationGroup:ReplicationGroup" and not p.get("transitEncryptionEnabled"):
        problem = "transitEncryptionEnabled is off (FSBP ElastiCache.5, CKV_AWS_30)"
    elif t == "aws:rds/proxy:Proxy" and not p.get("requireTls"):
        problem = "requireTls is off"
    elif t == "aws:rds/clusterParameterGroup:ClusterParameterGroup" and str(p.get("family", "")).startswith(
            "aurora-postgresql") and not any(isinstance(x, Mapping) and x.get("name") == "rds.force_ssl"
                                             and str(x.get("value")) == "1" for x in p.get("parameters") or []):
        problem = "rds.force_ssl is not 1 (CKV2_AWS_69)"
    elif t in ("aws:lb/listener:Listener", "aws:alb/listener:Listener"):
        if p.get("protocol") == "HTTPS" and not MODERN_TLS.match(str(p.get("sslPolicy", ""))):
            problem = f"TLS policy {p.get('sslPolicy')} allows TLS below 1.2 (CKV_AWS_103)"
        elif p.get("protocol") == "HTTP" and not all(
                isinstance(a, Mapping) and a.get("type") == "redirect"
                and (a.get("redirect") or {}).get("protocol") == "HTTPS" for a in p.get("defaultActions") or []):
            problem = "plain HTTP that does not redirect to HTTPS (FSBP ELB.1, CKV_AWS_2)"
    elif t == "pulumi:providers:postgresql" and str(p.get("sslmode", "")) not in ("require", "verify-ca", "verify-full"):
        problem = f"sslmode {p.get('sslmode')!r}: the deploy's database connection is not TLS"
    if problem:
        report(f"{label(args)}: not TLS in transit: {problem}", None)


tls_in_transit = FloyoResourcePolicy(
    "tls-in-transit",
    "Connections are TLS: the cache, the proxy, the database (rds.force_ssl), the listeners (TLS 1.2+, HTTP only "
    "redirects) and the deploy's PostgreSQL provider.",
    _tls, MANDATORY, HIGH, ["FSBP ElastiCache.5", "FSBP ELB.1", "CKV_AWS_2", "CKV_AWS_103", "CKV2_AWS_69"])

AUDIT_LOG = re.compile(r"(flow-logs|^/aws/rds/|cloudtrail|audit)")
"""Log groups that are audit evidence: network flow logs, database logs (connections, pgaudit), trails."""
AUDIT_RETENTION_DAYS = 365


def _retention(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:cloudwatch/logGroup:LogGroup":
        return
    days = args.props.get("retentionInDays")
    name = str(args.props.get("name") or args.name)
    if not days:
        report(f"log group {name}: no retention, kept (and billed) forever (CKV_AWS_66)", None)
    elif (pack_config().is_production(stack_of(args.urn)) and AUDIT_LOG.search(name)
          and float(days) < AUDIT_RETENTION_DAYS):
        report(f"log group {name}: audit-relevant log kept {int(float(days))} days in a production stack; "
               f"keep at least {AUDIT_RETENTION_DAYS} (CKV_AWS_338)", None)


log_retention = FloyoResourcePolicy(
    "log-retention",
    "Every log group has a retention; in production, audit-relevant logs (flow logs, database logs) are kept "
    "at least 365 days.",
    _retention, MANDATORY, MEDIUM, ["CKV_AWS_66", "CKV_AWS_338"])


def _rotation(args: StackValidationArgs, report: ReportViolation) -> None:
    secrets = of_type(args.resources, "aws:secretsmanager/secret:Secret")
    rotated = {s.urn for rot in of_type(args.resources, "aws:secretsmanager/secretRotation:SecretRotation")
               for s in referenced(rot, "secretId", secrets)}
    for secret in secrets:
        if secret.urn not in rotated:
            report(f"secret {secret.name}: no rotation (aws:secretsmanager/secretRotation); rotate it or record an "
                   "exception with the reason in policy/config.yaml", secret.urn)


secret_rotation = FloyoStackPolicy(
    "secrets-rotated",
    "Every Secrets Manager secret rotates, or has an accepted exception that says why not.",
    _rotation, MANDATORY, MEDIUM, ["FSBP SecretsManager.1", "CKV2_AWS_57"])


def _backups(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p, t = args.props, args.resource_type
    if t not in ("aws:rds/cluster:Cluster", "aws:elasticache/replicationGroup:ReplicationGroup",
                 "aws:lb/loadBalancer:LoadBalancer"):
        return
    if not pack_config().is_production(stack_of(args.urn)):
        args.not_applicable("not a production stack: dev relaxes backups and deletion protection by setting")
    problems = []
    if t == "aws:rds/cluster:Cluster":
        if float(p.get("backupRetentionPeriod") or 1) < 7:
            problems.append("backupRetentionPeriod under 7 days (FSBP RDS.11)")
        if not p.get("deletionProtection"):
            problems.append("deletionProtection off (FSBP RDS.7, CKV_AWS_139)")
        if p.get("skipFinalSnapshot"):
            problems.append("skipFinalSnapshot on")
    elif t == "aws:elasticache/replicationGroup:ReplicationGroup" and float(p.get("snapshotRetentionLimit") or 0) < 1:
        problems.append("no automatic snapshots (FSBP ElastiCache.1)")
    elif t == "aws:lb/loadBalancer:LoadBalancer" and not p.get("enableDeletionProtection"):
        problems.append("deletion protection off (FSBP ELB.6, CKV_AWS_150)")
    for problem in problems:
        report(f"{label(args)}: {problem}", None)


backups = FloyoResourcePolicy(
    "backups-and-deletion-protection",
    "In production, databases keep 7+ days of backups, deletion protection and a final snapshot; caches snapshot; "
    "the load balancer has deletion protection.",
    _backups, MANDATORY, HIGH, ["FSBP RDS.7", "FSBP RDS.11", "FSBP ElastiCache.1", "FSBP ELB.6", "CKV_AWS_139",
                                "CKV_AWS_150"])

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")


def _attached_to(bucket: PolicyResource, args: StackValidationArgs, token: str) -> list[PolicyResource]:
    return [r for r in of_type(args.resources, token) if bucket in referenced(r, "bucket", [bucket])]


def _s3(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in of_type(args.resources, *BUCKETS):
        blocks = _attached_to(bucket, args, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        if not any(all(b.props.get(f) for f in flags) for b in blocks):
            report(f"bucket {bucket.name}: no public access block with all four settings on (FSBP S3.8, CKV2_AWS_6)",
                   bucket.urn)
        if not _attached_to(bucket, args, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
            report(f"bucket {bucket.name}: no lifecycle configuration (FSBP S3.13, CKV2_AWS_61)", bucket.urn)
        policies = _attached_to(bucket, args, "aws:s3/bucketPolicy:BucketPolicy")
        if not any("aws:SecureTransport" in str(p.props.get("policy")) for p in policies):
            report(f"bucket {bucket.name}: its policy does not deny requests without TLS (FSBP S3.5)", bucket.urn)


s3_baseline = FloyoStackPolicy(
    "s3-bucket-baseline",
    "Every bucket blocks public access, has a lifecycle, and denies requests without TLS.",
    _s3, MANDATORY, HIGH, ["FSBP S3.5", "FSBP S3.8", "FSBP S3.13", "CKV2_AWS_6", "CKV2_AWS_61"])


def _versioning(args: StackValidationArgs, report: ReportViolation) -> None:
    for bucket in of_type(args.resources, *BUCKETS):
        versioned = [v for v in _attached_to(bucket, args, "aws:s3/bucketVersioning:BucketVersioning")
                     + _attached_to(bucket, args, "aws:s3/bucketVersioningV2:BucketVersioningV2")
                     if (v.props.get("versioningConfiguration") or {}).get("status") == "Enabled"]
        if not versioned:
            report(f"bucket {bucket.name}: versioning is not enabled (FSBP S3.14, CKV_AWS_21)", bucket.urn)


s3_versioning = FloyoStackPolicy(
    "s3-versioning", "Buckets keep object versions, so an overwrite or delete can be undone.",
    _versioning, ADVISORY, LOW, ["FSBP S3.14", "CKV_AWS_21"])

EDGE_FIREWALL_PHASES = ("http_request_firewall_managed", "http_request_firewall_custom")


def _waf(args: StackValidationArgs, report: ReportViolation) -> None:
    from .network import INGRESS, groups_of, rules

    lbs = [lb for lb in of_type(args.resources, "aws:lb/loadBalancer:LoadBalancer") if not lb.props.get("internal")]
    associations = of_type(args.resources, "aws:wafv2/webAclAssociation:WebAclAssociation")
    edge_firewall = any(r.props.get("phase") in EDGE_FIREWALL_PHASES
                        for r in of_type(args.resources, "cloudflare:index/ruleset:Ruleset"))
    ingress = rules(list(args.resources), INGRESS)
    for lb in lbs:
        if any(lb in referenced(a, "resourceArn", [lb]) for a in associations):
            continue
        groups = groups_of(lb, list(args.resources))
        open_rules = [r.resource.name for r in ingress if r.group & groups and not r.resource.props.get("prefixListId")]
        if edge_firewall and not open_rules:
            continue  # only the edge's ranges reach it, and the edge runs a WAF ruleset
        why = (f"rules {', '.join(open_rules)} admit traffic that bypasses the edge" if open_rules
               else "the edge runs no WAF ruleset")
        report(f"load balancer {lb.name} is internet-facing with no WAF web ACL and no WAF-only edge in front: {why} "
               "(CKV2_AWS_28)", lb.urn)


waf_in_front = FloyoStackPolicy(
    "waf-in-front-of-public-lb",
    "Every internet-facing load balancer has an AWS WAF web ACL, or admits only the edge's ranges while the edge "
    "runs a WAF ruleset.",
    _waf, MANDATORY, HIGH, ["CKV2_AWS_28"])

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def _containers(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type != "aws:ecs/taskDefinition:TaskDefinition":
        return
    parsed = parse_json(args.props.get("containerDefinitions"))
    for c in parsed if isinstance(parsed, list) else []:
        if not isinstance(c, Mapping):
            continue
        image, name = str(c.get("image", "")), c.get("name")
        tag = image.rsplit("/", 1)[-1].partition(":")[2] if not DIGEST.search(image) else "digest"
        if tag in ("", "latest"):
            report(f"task definition {args.name}: container {name} runs {image}, a moving tag; pin a version or a "
                   "digest", None)
        if not c.get("readonlyRootFilesystem"):
            report(f"task definition {args.name}: container {name} has a writable root file system "
                   "(FSBP ECS.5, CKV_AWS_336)", None)
        if c.get("privileged"):
            report(f"task definition {args.name}: container {name} is privileged (FSBP ECS.4)", None)
        env = [e.get("name") for e in c.get("environment") or [] if isinstance(e, Mapping)
               and re.search(r"(PASSWORD|SECRET|TOKEN|_KEY)$", str(e.get("name", "")))]
        if env:
            report(f"task definition {args.name}: container {name} passes {', '.join(map(str, env))} as plain "
                   "environment; use `secrets` (FSBP ECS.8)", None)


container_hardening = FloyoResourcePolicy(
    "container-hardening",
    "Containers run pinned images (no :latest), read-only root file systems, unprivileged, with secrets from "
    "Secrets Manager rather than plain environment.",
    _containers, MANDATORY, HIGH, ["FSBP ECS.4", "FSBP ECS.5", "FSBP ECS.8", "CKV_AWS_336"])

POLICIES = [cmk_encryption, tls_in_transit, log_retention, secret_rotation, backups, s3_baseline, s3_versioning,
            waf_in_front, container_hardening]
