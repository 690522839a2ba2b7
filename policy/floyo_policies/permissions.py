"""Permissions match use: every grant a wiring needs exists, and no grant is wider than its use."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from ._core import (
    CRITICAL,
    HIGH,
    MANDATORY,
    FloyoResourcePolicy,
    FloyoStackPolicy,
    Statement,
    allow_statements,
    label,
    missing_grants,
    of_type,
    parse_json,
    referenced,
    role_by_arn,
    role_statements,
    strings,
)

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SECRET = "aws:secretsmanager/secret:Secret"
ECR_IMAGE = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
                       r"(?P<repo>[a-z0-9._/-]+?)(?:[:@].*)?$")
PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def ecr_repository_arn(image: str, partition: str = "aws") -> str | None:
    """`123456789012.dkr.ecr.us-east-1.amazonaws.com/floyo-backend@sha256:…` ->
    `arn:aws:ecr:us-east-1:123456789012:repository/floyo-backend`; None for a non-ECR image."""
    m = ECR_IMAGE.match(image)
    return f"arn:{partition}:ecr:{m['region']}:{m['account']}:repository/{m['repo']}" if m else None


def secret_arn(value_from: str) -> str:
    """An ECS `valueFrom` without its `:json-key:version-stage:version-id` tail (the IAM resource)."""
    parts = value_from.split(":")
    return ":".join(parts[:7]) if len(parts) > 7 and parts[2] == "secretsmanager" else value_from


def _secret_resource(arn: str, secrets: list[PolicyResource]) -> PolicyResource | None:
    return next((s for s in secrets if s.props.get("arn") == arn), None)


def _key_grant_missing(statements: list[Statement], secret: PolicyResource | None,
                       keys: list[PolicyResource]) -> str | None:
    """The CMK a declared secret is encrypted with, when the role may not kms:Decrypt with it."""
    if secret is None or not secret.props.get("kmsKeyId"):
        return None  # not declared here, or the AWS managed key (no grant needed)
    key_arn = str(secret.props["kmsKeyId"])
    declared = referenced(secret, "kmsKeyId", keys)
    arns = {key_arn} | {str(k.props.get("arn")) for k in declared if k.props.get("arn")}
    if all(missing_grants(statements, "kms:Decrypt", a) for a in arns):
        return declared[0].name if declared else key_arn
    return None


def _containers(task: PolicyResource) -> list[Mapping[str, Any]]:
    parsed = parse_json(task.props.get("containerDefinitions"))
    return [c for c in parsed if isinstance(c, Mapping)] if isinstance(parsed, list) else []


def _execution_role_uses(args: StackValidationArgs, report: ReportViolation) -> None:
    secrets, keys = of_type(args.resources, SECRET), of_type(args.resources, "aws:kms/key:Key")
    for task in of_type(args.resources, TASK_DEFINITION):
        role = role_by_arn(task, "executionRoleArn", args.resources)
        if role is None:
            report(f"task definition {task.name}: its execution role is not declared in this stack, so what it may "
                   "pull and read cannot be checked", task.urn)
            continue
        statements = role_statements(role, args.resources)
        for container in _containers(task):
            image = str(container.get("image", ""))
            repo = ecr_repository_arn(image)
            if repo and (any(missing_grants(statements, a, repo) for a in PULL_ACTIONS)
                         or missing_grants(statements, "ecr:GetAuthorizationToken", "*")):
                report(f"task definition {task.name}: container {container.get('name')} runs {image}, but execution role "
                       f"{role.name} may not pull {repo} (needs {', '.join(PULL_ACTIONS)} on it and "
                       "ecr:GetAuthorizationToken): CannotPullContainerError", task.urn)
            for ref in container.get("secrets") or []:  # type: ignore[union-attr]
                if not isinstance(ref, Mapping):
                    continue
                value_from = str(ref.get("valueFrom", ""))
                arn = secret_arn(value_from)
                action = "secretsmanager:GetSecretValue" if ":secretsmanager:" in arn else "ssm:GetParameters"
                if missing_grants(statements, action, arn):
                    report(f"task definition {task.name}: secret {ref.get('name')} comes from {arn}, but execution role "
                           f"{role.name} lacks {action} on it", task.urn)
                key = _key_grant_missing(statements, _secret_resource(arn, secrets), keys)
                if key:
                    report(f"task definition {task.name}: secret {ref.get('name')} is encrypted with key {key}, but "
                           f"execution role {role.name} lacks kms:Decrypt on it", task.urn)


execution_role_uses = FloyoStackPolicy(
    "execution-role-covers-task",
    "A task's execution role can pull every ECR image its containers name (repository derived from the image URI) "
    "and read every secret they reference, with kms:Decrypt on each secret's customer-managed key.",
    _execution_role_uses, MANDATORY, CRITICAL, ["ECS task execution IAM role", "CDK grantPull/grantRead"])


def _proxy_role_reads_secrets(args: StackValidationArgs, report: ReportViolation) -> None:
    secrets, keys = of_type(args.resources, SECRET), of_type(args.resources, "aws:kms/key:Key")
    clusters = of_type(args.resources, "aws:rds/cluster:Cluster")
    for proxy in of_type(args.resources, "aws:rds/proxy:Proxy"):
        role = role_by_arn(proxy, "roleArn", args.resources)
        if role is None:
            report(f"RDS proxy {proxy.name}: its role is not declared in this stack", proxy.urn)
            continue
        statements = role_statements(role, args.resources)
        for auth in proxy.props.get("auths") or []:
            arn = str(auth.get("secretArn", "")) if isinstance(auth, Mapping) else ""
            if not arn:
                continue
            if missing_grants(statements, "secretsmanager:GetSecretValue", arn):
                report(f"RDS proxy {proxy.name}: role {role.name} lacks secretsmanager:GetSecretValue on auth secret "
                       f"{arn}", proxy.urn)
            secret = _secret_resource(arn, secrets)
            if secret is None:  # the RDS-managed master secret: its key is the cluster's
                owner = next((c for c in clusters if arn in strings(
                    [s.get("secretArn") for s in c.props.get("masterUserSecrets") or [] if isinstance(s, Mapping)])), None)
                secret = owner and PolicyResource(owner.resource_type, {"kmsKeyId": owner.props.get(
                    "masterUserSecretKmsKeyId")}, owner.urn, owner.name, owner.opts, None, None, [],
                    {"kmsKeyId": owner.property_dependencies.get("masterUserSecretKmsKeyId", [])})
            key = _key_grant_missing(statements, secret, keys)
            if key:
                report(f"RDS proxy {proxy.name}: auth secret {arn} is encrypted with key {key}, but role {role.name} "
                       "lacks kms:Decrypt on it", proxy.urn)


proxy_role_reads_secrets = FloyoStackPolicy(
    "proxy-role-reads-auth-secrets",
    "An RDS proxy's role can read each auth secret and decrypt it with the secret's customer-managed key.",
    _proxy_role_reads_secrets, MANDATORY, CRITICAL, ["RDS Proxy IAM role for Secrets Manager"])

KEY_USERS: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    # resource type -> (key input, what uses it, service principal that must be allowed, actions it needs)
    "aws:cloudwatch/logGroup:LogGroup": ("kmsKeyId", "CloudWatch Logs", "logs.{region}.amazonaws.com",
                                         ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey")),
    "aws:sns/topic:Topic": ("kmsMasterKeyId", "alarms publishing to the topic", "cloudwatch.amazonaws.com",
                            ("kms:Decrypt", "kms:GenerateDataKey")),
}
IAM_DELEGATED = ("aws:secretsmanager/secret:Secret", "aws:rds/cluster:Cluster", "aws:ecr/repository:Repository",
                 "aws:elasticache/replicationGroup:ReplicationGroup")
"""Services that use a key through the caller's IAM permissions (kms:ViaService grants): the key policy
must delegate to the account's IAM (root principal) for them."""


