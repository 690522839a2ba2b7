"""Resilience: FIS drills with alarm stop conditions, reader autoscaling, zonal autoshift, Database Insights."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from components.alarm_catalogue import AlarmSpec
from components.fault_injection import MAX_STOP_CONDITIONS
from components.resilience import stop_alarm_keys
from ops.docs.alerts_table import catalogue
from ops.plan.planner import Plan
from stacks import SettingsError
from stacks.resilience import EXPERIMENTS
from tests.planning import one, planned, settings_for, stack_plan, with_changes
from tests.variants import other_region_dev, prod_with_secrets, quiet_dev

TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
AUTOSHIFT = "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration"
SCALING_TARGET = "aws:appautoscaling/target:Target"


def _error(stack: str, changes: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes(stack, changes))
    return str(caught.value)


def _templates(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r.inputs["tags"]["floyo:experiment"]: r.inputs for r in plan.of_type(TEMPLATE)}


def _catalogue(stack: str) -> list[AlarmSpec]:
    """Every metric alarm kind of the catalogue (as the alert table lists it), with the stack's thresholds."""
    return catalogue(settings_for(with_changes(stack)).monitoring.thresholds)


def test_every_experiment_stops_on_user_facing_alarms_of_this_stack(plan: Plan, stack: str) -> None:
    templates = _templates(plan)
    multi_az = settings_for(with_changes(stack)).cache.replicas >= 1
    assert sorted(templates) == sorted(e for e in EXPERIMENTS if multi_az or e != "cache-az-power")
    alarm_arns = {r.outputs.get("arn") for r in plan.of_type(ALARM)}
    first = [s.key for s in _catalogue(stack) if s.stops_drills]
    # the intent, pinned: every drill stops first on the two 5xx rates (docs/resilience.md)
    assert set(first) == {"backend-lb-5xx-rate", "backend-target-5xx-rate"}
    for key, t in templates.items():
        conditions = t["stopConditions"]
        assert 1 <= len(conditions) <= MAX_STOP_CONDITIONS, key
        assert all(c["source"] == "aws:cloudwatch:alarm" and c["value"] in alarm_arns for c in conditions), key
        names = [c["value"].rsplit(":", 1)[1] for c in conditions]
        assert names[:len(first)] == [f"floyo-{stack}-{k}" for k in first], key  # the catalogue's `stops_drills`
        assert t["tags"]["floyo:stack"] == stack
        mode = t["experimentOptions"]["emptyTargetResolutionMode"]
        assert mode == ("skip" if key == "az-network-disruption" else "fail"), key


def test_drills_stop_first_on_what_the_catalogue_marks_not_on_a_key_pattern() -> None:
    specs = _catalogue("dev")
    first = len([s for s in specs if s.stops_drills])
    marked = next(s for s in specs if s.stops_drills)
    unmarked = next(s for s in specs if not s.stops_drills and s.tier == "backend" and not s.service_down
                    and s.severity != "page")
    assert marked.key in stop_alarm_keys(specs, "us-east-1")[:first]
    assert unmarked.key not in stop_alarm_keys(specs, "us-east-1")
    swapped = [replace(s, stops_drills=not s.stops_drills) if s in (marked, unmarked) else s for s in specs]
    assert unmarked.key in stop_alarm_keys(swapped, "us-east-1")[:first]
    assert marked.key not in stop_alarm_keys(swapped, "us-east-1")


def test_prod_has_the_drills_the_issue_asks_for() -> None:
    templates = _templates(stack_plan("prod"))
    actions = {a["actionId"] for t in templates.values() for a in t["actions"]}
    assert {"aws:ecs:stop-task", "aws:rds:failover-db-cluster",
            "aws:elasticache:replicationgroup-interrupt-az-power", "aws:network:disrupt-connectivity"} <= actions
    cluster = one(stack_plan("prod"), "aws:rds/cluster:Cluster")
    failover = templates["aurora-failover"]["targets"][0]
    assert failover["resourceArns"] == [cluster.outputs["arn"]]


