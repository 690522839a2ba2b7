"""The data tier's alarms, as planned for each stack (not just as catalogue specs)."""

from __future__ import annotations

from ops.plan import Plan

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"


def alarms_on(plan: Plan, metric: str) -> list[dict]:
    return [a.inputs for a in plan.of_type(ALARM) if a.inputs.get("metricName") == metric]


def test_one_replica_lag_alarm_per_reader(plan: Plan, stack: str) -> None:
    readers = [i.inputs["identifier"] for i in plan.of_type("aws:rds/clusterInstance:ClusterInstance")
               if i.inputs["promotionTier"] != 0]
    assert len(readers) == {"dev": 1, "prod": 2}[stack]
    lag = alarms_on(plan, "AuroraReplicaLag")
    assert sorted(a["dimensions"]["DBInstanceIdentifier"] for a in lag) == sorted(readers)


def test_every_cache_node_watched(plan: Plan) -> None:
    group = next(iter(plan.of_type("aws:elasticache/replicationGroup:ReplicationGroup"))).inputs
    nodes = {f"{group['replicationGroupId']}-{i:03d}" for i in range(1, int(group["numCacheClusters"]) + 1)}
    for metric in ("EngineCPUUtilization", "DatabaseMemoryUsagePercentage"):
        assert {a["dimensions"]["CacheClusterId"] for a in alarms_on(plan, metric)} == nodes, metric


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