def _key_statements(key: PolicyResource) -> dict[str, list[Statement]]:
    """Key policy statements grouped by principal ("Service:x", "AWS:y")."""
    doc = parse_json(key.props.get("policy"))
    found: dict[str, list[Statement]] = {}
    if not isinstance(doc, Mapping):
        return found
    raw = doc.get("Statement", [])
    for st in raw if isinstance(raw, list) else [raw]:
        principal = st.get("Principal") if isinstance(st, Mapping) else None
        if not isinstance(principal, Mapping):
            continue
        for kind, who in principal.items():
            for p in strings(who):
                found.setdefault(f"{kind}:{p}", []).extend(allow_statements({"Statement": [st]}, f"{kind}:{p}"))
    return found


def _key_policies_allow_users(args: StackValidationArgs, report: ReportViolation) -> None:
    keys = of_type(args.resources, "aws:kms/key:Key")
    for user in args.resources:
        spec = KEY_USERS.get(user.resource_type)
        key_input = spec[0] if spec else "kmsKeyId" if user.resource_type in IAM_DELEGATED else None
        if key_input is None or not user.props.get(key_input):
            continue
        for key in referenced(user, key_input, keys):
            by_principal = _key_statements(key)
            if spec:
                _, who, principal, actions = spec
                service = principal.format(region="*")
                statements = [s for p, st in by_principal.items() if fnmatch.fnmatchcase(p, f"Service:{service}")
                              for s in st]
                missing = [a for a in actions if not any(s.allows(a, "*") for s in statements)]
                if missing:
                    report(f"key {key.name}: {label(user)} encrypts with it, but the key policy does not let {who} "
                           f"({service}) use it: missing {', '.join(missing)}", key.urn)
            elif not any(p.startswith("AWS:") and p.endswith(":root") and any(s.allows("kms:Decrypt", "*") for s in st)
                         for p, st in by_principal.items()):
                report(f"key {key.name}: {label(user)} uses it through IAM, but the key policy does not delegate to "
                       "the account's IAM policies (root principal)", key.urn)