def test_experiments_log_to_an_encrypted_group_they_may_write(plan: Plan) -> None:
    group = one(plan, "aws:cloudwatch/logGroup:LogGroup", "resilience-fis-logs").inputs
    assert group["kmsKeyId"].startswith("arn:aws:kms:") and group["retentionInDays"] >= 30
    for t in _templates(plan).values():
        assert t["logConfiguration"]["cloudwatchLogsConfiguration"]["logGroupArn"].endswith(group["name"] + ":*")
    policy = json.loads(one(plan, "aws:cloudwatch/logResourcePolicy:LogResourcePolicy").inputs["policyDocument"])
    assert policy["Statement"][0]["Principal"] == {"Service": "delivery.logs.amazonaws.com"}


def test_role_is_scoped_to_this_stacks_resources(plan: Plan) -> None:
    role = one(plan, "aws:iam/role:Role", "resilience-fis-role").inputs
    trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
    assert trust["Principal"] == {"Service": "fis.amazonaws.com"} and "aws:SourceAccount" in trust["Condition"]["StringEquals"]
    statements = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "resilience-fis-role").inputs["policy"])["Statement"]
    wildcard_ok = {"ecs:ListTasks", "tag:GetResources", "ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs",
                   "ec2:DescribeManagedPrefixLists", "logs:CreateLogDelivery", "logs:PutResourcePolicy",
                   "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}
    for s in statements:
        actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
        if s["Resource"] == "*":
            assert set(actions) <= wildcard_ok, s["Sid"]
    by_sid = {s["Sid"]: s for s in statements}
    cluster = one(plan, "aws:rds/cluster:Cluster").outputs["arn"]
    assert by_sid["AuroraFailover"]["Resource"] == cluster
    assert by_sid["CacheAzPower"]["Resource"] == one(plan, "aws:elasticache/replicationGroup:ReplicationGroup").outputs["arn"]
    # FIS may list the tagged targets: the describes on every cluster and replication group, here only
    region, account = cluster.split(":")[3:5]
    resolve = by_sid["ResolveClustersAndCaches"]
    assert set(resolve["Action"]) == {"rds:DescribeDBClusters", "elasticache:DescribeReplicationGroups"}
    assert resolve["Resource"] == [f"arn:aws:rds:{region}:{account}:cluster:*",
                                   f"arn:aws:elasticache:{region}:{account}:replicationgroup:*"]
    granted = {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert not {a for a in granted if a.split(":")[1].startswith(("Describe", "List"))
                and a.split(":")[0] in ("rds", "elasticache")} - {"rds:DescribeDBClusters", "rds:DescribeDBInstances",
                                                                 "elasticache:DescribeReplicationGroups"}
    assert by_sid["NetworkEditFisAcl"]["Condition"] == {"StringEquals": {"ec2:ResourceTag/managedByFIS": "true"}}
    assert by_sid["EcsListServiceTasks"]["Condition"]["ArnEquals"]["ecs:cluster"].endswith(
        one(plan, "aws:ecs/cluster:Cluster").outputs["name"])


def test_fault_injection_can_be_turned_off() -> None:
    config = other_region_dev()  # shared with test_monitoring (tests/variants.py)
    assert not settings_for(config).resilience.fault_injection.enabled
    assert not planned(config).of_type(TEMPLATE)


def test_reader_autoscaling_in_prod_between_fixed_readers_and_max() -> None:
    plan = stack_plan("prod")
    settings = settings_for(with_changes("prod"))
    target = one(plan, SCALING_TARGET, "resilience-readers-target").inputs
    assert target["scalableDimension"] == "rds:cluster:ReadReplicaCount" and target["serviceNamespace"] == "rds"
    assert target["minCapacity"] == settings.database.reader_count
    assert target["maxCapacity"] == settings.resilience.reader_autoscaling.max_readers
    policy = one(plan, "aws:appautoscaling/policy:Policy", "resilience-readers-policy").inputs
    tracking = policy["targetTrackingScalingPolicyConfiguration"]
    assert tracking["predefinedMetricSpecification"]["predefinedMetricType"] == "RDSReaderAverageCPUUtilization"
    assert not [r for r in stack_plan("dev").of_type(SCALING_TARGET) if r.name == "resilience-readers-target"]


def test_reader_autoscaling_is_checked_against_readers_and_proxy() -> None:
    assert "max_readers" in _error("prod", {"resilience": {"reader_autoscaling": {"max_readers": 1}}})
    ceiling = settings_for(with_changes("prod")).database.proxy_ceiling
    message = _error("prod", {"resilience": {"reader_autoscaling": {"metric": "connections", "target_value": ceiling}}})
    assert f"proxy's ceiling of {ceiling}" in message
    assert "10-90" in _error("dev", {"resilience": {"reader_autoscaling": {"target_value": 95}}})
    assert "zone_index" in _error("dev", {"resilience": {"fault_injection": {"zone_index": 2}}})


def test_task_drill_selects_at_least_one_task_and_prod_keeps_one() -> None:
    assert "use >= 34" in _error("prod", {"resilience": {"fault_injection": {"stop_task_percent": 30}}})
    assert "use >= 100" in _error("dev", {"resilience": {"fault_injection": {"stop_task_percent": 50}}})
    assert "at least one task serving" in _error("prod", {"resilience": {"fault_injection": {"stop_task_percent": 100}}})
    target = _templates(stack_plan("prod"))["ecs-stop-tasks"]["targets"][0]
    assert target["selectionMode"] == "PERCENT(34)"


def test_prod_alb_has_zonal_autoshift_with_blocked_release_windows() -> None:
    plan = stack_plan("prod")
    lb = one(plan, "aws:lb/loadBalancer:LoadBalancer")
    assert lb.inputs["enableZonalShift"] is True and lb.inputs["clientKeepAlive"] == 300
    config = one(plan, AUTOSHIFT).inputs
    assert config["resourceArn"] == lb.outputs["arn"] and config["zonalAutoshiftStatus"] == "ENABLED"
    assert config["outcomeAlarms"] and config["blockedWindows"]
    dev = stack_plan("dev")
    dev_lb = one(dev, "aws:lb/loadBalancer:LoadBalancer").inputs
    assert not dev.of_type(AUTOSHIFT) and not dev_lb.get("enableZonalShift") and "clientKeepAlive" not in dev_lb


def test_autoshift_settings_are_validated() -> None:
    assert "prod keeps zonal autoshift on" in _error("prod", {"resilience": {"zonal_autoshift": {"enabled": False}}})
    assert "Day:HH:MM-Day:HH:MM" in _error("prod", {"resilience": {"zonal_autoshift": {"blocked_windows": ["tue 8-18"]}}})
    for spanning in ("Mon:22:00-Tue:02:00", "Tue:18:00-Tue:08:00"):
        message = _error("prod", {"resilience": {"zonal_autoshift": {"blocked_windows": [spanning]}}})
        assert "same day" in message and spanning in message
    assert "YYYY-MM-DD" in _error("prod", {"resilience": {"zonal_autoshift": {"blocked_dates": ["24.12.2026"]}}})


def test_prod_runs_database_insights_advanced_with_15_months() -> None:
    plan = stack_plan("prod")
    cluster = one(plan, "aws:rds/cluster:Cluster").inputs
    assert cluster["databaseInsightsMode"] == "advanced" and cluster["performanceInsightsRetentionPeriod"] == 465
    assert all(i.inputs["performanceInsightsRetentionPeriod"] == 465
               for i in plan.of_type("aws:rds/clusterInstance:ClusterInstance"))
    assert one(stack_plan("dev"), "aws:rds/cluster:Cluster").inputs["databaseInsightsMode"] == "standard"
    assert "465" in _error("dev", {"database": {"database_insights_mode": "advanced"}})


def _tagged(plan: Plan, type_: str, tags: list[dict[str, str]]) -> list[str]:
    wanted = {t["key"]: t["value"] for t in tags}
    return [r.name for r in plan.of_type(type_) if wanted.items() <= (r.inputs.get("tags") or {}).items()]


def test_targets_follow_fis_rules_per_resource_type(plan: Plan) -> None:
    """FIS refuses ARNs with filters or parameters, ARNs for replication groups, and camel-case filter paths;
    a tag selects exactly one resource of this stack."""
    for key, t in _templates(plan).items():
        for target in t["targets"]:
            where = f"{key}/{target['name']}"
            if target.get("resourceArns"):
                assert not target.get("parameters") and not target.get("filters"), where
            assert bool(target.get("resourceArns")) != bool(target.get("resourceTags")) or \
                target["resourceType"] == "aws:ecs:task", where
            for f in target.get("filters") or []:
                assert all(part[:1].isupper() for part in f["path"].split(".")), where
            if target["resourceType"] == "aws:elasticache:replicationgroup":
                assert target["resourceTags"] and target["parameters"]["availabilityZoneIdentifier"], where
                kind = "aws:elasticache/replicationGroup:ReplicationGroup"
            elif target["resourceType"] == "aws:rds:cluster" and target.get("resourceTags"):
                kind = "aws:rds/cluster:Cluster"
            else:
                continue
            assert len(_tagged(plan, kind, target["resourceTags"])) == 1, where


def test_az_drill_fails_over_the_writer_and_the_cache_in_that_zone() -> None:
    plan = stack_plan("prod")
    drill = _templates(plan)["az-network-disruption"]
    zone = next(t for t in drill["targets"] if t["name"] == "zone-tasks")["filters"][0]["values"][0]
    by_type = {t["resourceType"]: t for t in drill["targets"]}
    assert by_type["aws:rds:cluster"]["parameters"] == {"writerAvailabilityZoneIdentifiers": zone}
    assert by_type["aws:elasticache:replicationgroup"]["parameters"] == {"availabilityZoneIdentifier": zone}
    actions = {a["actionId"]: a["target"]["value"] for a in drill["actions"]}
    assert actions["aws:rds:failover-db-cluster"] == by_type["aws:rds:cluster"]["name"]
    assert actions["aws:elasticache:replicationgroup-interrupt-az-power"] == "cache"
    statements = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "resilience-fis-role").inputs["policy"])["Statement"]
    assert any(s["Action"] == "rds:DescribeDBInstances" for s in statements)


