"""ElastiCache: TLS required, failover in prod, logs and snapshots (authentication: tests/test_cache_auth.py)."""

from __future__ import annotations

from ops.plan.planner import Plan
from tests.data_variants import DEV_DATA, dev_data
from tests.planning import one, settings_for, with_changes

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


def test_tls_required_encrypted_at_rest(plan: Plan) -> None:
    group = one(plan, GROUP)
    assert group.inputs["transitEncryptionEnabled"] is True and group.inputs["transitEncryptionMode"] == "required"
    assert group.inputs["atRestEncryptionEnabled"] is True and group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert group.inputs["clusterMode"] == "disabled"


def test_replicas_and_failover(plan: Plan, stack: str) -> None:
    group = one(plan, GROUP)
    cache = settings_for(with_changes(stack)).cache
    assert group.inputs["numCacheClusters"] == 1 + cache.replicas
    if stack == "prod":
        assert cache.replicas == 2
        assert group.inputs["automaticFailoverEnabled"] is True and group.inputs["multiAzEnabled"] is True
        assert group.protect is True and group.inputs["finalSnapshotIdentifier"]
        assert group.inputs["snapshotRetentionLimit"] >= 1
    else:
        assert group.inputs["automaticFailoverEnabled"] is (cache.replicas >= 1)


def test_dev_replica_turns_failover_on() -> None:
    assert DEV_DATA["cache"] == {"replicas": 1}
    group = one(dev_data(), GROUP).inputs
    assert group["numCacheClusters"] == 2 and group["automaticFailoverEnabled"] is True and group["multiAzEnabled"] is True


def test_parameter_group_family_and_eviction(plan: Plan, stack: str) -> None:
    cache = settings_for(with_changes(stack)).cache
    params = one(plan, "aws:elasticache/parameterGroup:ParameterGroup").inputs
    assert params["family"] == cache.parameter_family
    assert {"name": "maxmemory-policy", "value": "allkeys-lru"} in params["parameters"]
    group = one(plan, GROUP).inputs
    assert (group["engine"], group["engineVersion"]) == (cache.engine, cache.engine_version)


def test_logs_delivered_to_encrypted_groups(plan: Plan) -> None:
    deliveries = one(plan, GROUP).inputs["logDeliveryConfigurations"]
    assert {d["logType"] for d in deliveries} == {"slow-log", "engine-log"}
    groups = {g.inputs["name"]: g.inputs for g in plan.of_type("aws:cloudwatch/logGroup:LogGroup")}
    for delivery in deliveries:
        assert delivery["destinationType"] == "cloudwatch-logs"
        assert groups[delivery["destination"]]["kmsKeyId"] and groups[delivery["destination"]]["retentionInDays"]


def test_only_the_backend_reaches_the_cache(plan: Plan) -> None:
    cache_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", "sg-cache").id
    service_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", "sg-service").id
    assert one(plan, GROUP).inputs["securityGroupIds"] == [cache_sg]
    ingress = [r.inputs for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.inputs["securityGroupId"] == cache_sg]
    assert [(i["referencedSecurityGroupId"], i["fromPort"], i["toPort"]) for i in ingress] == [(service_sg, 6379, 6379)]
    isolated = {r.id for r in plan.of_type("aws:ec2/subnet:Subnet") if r.inputs["tags"]["floyo:tier"] == "isolated"}
    assert set(one(plan, "aws:elasticache/subnetGroup:SubnetGroup").inputs["subnetIds"]) == isolated


def test_primary_endpoint_exported(plan: Plan) -> None:
    assert plan.outputs["cache_primary_endpoint"] == one(plan, GROUP).outputs["primaryEndpointAddress"]
    assert plan.outputs["cache_primary_endpoint"].startswith("master.")