key_policies_allow_users = FloyoStackPolicy(
    "key-policy-allows-users",
    "Each KMS key policy lets the services that use the key use it: CloudWatch Logs for log groups, CloudWatch "
    "for alarm topics, and IAM delegation for Secrets Manager, RDS, ECR and ElastiCache.",
    _key_policies_allow_users, MANDATORY, HIGH, ["FSBP KMS.1/KMS.2 (key policies)", "CKV_AWS_33"])

STAR_ONLY_ACTIONS = {
    # Actions with no resource-level permissions (Service Authorization Reference: "Resource types" empty),
    # so "*" is the only resource they can name.
    "ecr:getauthorizationtoken", "xray:puttracesegments", "xray:puttelemetryrecords", "xray:getsamplingrules",
    "xray:getsamplingtargets", "xray:getsamplingstatisticsummaries", "cloudwatch:putmetricdata",
    "cloudwatch:getmetricdata", "cloudwatch:listmetrics", "logs:describeloggroups", "ec2:describe*",
    "ssm:describeinstanceinformation", "ssmmessages:*", "ec2messages:*", "sts:getcalleridentity",
    "rds:describedbclusters", "rds:describedbinstances", "elasticloadbalancing:describe*",
    # ECS: only these; DescribeTasks/DescribeServices/DescribeClusters, ListTagsForResource, ListServices and
    # ListContainerInstances name a task, service or cluster (Service Authorization Reference, Amazon ECS)
    "ecs:describetaskdefinition", "ecs:listclusters", "ecs:listtaskdefinitions", "ecs:listtaskdefinitionfamilies",
    "ecs:listaccountsettings",
    # its one resource type is container-instance, which Fargate tasks have none of: grants narrow it by the
    # ecs:cluster condition instead (components/fault_injection.py)
    "ecs:listtasks",
    "tag:getresources", "kms:listaliases", "s3:listallmybuckets",
    # vended-log delivery (FIS experiment logging): "*" only in the CloudWatch Logs reference
    "logs:createlogdelivery", "logs:putresourcepolicy", "logs:describeresourcepolicies",
}
"""Entries ending in `*` cover every action they match (`ec2:describe*` covers `ec2:DescribeSubnets`)."""
POLICY_DOCUMENTS = {
    "aws:iam/rolePolicy:RolePolicy": "policy", "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy", "aws:iam/groupPolicy:GroupPolicy": "policy",
}


def _no_star(args: ResourceValidationArgs, report: ReportViolation) -> None:
    documents = [args.props.get(POLICY_DOCUMENTS[args.resource_type])] if args.resource_type in POLICY_DOCUMENTS else []
    if args.resource_type == "aws:iam/role:Role":
        documents += [p.get("policy") for p in args.props.get("inlinePolicies") or [] if isinstance(p, Mapping)]
    for document in documents:
        for st in allow_statements(document, args.name):
            if "*" not in st.resources:
                continue
            wide = [a for a in st.actions if not any(fnmatch.fnmatchcase(a.lower(), p) for p in STAR_ONLY_ACTIONS)]
            if wide:
                report(f"{label(args)}: grants {', '.join(wide)} on \"*\"; name the resource ARNs "
                       "(only actions without resource-level permissions may use \"*\")", None)


no_star_resources = FloyoResourcePolicy(
    "no-wildcard-resources",
    "No IAM statement grants an action on \"*\" when the action supports resource ARNs.",
    _no_star, MANDATORY, HIGH, ["FSBP IAM.21", "CKV_AWS_290", "CKV_AWS_355"])

POLICIES = [execution_role_uses, proxy_role_reads_secrets, key_policies_allow_users, no_star_resources]