def test_single_node_cache_gets_no_power_drill() -> None:
    dev = _templates(stack_plan("dev"))
    assert "cache-az-power" not in dev
    assert not [t for t in dev["az-network-disruption"]["targets"]
                if t["resourceType"] == "aws:elasticache:replicationgroup"]
    assert settings_for(quiet_dev()).cache.replicas == 1  # shared with test_monitoring (tests/variants.py)
    assert "cache-az-power" in _templates(planned(quiet_dev()))


@pytest.mark.parametrize("strategy", ["CANARY", "BLUE_GREEN"])
def test_stop_and_practice_run_alarms_read_both_target_groups(strategy: str) -> None:
    """A gradual release alternates the target groups: an alarm reading one of them would stop a drill, or end
    a practice run, whenever the other serves (tests/test_target_groups.py evaluates the metric math)."""
    from tests.test_target_groups import alarm_groups, suffixes

    # prod's own strategy is CANARY: its committed plan; BLUE_GREEN is a variant shared with test_monitoring
    config = with_changes("prod") if strategy == "CANARY" else prod_with_secrets(mark_secret=False)
    assert settings_for(config).backend.deployment.strategy == strategy
    plan = planned(config)
    groups = set(suffixes(plan))
    by_arn = {a.outputs["arn"]: a.inputs for a in plan.of_type(ALARM)}
    config = one(plan, AUTOSHIFT).inputs
    used = {c["value"] for t in _templates(plan).values() for c in t["stopConditions"]}
    used |= {a["alarmIdentifier"] for a in config["outcomeAlarms"] + config["blockingAlarms"]}
    readers = {arn: alarm_groups(by_arn[arn]) for arn in used if alarm_groups(by_arn[arn])}
    assert any(arn.endswith("backend-no-healthy-hosts") for arn in readers)  # the one the review named
    assert len(groups) == 2 and all(found == groups for found in readers.values()), readers
