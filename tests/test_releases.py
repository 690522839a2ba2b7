"""Safe releases on the plan: gradual rollout with alarm rollback, the migrate task, the synthetic check."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from components.alarm_catalogue import ROLLBACK_ALARM_KEYS
from components.database_objects import MIGRATOR
from components.synthetic_check import SCRIPT, ZIP_ENTRY, package, schedule_expression
from ops.plan.planner import Plan
from stacks import SettingsError
from tests.planning import container_definitions, one, plan_with, settings_for, with_changes
from tests.tier_variants import DEV_RELAXED, PROD_LINEAR

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SERVICE = "aws:ecs/service:Service"
RULE = "aws:lb/listenerRule:ListenerRule"


def service(plan: Plan) -> dict[str, Any]:
    return one(plan, SERVICE).inputs


def alarm_names(plan: Plan) -> dict[str, str]:
    return {a.inputs["tags"]["floyo:alarm"]: a.inputs["name"] for a in plan.of_type(ALARM)}


# --- rollout strategy ------------------------------------------------------------------


def test_prod_rolls_out_gradually_with_a_bake_time(plan: Plan, stack: str) -> None:
    config = service(plan)["deploymentConfiguration"]
    if stack == "prod":
        assert config["strategy"] in ("CANARY", "LINEAR", "BLUE_GREEN")
        assert int(config["bakeTimeInMinutes"]) > 0
        canary = config["canaryConfiguration"]
        assert 0.1 <= canary["canaryPercent"] < 100 and int(canary["canaryBakeTimeInMinutes"]) > 0
    else:
        assert config["strategy"] == "ROLLING"
        assert "canaryConfiguration" not in config


def test_rollback_alarms_name_existing_paging_alarms(plan: Plan) -> None:
    block = service(plan)["alarms"]
    assert block["enable"] is True and block["rollback"] is True
    names = alarm_names(plan)
    assert sorted(block["alarmNames"]) == sorted(names[key] for key in ROLLBACK_ALARM_KEYS)
    assert {"backend-target-5xx-rate", "backend-latency-p99", "backend-unhealthy-hosts"} == set(ROLLBACK_ALARM_KEYS)


def test_gradual_release_shifts_between_two_equal_target_groups(plan: Plan, stack: str) -> None:
    groups = plan.of_type("aws:lb/targetGroup:TargetGroup")
    lb = service(plan)["loadBalancers"][0]
    if stack == "dev":
        assert len(groups) == 1 and "advancedConfiguration" not in lb and not plan.of_type(RULE)
        return
    assert len(groups) == 2
    strip = {"name", "arn"}
    first, second = ({k: v for k, v in g.inputs.items() if k not in strip} for g in groups)
    assert first == second and first["healthCheck"]["path"] == "/health" and first["deregistrationDelay"] >= 60
    advanced = lb["advancedConfiguration"]
    arns = {g.outputs["arn"] for g in groups}
    assert {lb["targetGroupArn"], advanced["alternateTargetGroupArn"]} == arns
    rules = {r.outputs["arn"]: r for r in plan.of_type(RULE)}
    production = rules[advanced["productionListenerRule"]]
    test = rules[advanced["testListenerRule"]]
    assert production.inputs["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
    assert "httpHeader" in test.inputs["conditions"][0]
    assert test.inputs["priority"] < production.inputs["priority"]
    for rule in (production, test):
        weights = {t["arn"]: t["weight"] for t in rule.inputs["actions"][0]["forward"]["targetGroups"]}
        assert weights == {lb["targetGroupArn"]: 100, advanced["alternateTargetGroupArn"]: 0}
        assert "actions" in rule.ignore_changes, "ECS rewrites the weights"
    role = next(r for r in plan.of_type("aws:iam/role:Role") if r.outputs["arn"] == advanced["roleArn"])
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "ecs.amazonaws.com"} and "aws:SourceAccount" in str(trust)
    attachment = one(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "api-ecs-traffic").inputs
    assert attachment["policyArn"].endswith(":iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers")


def test_rollback_alarms_read_both_target_groups_when_gradual(plan: Plan, stack: str) -> None:
    groups = {g.outputs["arn"].split(":")[-1] for g in plan.of_type("aws:lb/targetGroup:TargetGroup")}
    by_key = {a.inputs["tags"]["floyo:alarm"]: a.inputs for a in plan.of_type(ALARM)}
    for key in ROLLBACK_ALARM_KEYS:
        text = json.dumps(by_key[key])
        seen = {g for g in groups if g in text}
        assert seen == groups, (key, seen)


def test_service_waits_for_the_traffic_role_and_rules(plan: Plan, stack: str) -> None:
    svc = one(plan, SERVICE)
    deps = set(svc.dependencies)
    if stack == "prod":
        rules = {r.urn for r in plan.of_type(RULE)}
        attachment = one(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "api-ecs-traffic").urn
        assert rules | {attachment} <= deps
    timeouts = svc.custom_timeouts
    settings = settings_for(with_changes(stack)).backend.deployment
    assert timeouts["update"] == f"{30 + settings.rollout_minutes()}m"


# --- migrations ------------------------------------------------------------------------


def test_migrate_task_runs_the_service_image_with_the_migrator_login(plan: Plan, stack: str) -> None:
    app = container_definitions(plan)[0]
    migrate = container_definitions(plan, "backend-migrate")
    assert len(migrate) == 1
    (task,) = migrate
    assert task["image"] == app["image"] and "@sha256:" in task["image"]
    assert task["command"] == settings_for(with_changes(stack)).backend.migrate_command
    env = {e["name"]: e["value"] for e in task["environment"]}
    app_env = {e["name"]: e["value"] for e in app["environment"]}
    assert env["DATABASE_USER"] == MIGRATOR and app_env["DATABASE_USER"] != MIGRATOR  # by IAM token, as migrator
    assert env["DATABASE_HOST"] == app_env["DATABASE_HOST"] and env["DATABASE_AUTH"] == "iam"
    assert task["secrets"] == []
    options = task["logConfiguration"]["options"]
    assert options["awslogs-stream-prefix"] == "migrate" and options["awslogs-group"] == plan.outputs["backend_log_group"]


def test_only_the_migrate_task_role_connects_as_the_migrator(plan: Plan) -> None:
    migrate_task = one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-migrate-task").inputs["policy"]
    app_task = one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-task").inputs["policy"]
    assert migrate_task.count("dbuser:") == 1 and f"/{MIGRATOR}" in migrate_task and f"/{MIGRATOR}" not in app_task
    task = one(plan, "aws:ecs/taskDefinition:TaskDefinition", "backend-migrate").inputs
    assert task["taskRoleArn"] == one(plan, "aws:iam/role:Role", "backend-migrate-task").outputs["arn"]
    migrate_policy = one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-migrate-execution").inputs["policy"]
    app_policy = one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-execution").inputs["policy"]
    assert "secretsmanager:GetSecretValue" not in migrate_policy and "kms:Decrypt" not in migrate_policy
    pulls = [s for s in json.loads(migrate_policy)["Statement"] if s.get("Sid") == "PullImage"]
    app_pulls = [s for s in json.loads(app_policy)["Statement"] if s.get("Sid") == "PullImage"]
    assert pulls == app_pulls and pulls


def test_migrate_outputs_for_the_command(plan: Plan) -> None:
    task = one(plan, "aws:ecs/taskDefinition:TaskDefinition", "backend-migrate")
    assert plan.outputs["migrate_task_definition_arn"] == task.outputs["arn"]
    assert plan.outputs["service_security_group_id"] == service(plan)["networkConfiguration"]["securityGroups"][0]
    assert sorted(plan.outputs["private_subnet_ids"]) == sorted(service(plan)["networkConfiguration"]["subnets"])


# --- synthetic check -------------------------------------------------------------------


def test_canary_alarm_joins_the_composite(plan: Plan) -> None:
    names = alarm_names(plan)
    rule = one(plan, "aws:cloudwatch/compositeAlarm:CompositeAlarm", "alarms-service-down").inputs["alarmRule"]
    assert f'ALARM("{names["edge-synthetic-check-failing"]}")' in rule
    alarm = next(a.inputs for a in plan.of_type(ALARM) if a.inputs["tags"]["floyo:alarm"] == "edge-synthetic-check-failing")
    canary = one(plan, "aws:synthetics/canary:Canary").inputs
    assert alarm["namespace"] == "CloudWatchSynthetics" and alarm["metricName"] == "SuccessPercent"
    assert alarm["dimensions"] == {"CanaryName": canary["name"]}
    assert plan.outputs["synthetics_canary_name"] == canary["name"]


def test_canary_calls_health_api_and_websocket_through_the_edge(plan: Plan, stack: str) -> None:
    settings = settings_for(with_changes(stack))
    canary = one(plan, "aws:synthetics/canary:Canary").inputs
    env = canary["runConfig"]["environmentVariables"]
    assert env == {"API_HOST": settings.cdn.api_host, "HEALTH_PATH": settings.cdn.health_check.path,
                   "API_PATH": settings.monitoring.synthetics.api_path,
                   "WEBSOCKET_PATH": settings.monitoring.synthetics.websocket_path}
    assert canary["runtimeVersion"] == settings.monitoring.synthetics.runtime_version
    assert canary["schedule"]["expression"] == schedule_expression(settings.monitoring.synthetics.interval_minutes)
    assert canary["startCanary"] is True
    with zipfile.ZipFile(canary["zipFile"]) as archive:
        assert archive.namelist() == [ZIP_ENTRY]
        script = archive.read(ZIP_ENTRY).decode()
    assert canary["handler"] == "canary.handler" and "exports.handler" in script
    assert "'Upgrade': 'websocket'" in script.replace("Upgrade: 'websocket'", "'Upgrade': 'websocket'")


def test_canary_artifacts_are_private_encrypted_and_expire(plan: Plan) -> None:
    canary = one(plan, "aws:synthetics/canary:Canary").inputs
    data_key = one(plan, "aws:kms/key:Key", "data-key").outputs["arn"]
    assert canary["artifactConfig"]["s3Encryption"] == {"encryptionMode": "SSE_KMS", "kmsKeyArn": data_key}
    sse = one(plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              "synthetics-artifacts").inputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": data_key}
    block = one(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "synthetics-artifacts").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    lifecycle = one(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                    "synthetics-artifacts").inputs["rules"][0]
    assert lifecycle["status"] == "Enabled" and lifecycle["expiration"]["days"] >= 1
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "synthetics-role").inputs["policy"])
    for statement in policy["Statement"]:
        if statement["Resource"] == "*":
            assert statement["Action"] in ("s3:ListAllMyBuckets", "cloudwatch:PutMetricData"), statement


def test_canary_package_is_deterministic(tmp_path: Path) -> None:
    first = package(SCRIPT.read_bytes(), tmp_path / "a")
    second = package(SCRIPT.read_bytes(), tmp_path / "b")
    assert first.name == second.name and first.read_bytes() == second.read_bytes()
    changed = package(SCRIPT.read_bytes() + b"\n// changed\n", tmp_path / "a")
    assert changed.name != first.name


def test_dashboard_shows_releases(plan: Plan) -> None:
    body = json.loads(one(plan, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    metrics = json.dumps([w for w in body["widgets"] if w["type"] == "metric"])
    assert '"DeploymentCount"' in metrics and '"TaskSetCount"' in metrics
    alarm_strips = [w["properties"]["alarms"] for w in body["widgets"] if w["type"] == "alarm"]
    by_key = {a.inputs["tags"]["floyo:alarm"]: a.outputs["arn"] for a in plan.of_type(ALARM)}
    assert sorted(by_key[k] for k in ROLLBACK_ALARM_KEYS) in [sorted(a) for a in alarm_strips]
    synthetic = by_key["edge-synthetic-check-failing"]
    assert synthetic in json.dumps(body) or "SuccessPercent" in metrics


def test_dev_may_turn_the_canary_off_prod_may_not() -> None:
    off = {"monitoring": {"synthetics": {"enabled": False}}}
    assert DEV_RELAXED["monitoring"] == off["monitoring"]  # the shared dev variant turns it off (tests/tier_variants.py)
    plan = plan_with("dev", DEV_RELAXED)  # a whole plan: the canary and its alarm must be absent
    assert not plan.of_type("aws:synthetics/canary:Canary")
    assert "edge-synthetic-check-failing" not in alarm_names(plan)
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("prod", off))
    assert "floyo-infra:monitoring.synthetics.enabled:" in str(caught.value)


# --- settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "path", "hint"),
    [
        ({"strategy": "RED_BLACK"}, "deployment.strategy", "'ROLLING', 'CANARY', 'LINEAR' or 'BLUE_GREEN'"),
        ({"canary_percent": 0.05}, "deployment.canary_percent", "greater than or equal to 0.1"),
        ({"canary_percent": 101}, "deployment.canary_percent", "less than or equal to 100"),
        ({"linear_step_percent": 2}, "deployment.linear_step_percent", "greater than or equal to 3"),
        ({"bake_time_minutes": 1441}, "deployment.bake_time_minutes", "less than or equal to 1440"),
        ({"canary_interval_minutes": -1}, "deployment.canary_interval_minutes", "greater than or equal to 0"),
        ({"linear_interval_minutes": 2000}, "deployment.linear_interval_minutes", "less than or equal to 1440"),
    ],
)
def test_bad_deployment_values_are_named(changes: dict, path: str, hint: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("dev", {"backend": {"deployment": changes}}))
    message = str(caught.value)
    assert f"floyo-infra:backend.{path}:" in message and hint in message


@pytest.mark.parametrize(
    ("changes", "path", "hint"),
    [
        ({"backend": {"migrate_command": []}}, "backend.migrate_command", "non-empty"),
        ({"backend": {"migrate_command": ["alembic", " "]}}, "backend.migrate_command", "non-empty"),
        ({"monitoring": {"synthetics": {"runtime_version": "syn-nodejs-puppeteer-3.9"}}},
         "monitoring.synthetics.runtime_version", "syn-nodejs-puppeteer-10.0"),
        ({"monitoring": {"synthetics": {"api_path": "v1/status"}}}, "monitoring.synthetics.api_path", "absolute"),
        ({"monitoring": {"synthetics": {"interval_minutes": 0}}}, "monitoring.synthetics.interval_minutes", "1"),
        ({"monitoring": {"synthetics": {"timeout_seconds": 5}}}, "monitoring.synthetics.timeout_seconds", "15"),
    ],
)
def test_bad_release_values_are_named(changes: dict, path: str, hint: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("dev", changes))
    message = str(caught.value)
    assert f"floyo-infra:{path}:" in message and hint in message


def test_prod_refuses_rolling_dev_allows_it() -> None:
    rolling = {"backend": {"deployment": {"strategy": "ROLLING"}}}
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("prod", rolling))
    assert "floyo-infra:backend.deployment.strategy:" in str(caught.value)
    assert settings_for(with_changes("dev", rolling)).backend.deployment.strategy == "ROLLING"


def test_linear_strategy_declares_linear_configuration() -> None:
    plan = plan_with("prod", PROD_LINEAR)  # LINEAR, 20 % steps 3 minutes apart (tests/test_target_groups.py's)
    config = service(plan)["deploymentConfiguration"]
    assert config["strategy"] == "LINEAR" and "canaryConfiguration" not in config
    assert config["linearConfiguration"] == {"stepPercent": 20, "stepBakeTimeInMinutes": "3"}
    assert one(plan, SERVICE).custom_timeouts["update"] == f"{30 + 5 * 3 + 10}m"


def test_every_accepted_stack_name_gets_a_distinct_canary_name_within_the_limit() -> None:
    from components.synthetic_check import MAX_NAME, canary_name_for
    from stacks.identity import MAX_STACK_NAME

    names = ["dev", "prod", "staging", "prod-eu", "a" * MAX_STACK_NAME, "a" * (MAX_STACK_NAME - 1) + "b",
             "prod-eu-west-1-blue"]
    canaries = [canary_name_for(n) for n in names]
    assert all(1 <= len(c) <= MAX_NAME and re.fullmatch(r"[0-9a-z_-]+", c) for c in canaries), canaries
    assert len(set(canaries)) == len(canaries)
    assert canary_name_for("prod") == "floyo-prod-api"  # short names keep the readable form
