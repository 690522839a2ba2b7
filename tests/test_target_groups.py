"""Both target groups: every alarm and scaling signal that reads a target group reads the pair a gradual
release alternates, and the declared metric math gives the right verdict after a swap.

The alarms and the scaling policy's expression are taken from the plan and evaluated on one generated
minute by the tests' CloudWatch evaluator (tests/cloudwatch_eval.py, tests/metric_math.py): each metric's
statistic, then the metric math, where a missing value propagates through arithmetic, `FILL(x, v)` replaces
it and `MAX([...])` takes the largest present value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from ops.diff.danger import removal
from ops.plan.planner import Plan
from tests.cloudwatch_eval import Aggregator, MetricAlarm, metric_key, parse_expression
from tests.planning import plan_with, settings_for, stack_plan, with_changes
from tests.tier_variants import PROD_LINEAR

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
POLICY = "aws:appautoscaling/policy:Policy"
GROUP = "aws:lb/targetGroup:TargetGroup"
SERVICE = "aws:ecs/service:Service"
RULE = "aws:lb/listenerRule:ListenerRule"
Value = float | None
Series = Mapping[str, Value]


def suffixes(plan: Plan) -> list[str]:
    return [g.outputs["arnSuffix"] for g in plan.of_type(GROUP)]


def alarms(plan: Plan) -> dict[str, dict[str, Any]]:
    return {a.inputs["tags"]["floyo:alarm"]: a.inputs for a in plan.of_type(ALARM)}


def alarm_groups(alarm: Mapping[str, Any]) -> set[str]:
    """Target groups an alarm reads (its own dimensions, or its metric queries')."""
    dims = [alarm.get("dimensions") or {}]
    dims += [q["metric"].get("dimensions") or {} for q in alarm.get("metricQueries") or [] if "metric" in q]
    return {d["TargetGroup"] for d in dims if "TargetGroup" in d}


def policy_groups(policy: Mapping[str, Any]) -> set[str]:
    """Target groups a target-tracking policy reads (predefined label, or customized metrics)."""
    config = policy["targetTrackingScalingPolicyConfiguration"]
    label = (config.get("predefinedMetricSpecification") or {}).get("resourceLabel")
    found = {label.split("/", 3)[3]} if label else set()
    for query in (config.get("customizedMetricSpecification") or {}).get("metrics") or []:
        for dim in ((query.get("metricStat") or {}).get("metric") or {}).get("dimensions") or []:
            if dim["name"] == "TargetGroup":
                found.add(dim["value"])
    return found


def gradual(strategy: str) -> Plan:
    """The whole plan of prod releasing by `strategy`: the committed one for prod's own (CANARY), the shared
    LINEAR variant (tests/tier_variants.py), or prod with that strategy (tests/test_resilience.py's too)."""
    if settings_for(with_changes("prod")).backend.deployment.strategy == strategy:
        return stack_plan("prod")
    if strategy == "LINEAR":
        return plan_with("prod", PROD_LINEAR)
    return plan_with("prod", {"backend": {"deployment": {"strategy": strategy}}})


@pytest.mark.parametrize("strategy", ["CANARY", "LINEAR", "BLUE_GREEN"])
def test_every_target_group_signal_reads_both_groups(strategy: str) -> None:
    plan = gradual(strategy)
    assert plan.of_type(SERVICE)[0].inputs["deploymentConfiguration"]["strategy"] == strategy
    groups = set(suffixes(plan))
    assert len(groups) == 2
    readers = {key: alarm_groups(a) for key, a in alarms(plan).items() if alarm_groups(a)}
    assert {"backend-no-healthy-hosts", "backend-latency-p95", "backend-latency-p99"} <= set(readers)
    for key, seen in readers.items():
        assert seen == groups, key
    scaling = [p.inputs for p in plan.of_type(POLICY) if policy_groups(p.inputs)]
    assert scaling, "the requests policy reads the load balancer"
    for policy in scaling:
        assert policy_groups(policy) == groups, policy.get("name", policy)


def test_rolling_reads_its_one_group_with_the_predefined_metric() -> None:
    plan = stack_plan("dev")
    (group,) = suffixes(plan)
    policies = [p.inputs for p in plan.of_type(POLICY) if policy_groups(p.inputs)]
    assert len(policies) == 1
    spec = policies[0]["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"]
    assert spec["predefinedMetricType"] == "ALBRequestCountPerTarget" and spec["resourceLabel"].endswith(group)


# --- evaluating the plan's metric math ------------------------------------------------------------


def alarm_value(alarm: Mapping[str, Any], by_group: Mapping[str, Mapping[str, Value]], other: Series) -> Value:
    """The alarm's datapoint (tests/cloudwatch_eval.py) for one period in which each metric published one value,
    `by_group[target group][metric name]` or `other[metric name]`, or nothing (absent or None)."""
    evaluated = MetricAlarm.from_inputs(alarm)
    data = {}
    for query in evaluated.queries:
        metric = query.get("metric")
        if metric is None:
            continue
        dims = metric.get("dimensions") or {}
        value = (by_group.get(dims["TargetGroup"], {}) if "TargetGroup" in dims else other).get(metric["metricName"])
        if value is not None:
            data[metric_key(metric["namespace"], metric["metricName"], dims)] = Aggregator([[(value, 1)]])
    return evaluated.datapoint(data, 0, evaluated.period)


def breaching(alarm: Mapping[str, Any], value: Value) -> bool:
    """Whether one datapoint counts as breaching (a missing one only under `treatMissingData: breaching`)."""
    if value is None:
        return alarm["treatMissingData"] == "breaching"
    return MetricAlarm.from_inputs(alarm).breaches(value)


@pytest.fixture(scope="module")
def prod() -> Plan:
    return stack_plan("prod")


@pytest.mark.parametrize("idle", [0.0, None], ids=["idle-reports-zero", "idle-reports-nothing"])
def test_no_healthy_hosts_after_a_swap_is_not_an_outage(prod: Plan, idle: Value) -> None:
    primary, alternate = suffixes(prod)
    alarm = alarms(prod)["backend-no-healthy-hosts"]
    after_swap = {primary: {"HealthyHostCount": idle}, alternate: {"HealthyHostCount": 3.0}}
    assert not breaching(alarm, alarm_value(alarm, after_swap, {}))
    before = {primary: {"HealthyHostCount": 3.0}, alternate: {"HealthyHostCount": idle}}
    assert not breaching(alarm, alarm_value(alarm, before, {}))


@pytest.mark.parametrize("reported", [0.0, None], ids=["zero", "silent"])
def test_no_healthy_hosts_still_fires_on_a_real_outage(prod: Plan, reported: Value) -> None:
    primary, alternate = suffixes(prod)
    alarm = alarms(prod)["backend-no-healthy-hosts"]
    outage = {primary: {"HealthyHostCount": reported}, alternate: {"HealthyHostCount": reported}}
    assert breaching(alarm, alarm_value(alarm, outage, {}))
    composite = next(c.inputs for c in prod.of_type("aws:cloudwatch/compositeAlarm:CompositeAlarm")
                     if c.inputs["tags"]["floyo:alarm"] == "service-down")  # the SLO composites are composites too
    assert f'ALARM("{alarm["name"]}")' in composite["alarmRule"]


@pytest.mark.parametrize("key", ["backend-latency-p95", "backend-latency-p99"])
def test_latency_of_the_serving_group_counts_after_a_swap(prod: Plan, key: str) -> None:
    primary, alternate = suffixes(prod)
    alarm = alarms(prod)[key]
    slow = alarm["threshold"] * 2
    after_swap = {primary: {}, alternate: {"TargetResponseTime": slow}}
    assert breaching(alarm, alarm_value(alarm, after_swap, {}))
    canary_fast = {primary: {"TargetResponseTime": slow / 10}, alternate: {"TargetResponseTime": slow / 10}}
    assert not breaching(alarm, alarm_value(alarm, canary_fast, {}))


def test_requests_per_task_counts_the_serving_group_after_a_swap(prod: Plan) -> None:
    primary, alternate = suffixes(prod)
    (policy,) = [p.inputs for p in prod.of_type(POLICY) if policy_groups(p.inputs)]
    spec = policy["targetTrackingScalingPolicyConfiguration"]["customizedMetricSpecification"]
    queries = spec["metrics"]
    (result,) = [q for q in queries if q.get("returnData")]

    def per_task(requests: Mapping[str, Value], tasks: float) -> Value:
        values: dict[str, Value] = {}
        for q in queries:
            if "metricStat" not in q:
                continue
            metric = q["metricStat"]["metric"]
            dims = {d["name"]: d["value"] for d in metric.get("dimensions") or []}
            values[q["id"]] = requests.get(dims["TargetGroup"]) if "TargetGroup" in dims else (
                tasks if metric["metricName"] == "RunningTaskCount" else None)
        return parse_expression(result["expression"])(values)

    assert per_task({alternate: 1200.0}, tasks=4) == 300.0  # the primary publishes nothing after the swap
    assert per_task({primary: 1200.0}, tasks=4) == 300.0
    assert per_task({primary: 120.0, alternate: 1080.0}, tasks=4) == 300.0  # during a canary


# --- who owns the traffic shift after creation ------------------------------------------------------

def test_gradual_service_leaves_its_load_balancers_and_rule_weights_to_ecs(prod: Plan) -> None:
    (service,) = prod.of_type(SERVICE)
    assert "loadBalancers" in service.ignore_changes, "a resent pair makes the next release hit the serving group"
    assert all("actions" in rule.ignore_changes for rule in prod.of_type(RULE))


def test_resend_load_balancers_sends_them_once() -> None:
    plan = plan_with("prod", PROD_LINEAR)  # resend_load_balancers: true (with the LINEAR strategy, also gradual)
    (service,) = plan.of_type(SERVICE)
    assert "loadBalancers" not in service.ignore_changes and "desiredCount" in service.ignore_changes
    assert all("actions" not in rule.ignore_changes for rule in plan.of_type(RULE))


def test_rolling_service_keeps_its_one_target_group_in_sync() -> None:
    (service,) = stack_plan("dev").of_type(SERVICE)
    assert "loadBalancers" not in service.ignore_changes


@pytest.mark.parametrize("token", [GROUP, RULE])
def test_replacing_a_target_group_or_rule_is_a_flagged_danger(token: str) -> None:
    dangerous, why = removal(token, {}, retained=False, protected=False)
    assert dangerous and "docs/releases.md" in why
