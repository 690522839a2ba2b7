"""The policy pack (policy/): each policy fails its violating fixture with its message and passes its
passing fixture; the pack's config (exceptions) is honoured and checked for staleness."""

from __future__ import annotations

import json

import pytest
from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

from policy.floyo_policies import (
    FAMILIES,
    POLICIES,
    AcceptedException,
    PackConfig,
    PackConfigError,
    parse_config,
)
from tests.policy_fixtures import INGRESS, allow, check, group, messages, policy_doc, res, rule

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/floyo-backend@sha256:" + "a" * 64


def test_every_policy_is_described_with_level_and_severity() -> None:
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))
    for p in POLICIES:
        assert isinstance(p, ResourceValidationPolicy | StackValidationPolicy)
        assert p.description and p.severity is not None
        assert p.enforcement_level in (EnforcementLevel.MANDATORY, EnforcementLevel.ADVISORY)
    assert {"quotas and hard limits", "permissions match use", "network paths", "replacement safety",
            "security baseline"} <= set(FAMILIES)


# --- quotas ---------------------------------------------------------------------------------------------------
def _edge(max_entries: int, ports: tuple[int, ...]) -> list:
    lb = group("sg-lb")
    plist = res("aws:ec2/managedPrefixList:ManagedPrefixList", "sg-edge",
                {"maxEntries": float(max_entries), "addressFamily": "IPv4", "entries": []})
    rules = [res(INGRESS, f"sg-edge-{p}", {"ipProtocol": "tcp", "fromPort": float(p), "toPort": float(p)},
                 refs={"securityGroupId": [lb], "prefixListId": [plist]}) for p in ports]
    return [lb, plist, *rules]


def test_prefix_list_rules_weigh_max_entries_against_the_quota() -> None:
    found = messages(check(*_edge(40, (443, 80)), policy="security-group-rule-quota"), "security-group-rule-quota")
    assert len(found) == 2
    assert "security group sg-lb: 80 IPv4 ingress rules against a quota of 60; rule sg-edge-443 counts 40" in found[0]
    assert "rule sg-edge-80 counts 40" in found[1]


def test_one_prefix_list_rule_sized_to_the_published_ranges_fits() -> None:
    assert not check(*_edge(20, (443,)), policy="security-group-rule-quota").findings
    assert not check(*_edge(30, (443, 80)), policy="security-group-rule-quota").findings  # 60 is allowed


def _template(*conditions: dict[str, str]):
    return res("aws:fis/experimentTemplate:ExperimentTemplate", "drill", {"stopConditions": list(conditions)})


