"""Both target groups: every alarm and scaling signal that reads a target group reads the pair a gradual
release alternates, and the declared metric math gives the right verdict after a swap.

The expressions are taken from the plan and evaluated minute by minute on generated series, with
CloudWatch's semantics for the subset used: a missing value propagates through arithmetic, `FILL(x, v)`
replaces it, `MAX([...])` takes the largest present value, `IF(c, a, b)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from ops.diff.danger import removal
from ops.plan.planner import Plan
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


def _fill(x: Value, v: float) -> Value:
    return v if x is None else x


def _max(values: list[Value]) -> Value:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _if(cond: Value, a: Value, b: Value) -> Value:
    return None if cond is None else (a if cond else b)


def _arith(op: Callable[[float, float], float]) -> Callable[[Value, Value], Value]:
    return lambda a, b: None if a is None or b is None else op(a, b)


def evaluate(expression: str, values: Series) -> Value:
    """One minute of an expression in CloudWatch's semantics (the subset the catalogue uses)."""
    python = re.sub(r"MAX\(\[(.*?)\]\)", r"_max([\1])", expression)
    python = python.replace("FILL(", "_fill(").replace("IF(", "_if(")
    env: dict[str, Any] = {k: _Opt(v) for k, v in values.items()}
    env["_fill"] = lambda x, v: _Opt(_fill(_unwrap(x), v))
    env["_max"] = lambda xs: _Opt(_max([_unwrap(x) for x in xs]))
    env["_if"] = lambda c, a, b: _Opt(_if(_unwrap(c), _unwrap(a), _unwrap(b)))
    return _unwrap(eval(python, {"__builtins__": {}}, env))


class _Opt:
    """A number that may be missing; arithmetic with a missing one is missing."""

    def __init__(self, v: Value) -> None:
        self.v = v

    def _op(self, other: Any, fn: Callable[[float, float], float], reverse: bool = False) -> _Opt:
        o = _unwrap(other)
        a, b = (o, self.v) if reverse else (self.v, o)
        return _Opt(_arith(fn)(a, b))

    def __add__(self, o: Any) -> _Opt: return self._op(o, lambda a, b: a + b)
    def __radd__(self, o: Any) -> _Opt: return self._op(o, lambda a, b: a + b, True)
    def __sub__(self, o: Any) -> _Opt: return self._op(o, lambda a, b: a - b)
    def __mul__(self, o: Any) -> _Opt: return self._op(o, lambda a, b: a * b)
    def __rmul__(self, o: Any) -> _Opt: return self._op(o, lambda a, b: a * b, True)
    def __truediv__(self, o: Any) -> _Opt: return self._op(o, lambda a, b: a / b if b else float("nan"))
    def __ge__(self, o: Any) -> _Opt: return self._op(o, lambda a, b: float(a >= b))  # type: ignore[override]


def _unwrap(x: Any) -> Value:
    return x.v if isinstance(x, _Opt) else (None if x is None else float(x))


def alarm_value(alarm: Mapping[str, Any], by_group: Mapping[str, Mapping[str, Value]], other: Series) -> Value:
    """The alarm's value for one minute: `by_group[target group][metric name]`, `other[metric name]`."""
    def metric_value(metric: Mapping[str, Any]) -> Value:
        group = (metric.get("dimensions") or {}).get("TargetGroup")
        source = by_group.get(group, {}) if group else other
        return source.get(metric["metricName"])

    queries = alarm.get("metricQueries") or []
    if not queries:
        return metric_value(alarm)
    values = {q["id"]: metric_value(q["metric"]) for q in queries if "metric" in q}
    (result,) = [q for q in queries if q.get("returnData")]
    return evaluate(result["expression"], values)


def breaching(alarm: Mapping[str, Any], value: Value) -> bool:
    if value is None:
        return alarm["treatMissingData"] == "breaching"
    return {"LessThanThreshold": value < alarm["threshold"], "GreaterThanThreshold": value > alarm["threshold"],
            "GreaterThanOrEqualToThreshold": value >= alarm["threshold"],
            "LessThanOrEqualToThreshold": value <= alarm["threshold"]}[alarm["comparisonOperator"]]


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
        return evaluate(result["expression"], values)

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
