"""Coverage rule: every alarmable resource the program declares has an alarm on it.

The rule walks the planned resources, so a component added later can't ship unmonitored.
Resources are matched by the identifiers CloudWatch dimensions actually carry (ARN
suffixes, names, ids as the plan records them), not by naming conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from ops.plan.planner import Plan, PlannedResource

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def alarm_dimensions(plan: Plan) -> Iterator[dict[str, str]]:
    """Every dimension set of every metric alarm (single metric or metric-math inputs)."""
    for alarm in plan.of_type(ALARM):
        if alarm.inputs.get("dimensions"):
            yield alarm.inputs["dimensions"]
        for query in alarm.inputs.get("metricQueries", []):
            if query.get("metric", {}).get("dimensions"):
                yield query["metric"]["dimensions"]


def _arn_suffix(marker: str) -> Callable[[PlannedResource], dict[str, str]]:
    """ELB ARNs end in `:loadbalancer/app/...` or `:targetgroup/...`; CloudWatch uses the part after."""
    def ident(res: PlannedResource) -> dict[str, str]:
        key = "LoadBalancer" if marker == "loadbalancer/" else "TargetGroup"
        suffix = res.id.split(f":{marker}", 1)[1]
        return {key: suffix if marker == "loadbalancer/" else f"targetgroup/{suffix}"}
    return ident


def _ecs_service(plan: Plan) -> Callable[[PlannedResource], dict[str, str]]:
    clusters = [c.id for c in plan.of_type("aws:ecs/cluster:Cluster")]  # an ECS cluster's id is its name

    def ident(res: PlannedResource) -> dict[str, str]:
        # The service's id is its ARN, ending in /<service name>; its cluster input is the cluster ARN.
        cluster_names = [name for name in clusters if str(res.inputs["cluster"]).endswith(f"cluster/{name}")]
        assert cluster_names, res.inputs["cluster"]
        return {"ServiceName": res.id.rsplit("/", 1)[1], "ClusterName": cluster_names[0]}
    return ident


def _field(dimension: str, *keys: str) -> Callable[[PlannedResource], dict[str, str]]:
    def ident(res: PlannedResource) -> dict[str, str]:
        value = next((res.inputs[k] for k in keys if res.inputs.get(k)), res.id)
        return {dimension: value}
    return ident


def _replication_group(res: PlannedResource) -> dict[str, str]:
    group = res.inputs.get("replicationGroupId") or res.id
    return {"CacheClusterId": f"{group}-"}  # member clusters are <group id>-001, -002, ...


def identifiers(plan: Plan) -> dict[str, Callable[[PlannedResource], dict[str, str]]]:
    return {
        "aws:lb/loadBalancer:LoadBalancer": _arn_suffix("loadbalancer/"),
        "aws:lb/targetGroup:TargetGroup": _arn_suffix("targetgroup/"),
        "aws:ecs/service:Service": _ecs_service(plan),
        "aws:rds/clusterInstance:ClusterInstance": _field("DBInstanceIdentifier", "identifier"),
        "aws:rds/proxy:Proxy": _field("ProxyName", "name"),
        "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    }


def covered(wanted: dict[str, str], dims: dict[str, Any]) -> bool:
    for key, value in wanted.items():
        have = str(dims.get(key, ""))
        if key == "CacheClusterId" and value.endswith("-"):
            if not have.startswith(value):
                return False
        elif have != value:
            return False
    return True


def test_every_alarmable_resource_has_an_alarm(plan: Plan) -> None:
    dims = list(alarm_dimensions(plan))
    assert dims, "no alarms at all"
    checked = 0
    for token, ident in identifiers(plan).items():
        for res in plan.of_type(token):
            wanted = ident(res)
            assert any(covered(wanted, d) for d in dims), f"{token} {res.name} ({wanted}) has no alarm"
            checked += 1
    assert checked >= 3  # at least the load balancer, target group and service


def test_coverage_rule_catches_an_unmonitored_resource(plan: Plan) -> None:
    """The rule must fail when a resource's alarms are gone (guards the rule itself)."""
    lb = plan.of_type("aws:lb/loadBalancer:LoadBalancer")[0]
    wanted = identifiers(plan)[lb.type](lb)
    others = [d for d in alarm_dimensions(plan) if d.get("LoadBalancer") != wanted["LoadBalancer"]]
    assert not any(covered(wanted, d) for d in others)
