"""The data tier's alarms, as planned for each stack (not just as catalogue specs)."""

from __future__ import annotations

from components.alarm_catalogue import redis_alarms
from ops.plan.planner import Plan
from stacks.monitoring import TIER_DEFAULTS, AlarmThresholds

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def alarms_on(plan: Plan, metric: str) -> list[dict]:
    return [a.inputs for a in plan.of_type(ALARM) if a.inputs.get("metricName") == metric]


def test_one_replica_lag_alarm_per_reader(plan: Plan, stack: str) -> None:
    readers = [i.inputs["identifier"] for i in plan.of_type("aws:rds/clusterInstance:ClusterInstance")
               if i.inputs["promotionTier"] != 0]
    assert len(readers) == {"dev": 1, "prod": 2}[stack]
    lag = alarms_on(plan, "AuroraReplicaLag")
    assert sorted(a["dimensions"]["DBInstanceIdentifier"] for a in lag) == sorted(readers)


def cache_nodes_read(alarm: dict) -> set[str]:
    """The `CacheClusterId`s an alarm reads, whether one metric or metric math."""
    dimensions = [alarm.get("dimensions") or {}] + [q["metric"].get("dimensions") or {}
                                                    for q in alarm.get("metricQueries") or [] if q.get("metric")]
    return {d["CacheClusterId"] for d in dimensions if "CacheClusterId" in d}


def test_every_cache_node_watched(plan: Plan, stack: str) -> None:
    """Every per-node alarm of the catalogue exists once per node in the planned stack (the set of alarms is
    derived from components/alarm_catalogue.py, not written here)."""
    group = next(iter(plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup"))).inputs
    nodes = [f"{group['replicationGroupId']}-{i:03d}" for i in range(1, int(group["numCacheClusters"]) + 1)]
    specs = redis_alarms(AlarmThresholds.model_validate(TIER_DEFAULTS[stack]["thresholds"]), member_cluster_ids=nodes)
    planned = {a.name: a.inputs for a in plan.of_type(ALARM)}
    per_node = [s.key for s in specs if s.key.rpartition("-")[2].isdigit()]  # catalogue convention: `-<index>`
    assert per_node and len(per_node) % len(nodes) == 0
    for spec in specs:
        index = spec.key.rpartition("-")[2]
        expected = {nodes[int(index)]} if index.isdigit() else set(nodes)  # per node, or group-wide
        assert cache_nodes_read(planned[f"alarms-{spec.key}"]) == expected, spec.key


def test_connections_alarm_uses_the_parameter_group_ceiling(plan: Plan) -> None:
    params = {p["name"]: p["value"] for g in plan.of_type("aws:rds/parameterGroup:ParameterGroup")
              for p in g.inputs.get("parameters", [])}
    ceiling = int(params["max_connections"])
    instances = {i.inputs["identifier"] for i in plan.of_type("aws:rds/clusterInstance:ClusterInstance")}
    watched = set()
    for alarm in plan.of_type(ALARM):
        queries = alarm.inputs.get("metricQueries", [])
        metrics = [q["metric"] for q in queries if q.get("metric")]
        if [m["metricName"] for m in metrics] == ["DatabaseConnections"] and "DBInstanceIdentifier" in metrics[0]["dimensions"]:
            expression = next(q["expression"] for q in queries if q.get("returnData"))
            assert expression.replace(" ", "").endswith(f"/{ceiling}"), expression
            watched.add(metrics[0]["dimensions"]["DBInstanceIdentifier"])
    assert watched == instances