def test_fis_templates_stop_on_one_to_five_alarms() -> None:
    alarm = {"source": "aws:cloudwatch:alarm", "value": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:x"}
    assert not check(_template(alarm), policy="fis-stop-conditions").findings
    unstoppable = messages(check(_template({"source": "none"}), policy="fis-stop-conditions"), "fis-stop-conditions")
    assert "every stop condition must be a CloudWatch alarm" in unstoppable[0]
    assert "6 stop conditions; FIS allows 5" in messages(
        check(_template(*[alarm] * 6), policy="fis-stop-conditions"), "fis-stop-conditions")[0]


def _alarm(metrics: int, expressions: int = 1, actions: int = 1):
    queries = [{"id": f"m{i}", "metric": {"metricName": "CacheHits", "namespace": "AWS/ElastiCache"}}
               for i in range(metrics)] + [{"id": f"e{i}", "expression": "m0"} for i in range(expressions)]
    return res("aws:cloudwatch/metricAlarm:MetricAlarm", "cache-hit-rate",
               {"metricQueries": queries, "alarmActions": [f"arn:aws:sns:x:{i}" for i in range(actions)]})


def test_metric_math_alarm_reads_at_most_ten_metrics() -> None:
    found = messages(check(_alarm(12), policy="metric-alarm-limits"), "metric-alarm-limits")
    assert found == ["alarm cache-hit-rate: its metric math reads 12 metrics; CloudWatch allows at most 10 "
                     "(hard limit): split it or use a Metrics Insights query"]
    assert "6 alarmActions; at most 5" in messages(check(_alarm(2, actions=6), policy="metric-alarm-limits"),
                                                   "metric-alarm-limits")[0]
    assert not check(_alarm(10), policy="metric-alarm-limits").findings


def test_dashboard_and_composite_alarm_sizes() -> None:
    big = res("aws:cloudwatch/dashboard:Dashboard", "ops", {"dashboardBody": json.dumps(
        {"widgets": [{"type": "metric", "properties": {"metrics": [["A", "B"]]}}] * 501})})
    small = res("aws:cloudwatch/dashboard:Dashboard", "ops", {"dashboardBody": json.dumps({"widgets": []})})
    rule_text = res("aws:cloudwatch/compositeAlarm:CompositeAlarm", "any", {"alarmRule": "ALARM(a) OR " * 1000})
    assert messages(check(big, policy="alarm-and-dashboard-sizes"), "alarm-and-dashboard-sizes") == [
        "dashboard ops: 501 widgets; at most 500"]
    assert "alarm rule of 12000 characters; at most 10240" in messages(
        check(rule_text, policy="alarm-and-dashboard-sizes"), "alarm-and-dashboard-sizes")[0]
    assert not check(small, policy="alarm-and-dashboard-sizes").findings


def test_listener_rules_per_load_balancer() -> None:
    listener = res("aws:lb/listener:Listener", "https", {"protocol": "HTTPS"})
    rules = [res("aws:lb/listenerRule:ListenerRule", f"r{i}", {"priority": float(i)}, refs={"listenerArn": [listener]})
             for i in range(101)]
    assert "listener https: 101 rules" in messages(check(listener, *rules, policy="alb-listener-rules"),
                                                   "alb-listener-rules")[0]
    assert not check(listener, *rules[:100], policy="alb-listener-rules").findings


def test_cloudflare_rules_per_phase_follow_the_plan() -> None:
    def ruleset(n: int, phase: str = "http_ratelimit", name: str = "rl"):
        return res("cloudflare:index/ruleset:Ruleset", name, {"zoneId": "z", "kind": "zone", "phase": phase,
                                                              "rules": [{"expression": "true"}] * n})
    assert messages(check(ruleset(3), policy="cloudflare-rules-per-phase"), "cloudflare-rules-per-phase") == [
        "ruleset rl: 3 rules in phase http_ratelimit; the pro plan allows 2"]
    assert "a second zone entry-point ruleset for phase http_ratelimit" in messages(
        check(ruleset(1), ruleset(1, name="rl2"), policy="cloudflare-rules-per-phase"), "cloudflare-rules-per-phase")[0]
    assert not check(ruleset(2), policy="cloudflare-rules-per-phase").findings


# --- permissions -------------------------------------------------------------------------------------------
def _task(repo_resource: str, secret_actions: bool = True, decrypt: bool = True):
    key = res("aws:kms/key:Key", "data-key", outputs={"arn": "arn:aws:kms:us-east-1:123456789012:key/k1"})
    secret = res("aws:secretsmanager/secret:Secret", "db-login", {"kmsKeyId": "arn:aws:kms:us-east-1:123456789012:key/k1"},
                 refs={"kmsKeyId": [key]}, outputs={"arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC"})
    role = res(ROLE, "backend-execution", outputs={"arn": "arn:aws:iam::123456789012:role/backend-execution"})
    statements = [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                  {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                   "Resource": repo_resource}]
    if secret_actions:
        statements.append({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                           "Resource": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC"})
    if decrypt:
        statements.append({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:123456789012:key/k1"})
    grant = res(ROLE_POLICY, "backend-execution", {"policy": policy_doc(*statements)}, refs={"role": [role]})
    containers = [{"name": "backend", "image": IMAGE, "secrets": [
        {"name": "DB", "valueFrom": "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC:password::"}]}]
    task = res(TASK, "backend-task", {"containerDefinitions": json.dumps(containers)}, refs={"executionRoleArn": [role]})
    return [key, secret, role, grant, task]


def test_execution_role_must_pull_the_repository_the_image_names() -> None:
    found = messages(check(*_task("arn:aws:ecr:us-east-1:123456789012:repository/backend-repo-57efba9"),
                           policy="execution-role-covers-task"), "execution-role-covers-task")
    assert len(found) == 1
    assert ("container backend runs " + IMAGE + ", but execution role backend-execution may not pull "
            "arn:aws:ecr:us-east-1:123456789012:repository/floyo-backend") in found[0]
    assert not check(*_task("arn:aws:ecr:us-east-1:123456789012:repository/floyo-backend"),
                     policy="execution-role-covers-task").findings


def test_execution_role_must_read_and_decrypt_every_secret() -> None:
    repo = "arn:aws:ecr:us-east-1:123456789012:repository/floyo-backend"
    found = messages(check(*_task(repo, secret_actions=False, decrypt=False), policy="execution-role-covers-task"),
                     "execution-role-covers-task")
    assert any("lacks secretsmanager:GetSecretValue on it" in m and "secret:db-AbC" in m for m in found)
    assert any("is encrypted with key data-key, but execution role backend-execution lacks kms:Decrypt" in m for m in found)


def test_proxy_role_reads_and_decrypts_its_auth_secrets() -> None:
    key, secret, role, _, _ = _task("*")
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbC"
    proxy = res("aws:rds/proxy:Proxy", "db-proxy", {"auths": [{"secretArn": arn}]}, refs={"roleArn": [role]})
    read_only = res(ROLE_POLICY, "db-proxy", {"policy": policy_doc(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [arn]})}, refs={"role": [role]})
    found = messages(check(key, secret, role, read_only, proxy, policy="proxy-role-reads-auth-secrets"),
                     "proxy-role-reads-auth-secrets")
    assert found == [f"RDS proxy db-proxy: auth secret {arn} is encrypted with key data-key, but role backend-execution "
                     "lacks kms:Decrypt on it"]
    both = res(ROLE_POLICY, "db-proxy", {"policy": policy_doc(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [arn]},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:123456789012:key/k1"})},
        refs={"role": [role]})
    assert not check(key, secret, role, both, proxy, policy="proxy-role-reads-auth-secrets").findings


def test_key_policy_lets_cloudwatch_logs_use_the_logs_key() -> None:
    root = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}
    logs = {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"], "Resource": "*"}
    bare = res("aws:kms/key:Key", "logs-key", {"policy": policy_doc(root)})
    good = res("aws:kms/key:Key", "logs-key", {"policy": policy_doc(root, logs)})
    for key, expected in ((bare, 1), (good, 0)):
        group_ = res("aws:cloudwatch/logGroup:LogGroup", "backend-logs", {"retentionInDays": 14.0}, refs={"kmsKeyId": [key]})
        found = messages(check(key, group_, policy="key-policy-allows-users"), "key-policy-allows-users")
        assert len(found) == expected
    assert "does not let CloudWatch Logs (logs.*.amazonaws.com) use it: missing kms:Encrypt, kms:Decrypt" in messages(
        check(bare, res("aws:cloudwatch/logGroup:LogGroup", "g", refs={"kmsKeyId": [bare]}),
              policy="key-policy-allows-users"), "key-policy-allows-users")[0]


def test_no_action_on_star_where_an_arn_exists() -> None:
    wide = res(ROLE_POLICY, "task", {"policy": policy_doc({"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"})})
    ok = res(ROLE_POLICY, "task", {"policy": policy_doc(
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "ecr:GetAuthorizationToken"], "Resource": "*"},
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "arn:aws:s3:::b/*"})})
    assert messages(check(wide, policy="no-wildcard-resources"), "no-wildcard-resources") == [
        'task (aws:iam/rolePolicy:RolePolicy): grants s3:GetObject on "*"; name the resource ARNs '
        '(only actions without resource-level permissions may use "*")']
    assert not check(ok, policy="no-wildcard-resources").findings
    describe = res(ROLE_POLICY, "fis", {"policy": policy_doc(  # `ec2:describe*` covers each Describe action
        {"Effect": "Allow", "Action": ["ec2:DescribeSubnets", "ec2:CreateNetworkAcl"], "Resource": "*"})})
    assert messages(check(describe, policy="no-wildcard-resources"), "no-wildcard-resources") == [
        'fis (aws:iam/rolePolicy:RolePolicy): grants ec2:CreateNetworkAcl on "*"; name the resource ARNs '
        '(only actions without resource-level permissions may use "*")']
    ecs = res(ROLE_POLICY, "fis", {"policy": policy_doc(  # ECS actions with resource ARNs match no pattern
        {"Effect": "Allow", "Action": ["ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeServices",
                                       "ecs:ListTagsForResource"], "Resource": "*"})})
    assert messages(check(ecs, policy="no-wildcard-resources"), "no-wildcard-resources") == [
        'fis (aws:iam/rolePolicy:RolePolicy): grants ecs:DescribeTasks, ecs:DescribeServices, '
        'ecs:ListTagsForResource on "*"; name the resource ARNs (only actions without resource-level permissions '
        'may use "*")']


# --- network -----------------------------------------------------------------------------------------------
def _tiers(with_host_rule: bool):
    service, proxy_sg, db_sg, cache_sg, host_sg = (group(n) for n in ("sg-service", "sg-proxy", "sg-database",
                                                                       "sg-cache", "sg-access"))
    svc = res("aws:ecs/service:Service", "backend-service", {"networkConfiguration": {"securityGroups": [service.id]}},
              refs={"networkConfiguration": [service]})
    proxy = res("aws:rds/proxy:Proxy", "db-proxy", refs={"vpcSecurityGroupIds": [proxy_sg]})
    cluster = res("aws:rds/cluster:Cluster", "db-cluster", {"port": 5432.0}, refs={"vpcSecurityGroupIds": [db_sg]})
    cache = res("aws:elasticache/replicationGroup:ReplicationGroup", "cache", refs={"securityGroupIds": [cache_sg]})
    host = res("aws:ec2/instance:Instance", "db-access", refs={"vpcSecurityGroupIds": [host_sg]})
    provider = res("pulumi:providers:postgresql", "dbo-admin", {"port": "5432", "sslmode": "require"},
                   depends_on=[cluster])
    rules = (allow("service-to-proxy", service, proxy_sg, 5432) + allow("proxy-to-db", proxy_sg, db_sg, 5432)
             + allow("service-to-cache", service, cache_sg, 6379))
    if with_host_rule:
        rules += allow("access-to-db", host_sg, db_sg, 5432)
    return [service, proxy_sg, db_sg, cache_sg, host_sg, svc, proxy, cluster, cache, host, provider, *rules]


def test_every_designed_path_has_rules_naming_the_peer() -> None:
    assert not check(*_tiers(True), policy="required-network-paths").findings
    broken = [r for r in _tiers(True) if r.name != "proxy-to-db-in"]
    assert messages(check(*broken, policy="required-network-paths"), "required-network-paths") == [
        "network path proxy to database: db-proxy cannot reach db-cluster on 5432: no ingress rule on the target's "
        "group naming the source's group"]


def test_the_deploy_needs_an_in_vpc_path_to_the_database() -> None:
    found = messages(check(*_tiers(False), policy="required-network-paths"), "required-network-paths")
    assert len(found) == 1
    assert found[0].startswith("network path deploy to database: provider dbo-admin connects to db-cluster on 5432")
    assert found[0].endswith("the group admits only sg-proxy")


def test_no_data_store_from_a_range_and_no_world_ingress_but_the_edge() -> None:
    tiers = _tiers(True)
    db_sg = next(r for r in tiers if r.name == "sg-database")
    lb_sg = group("sg-lb")
    lb = res("aws:lb/loadBalancer:LoadBalancer", "api-alb", {"internal": False}, refs={"securityGroups": [lb_sg]})
    edge = rule(INGRESS, "edge-https", lb_sg, port=443, cidrIpv4="0.0.0.0/0")
    assert not check(*tiers, lb_sg, lb, edge, policy="no-range-ingress-to-data-or-world").findings
    vpn = rule(INGRESS, "db-from-vpn", db_sg, port=5432, cidrIpv4="10.8.0.0/16")
    world = rule(INGRESS, "db-from-world", db_sg, port=5432, cidrIpv4="0.0.0.0/0")
    found = messages(check(*tiers, lb_sg, lb, edge, vpn, world, policy="no-range-ingress-to-data-or-world"),
                     "no-range-ingress-to-data-or-world")
    assert ("rule db-from-vpn: data store group sg-database admits an address range (10.8.0.0/16); data stores "
            "admit only named peer groups") in found
    assert ("rule db-from-world: ingress from 0.0.0.0/0 into sg-database, which is not the internet-facing load "
            "balancer") in found


# --- ordering ------------------------------------------------------------------------------------------------
def test_ordering_aws_needs() -> None:
    bucket = res("aws:s3/bucket:Bucket", "logs")
    bucket_policy = res("aws:s3/bucketPolicy:BucketPolicy", "logs", refs={"bucket": [bucket]})
    lb_early = res("aws:lb/loadBalancer:LoadBalancer", "api-alb", {"accessLogs": {"enabled": True, "bucket": "logs-id"}},
                   refs={"accessLogs": [bucket]})
    lb_after = res("aws:lb/loadBalancer:LoadBalancer", "api-alb", {"accessLogs": {"enabled": True, "bucket": "logs-id"}},
                   refs={"accessLogs": [bucket]}, depends_on=[bucket_policy])
    assert messages(check(bucket, bucket_policy, lb_early, policy="ordering-aws-needs"), "ordering-aws-needs") == [
        "load balancer api-alb enables access logs before its bucket's policy exists: ELB checks it can write there "
        "at create time (Access Denied for bucket); depend on the bucket policy"]
    assert not check(bucket, bucket_policy, lb_after, policy="ordering-aws-needs").findings


def test_app_container_waits_for_its_sidecars() -> None:
    def task(depends: list[dict[str, str]]):
        return res(TASK, "backend-task", {"containerDefinitions": json.dumps([
            {"name": "backend", "portMappings": [{"containerPort": 8000}], "dependsOn": depends},
            {"name": "otel-collector"}])})
    service = lambda t: res("aws:ecs/service:Service", "svc", refs={"taskDefinition": [t]})  # noqa: E731
    late = task([])
    assert messages(check(late, service(late), policy="ordering-aws-needs"), "ordering-aws-needs") == [
        "task definition backend-task: container backend starts without waiting for otel-collector "
        "(dependsOn START or HEALTHY)"]
    ordered = task([{"containerName": "otel-collector", "condition": "START"}])
    assert not check(ordered, service(ordered), policy="ordering-aws-needs").findings


# --- replacement safety -----------------------------------------------------------------------------------------
def test_fixed_name_with_replace_forcing_input_needs_delete_before_replace() -> None:
    inputs = {"name": "floyo-dev", "vpcSubnetIds": ["subnet-a"], "engineFamily": "POSTGRESQL"}
    proxy = res("aws:rds/proxy:Proxy", "db-proxy", inputs)
    assert messages(check(proxy, policy="fixed-name-replacement"), "fixed-name-replacement") == [
        "db-proxy (aws:rds/proxy:Proxy): fixed name 'floyo-dev' with replace-forcing inputs (vpcSubnetIds, "
        "engineFamily); Pulumi creates the replacement first and it would collide on the name. Set "
        "delete_before_replace (and document the outage), use a name that can coexist, or protect it"]
    assert not check(res("aws:rds/proxy:Proxy", "db-proxy", inputs, delete_before_replace=True),
                     policy="fixed-name-replacement").findings


def test_prod_protects_stateful_resources_and_dev_is_not_applicable() -> None:
    def cluster(stack: str, protect: bool):
        return res("aws:rds/cluster:Cluster", "db-cluster", stack=stack, protect=protect)
    assert messages(check(cluster("prod", False), stack="prod", policy="prod-stateful-protected"),
                    "prod-stateful-protected") == [
        "db-cluster (aws:rds/cluster:Cluster) holds data in a production stack but is not `protect`ed: "
        "`pulumi destroy` or a replacement would delete it"]
    assert not check(cluster("prod", True), stack="prod", policy="prod-stateful-protected").findings
    dev = check(cluster("dev", False), policy="prod-stateful-protected")
    assert not dev.findings and "not a production stack" in dev.not_applicable["prod-stateful-protected"]


# --- security baseline ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("token", "bad", "good", "expected"), [
    ("aws:cloudwatch/logGroup:LogGroup", {}, {"kmsKeyId": "arn:k"}, "set kmsKeyId (CKV_AWS_158)"),
    ("aws:sns/topic:Topic", {}, {"kmsMasterKeyId": "arn:k"}, "kmsMasterKeyId (FSBP SNS.1, CKV_AWS_26)"),
    ("aws:kms/key:Key", {"enableKeyRotation": False}, {"enableKeyRotation": True}, "enableKeyRotation (FSBP KMS.4"),
    ("aws:rds/cluster:Cluster", {"storageEncrypted": True}, {"storageEncrypted": True, "kmsKeyId": "arn:k"},
     "storageEncrypted with a kmsKeyId (FSBP RDS.27"),
])
def test_cmk_encryption(token: str, bad: dict, good: dict, expected: str) -> None:
    assert expected in messages(check(res(token, "x", bad), policy="cmk-encryption-at-rest"), "cmk-encryption-at-rest")[0]
    assert not check(res(token, "x", good), policy="cmk-encryption-at-rest").findings


@pytest.mark.parametrize(("token", "bad", "good", "expected"), [
    ("aws:elasticache/replicationGroup:ReplicationGroup", {"transitEncryptionEnabled": False},
     {"transitEncryptionEnabled": True}, "transitEncryptionEnabled is off (FSBP ElastiCache.5"),
    ("aws:rds/proxy:Proxy", {}, {"requireTls": True}, "requireTls is off"),
    ("aws:lb/listener:Listener", {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-2016-08"},
     {"protocol": "HTTPS", "sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}, "allows TLS below 1.2 (CKV_AWS_103)"),
    ("aws:lb/listener:Listener", {"protocol": "HTTP", "defaultActions": [{"type": "forward"}]},
     {"protocol": "HTTP", "defaultActions": [{"type": "redirect", "redirect": {"protocol": "HTTPS"}}]},
     "plain HTTP that does not redirect to HTTPS (FSBP ELB.1"),
    ("pulumi:providers:postgresql", {"sslmode": "disable"}, {"sslmode": "require"}, "sslmode 'disable'"),
])
def test_tls_in_transit(token: str, bad: dict, good: dict, expected: str) -> None:
    assert expected in messages(check(res(token, "x", bad), policy="tls-in-transit"), "tls-in-transit")[0]
    assert not check(res(token, "x", good), policy="tls-in-transit").findings


def test_log_retention_and_a_year_of_audit_logs_in_prod() -> None:
    def logs(name: str, days: float | None, stack: str = "prod"):
        return res("aws:cloudwatch/logGroup:LogGroup", "g", {"name": name} | ({"retentionInDays": days} if days else {}),
                   stack=stack)
    assert messages(check(logs("/floyo/prod/vpc-flow-logs", 90.0), stack="prod", policy="log-retention"),
                    "log-retention") == ["log group /floyo/prod/vpc-flow-logs: audit-relevant log kept 90 days in a "
                                         "production stack; keep at least 365 (CKV_AWS_338)"]
    assert "no retention" in messages(check(logs("/floyo/dev/backend", None, "dev"), policy="log-retention"),
                                      "log-retention")[0]
    assert not check(logs("/floyo/prod/vpc-flow-logs", 365.0), stack="prod", policy="log-retention").findings
    assert not check(logs("/floyo/prod/backend", 90.0), stack="prod", policy="log-retention").findings
    assert not check(logs("/floyo/dev/vpc-flow-logs", 14.0, "dev"), policy="log-retention").findings


def test_secrets_rotate_or_have_an_exception() -> None:
    secret = res("aws:secretsmanager/secret:Secret", "sentry-dsn")
    rotation = res("aws:secretsmanager/secretRotation:SecretRotation", "sentry-dsn", refs={"secretId": [secret]})
    assert messages(check(secret, policy="secrets-rotated"), "secrets-rotated") == [
        "secret sentry-dsn: no rotation (aws:secretsmanager/secretRotation); rotate it or record an exception with "
        "the reason in policy/config.yaml"]
    assert not check(secret, rotation, policy="secrets-rotated").findings


def test_backups_and_deletion_protection_in_prod() -> None:
    bad = res("aws:rds/cluster:Cluster", "db", {"backupRetentionPeriod": 1.0, "deletionProtection": False}, stack="prod")
    good = res("aws:rds/cluster:Cluster", "db", {"backupRetentionPeriod": 14.0, "deletionProtection": True},
               stack="prod")
    found = messages(check(bad, stack="prod", policy="backups-and-deletion-protection"), "backups-and-deletion-protection")
    assert found == ["db (aws:rds/cluster:Cluster): backupRetentionPeriod under 7 days (FSBP RDS.11)",
                     "db (aws:rds/cluster:Cluster): deletionProtection off (FSBP RDS.7, CKV_AWS_139)"]
    assert not check(good, stack="prod", policy="backups-and-deletion-protection").findings


def _bucket(complete: bool):
    bucket = res("aws:s3/bucket:Bucket", "logs")
    parts = [res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "logs", dict.fromkeys(
        ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"), True),
        refs={"bucket": [bucket]}),
        res("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "logs", refs={"bucket": [bucket]}),
        res("aws:s3/bucketPolicy:BucketPolicy", "logs", {"policy": '{"Condition": {"Bool": {"aws:SecureTransport": "false"}}}'},
            refs={"bucket": [bucket]}),
        res("aws:s3/bucketVersioning:BucketVersioning", "logs", {"versioningConfiguration": {"status": "Enabled"}},
            refs={"bucket": [bucket]})]
    return [bucket, *(parts if complete else [])]


def test_s3_public_access_block_lifecycle_tls_and_versioning() -> None:
    found = messages(check(*_bucket(False), policy="s3-bucket-baseline"), "s3-bucket-baseline")
    assert found == ["bucket logs: no public access block with all four settings on (FSBP S3.8, CKV2_AWS_6)",
                     "bucket logs: no lifecycle configuration (FSBP S3.13, CKV2_AWS_61)",
                     "bucket logs: its policy does not deny requests without TLS (FSBP S3.5)"]
    assert not check(*_bucket(True), policy="s3-bucket-baseline").findings
    versioning = check(*_bucket(False), policy="s3-versioning")
    assert [f.level for f in versioning.findings] == ["advisory"]
    assert not check(*_bucket(True), policy="s3-versioning").findings


def test_public_load_balancer_sits_behind_a_waf() -> None:
    lb_sg = group("sg-lb")
    lb = res("aws:lb/loadBalancer:LoadBalancer", "api-alb", {"internal": False}, refs={"securityGroups": [lb_sg]})
    open_rule = rule(INGRESS, "edge-https", lb_sg, port=443, cidrIpv4="0.0.0.0/0")
    assert messages(check(lb_sg, lb, open_rule, policy="waf-in-front-of-public-lb"), "waf-in-front-of-public-lb") == [
        "load balancer api-alb is internet-facing with no WAF web ACL and no WAF-only edge in front: rules edge-https "
        "admit traffic that bypasses the edge (CKV2_AWS_28)"]
    plist = res("aws:ec2/managedPrefixList:ManagedPrefixList", "edge", {"maxEntries": 20.0})
    edge_rule = res(INGRESS, "edge-443", {"ipProtocol": "tcp", "fromPort": 443.0, "toPort": 443.0},
                    refs={"securityGroupId": [lb_sg], "prefixListId": [plist]})
    waf = res("cloudflare:index/ruleset:Ruleset", "waf", {"phase": "http_request_firewall_managed", "rules": []})
    assert not check(lb_sg, lb, plist, edge_rule, waf, policy="waf-in-front-of-public-lb").findings
    association = res("aws:wafv2/webAclAssociation:WebAclAssociation", "acl", refs={"resourceArn": [lb]})
    assert not check(lb_sg, lb, open_rule, association, policy="waf-in-front-of-public-lb").findings


def test_containers_are_pinned_read_only_and_unprivileged() -> None:
    def task(**container: object):
        return res(TASK, "t", {"containerDefinitions": json.dumps([{"name": "app", **container}])})
    found = messages(check(task(image="nginx:latest", privileged=True, environment=[{"name": "DB_PASSWORD", "value": "x"}]),
                           policy="container-hardening"), "container-hardening")
    assert found == [
        "task definition t: container app runs nginx:latest, a moving tag; pin a version or a digest",
        "task definition t: container app has a writable root file system (FSBP ECS.5, CKV_AWS_336)",
        "task definition t: container app is privileged (FSBP ECS.4)",
        "task definition t: container app passes DB_PASSWORD as plain environment; use `secrets` (FSBP ECS.8)"]
    assert not check(task(image=IMAGE, readonlyRootFilesystem=True), policy="container-hardening").findings
    assert "a moving tag" in messages(check(task(image="nginx", readonlyRootFilesystem=True), policy="container-hardening"),
                                      "container-hardening")[0]


# --- exceptions ---------------------------------------------------------------------------------------------------
def test_an_exception_suppresses_only_what_it_names_and_a_stale_one_is_reported() -> None:
    secret = res("aws:secretsmanager/secret:Secret", "sentry-dsn")
    other = res("aws:secretsmanager/secret:Secret", "other")
    accepted = AcceptedException("secrets-rotated", ("aws:secretsmanager/secret:Secret::sentry-dsn",),
                                 "rotated by Sentry", ("dev",))
    config = PackConfig(exceptions=(accepted,))
    result = check(secret, other, config=config)
    assert [f.message for f in result.findings if f.policy == "secrets-rotated"] == [
        "secret other: no rotation (aws:secretsmanager/secretRotation); rotate it or record an exception with the "
        "reason in policy/config.yaml"]
    assert not [f for f in result.findings if f.policy == "exceptions-are-current"]
    stale = check(other, config=config)
    assert [f.message for f in stale.findings if f.policy == "exceptions-are-current"] == [
        "stale exception: secrets-rotated on aws:secretsmanager/secret:Secret::sentry-dsn matches no violation in "
        "stack dev; remove it from policy/config.yaml (reason was: rotated by Sentry)"]
    prod = check(res("aws:secretsmanager/secret:Secret", "sentry-dsn", stack="prod"), stack="prod", config=config)
    assert messages(prod, "secrets-rotated"), "an exception for dev must not cover prod"


def test_every_exception_needs_a_reason() -> None:
    with pytest.raises(PackConfigError, match=r"exceptions\[0\]: policy, a non-empty resources list and a reason"):
        parse_config({"exceptions": [{"policy": "secrets-rotated", "resources": ["x"]}]}, "config.yaml")
    with pytest.raises(PackConfigError, match="unknown keys"):
        parse_config({"exception": []}, "config.yaml")
    parsed = parse_config({"exceptions": [{"policy": "p", "resources": ["a::b"], "reason": "why", "stacks": ["dev"]}]})
    assert parsed.exceptions == (AcceptedException("p", ("a::b",), "why", ("dev",)),)


def test_committed_exceptions_all_have_reasons_and_name_real_policies() -> None:
    from policy.floyo_policies import pack_config

    names = {p.name for p in POLICIES}
    for e in pack_config().exceptions:
        assert e.policy in names and len(e.reason) > 40, e


