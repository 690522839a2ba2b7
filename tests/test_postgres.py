"""Aurora PostgreSQL and RDS Proxy: what keeps the data safe and the pool reachable, per stack."""

from __future__ import annotations

import json

from ops.plan.planner import Plan
from tests.data_variants import DEV_DATA, dev_data, phase_plan
from tests.planning import one, settings_for, with_changes

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"


def test_prod_cluster_cannot_be_lost(plan: Plan, stack: str) -> None:
    cluster = one(plan, CLUSTER)
    if stack == "prod":
        assert cluster.protect is True
        assert cluster.inputs["deletionProtection"] is True
        assert cluster.inputs["skipFinalSnapshot"] is False
        assert cluster.inputs["finalSnapshotIdentifier"]
        assert cluster.inputs["backupRetentionPeriod"] >= 14
        assert one(plan, "aws:kms/key:Key", "db-key-key").protect is True
    else:
        assert cluster.inputs["backupRetentionPeriod"] >= 1
        assert cluster.inputs.get("finalSnapshotIdentifier")  # dev too, unless skipped by name
    assert cluster.inputs["copyTagsToSnapshot"] is True


def test_storage_secrets_and_insights_use_the_database_key(plan: Plan) -> None:
    key = one(plan, "aws:kms/key:Key", "db-key-key")
    assert key.inputs["enableKeyRotation"] is True
    cluster = one(plan, CLUSTER).inputs
    assert cluster["storageEncrypted"] is True
    assert cluster["kmsKeyId"] == cluster["masterUserSecretKmsKeyId"]
    assert cluster["kmsKeyId"].startswith("arn:aws:kms:") and key.id in cluster["kmsKeyId"]
    assert cluster["manageMasterUserPassword"] is True and "masterPassword" not in cluster
    assert cluster["iamDatabaseAuthenticationEnabled"] is True
    assert cluster["enabledCloudwatchLogsExports"] == ["postgresql"]
    for instance in plan.of_type(INSTANCE):
        assert instance.inputs["performanceInsightsEnabled"] is True
        assert instance.inputs["performanceInsightsKmsKeyId"] == cluster["kmsKeyId"]
        assert instance.inputs["monitoringInterval"] > 0 and instance.inputs["monitoringRoleArn"]
        assert instance.inputs["publiclyAccessible"] is False


def test_tls_forced_and_query_visibility(plan: Plan, stack: str) -> None:
    group = one(plan, "aws:rds/clusterParameterGroup:ClusterParameterGroup")
    params = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    db = settings_for(with_changes(stack)).database
    assert params["rds.force_ssl"] == "1"
    assert "pg_stat_statements" in params["shared_preload_libraries"].split(",")
    assert params["log_min_duration_statement"] == str(db.log_min_duration_statement_ms)
    assert int(params["idle_in_transaction_session_timeout"]) > 0
    instance_params = one(plan, "aws:rds/parameterGroup:ParameterGroup").inputs
    expected = {"name": "max_connections", "value": str(db.max_connections), "applyMethod": "pending-reboot"}
    assert expected in instance_params["parameters"]
    assert instance_params["family"] == f"aurora-postgresql{db.major_version}"
    for instance in plan.of_type(INSTANCE):  # the groups are auto-named after their resource names
        assert instance.inputs["dbParameterGroupName"].startswith("db-instance-params-")
    assert one(plan, CLUSTER).inputs["dbClusterParameterGroupName"].startswith("db-cluster-params-")


def test_writer_and_readers_spread_over_azs(plan: Plan, stack: str) -> None:
    instances = plan.of_type(INSTANCE)
    readers = [i for i in instances if i.inputs["tags"]["floyo:role"] == "reader"]
    writers = [i for i in instances if i.inputs["tags"]["floyo:role"] == "writer"]
    assert len(writers) == 1
    assert len(readers) == {"dev": 1, "prod": 2}[stack]
    assert len({i.inputs["availabilityZone"] for i in instances}) == len(instances)
    assert writers[0].inputs["promotionTier"] == 0 and all(r.inputs["promotionTier"] == 1 for r in readers)
    classes = {i.inputs["instanceClass"] for i in instances}
    cluster = one(plan, CLUSTER).inputs
    if stack == "dev":
        assert classes == {"db.serverless"} and cluster["serverlessv2ScalingConfiguration"]["minCapacity"] > 0
    else:
        assert classes == {"db.r7g.large"} and "serverlessv2ScalingConfiguration" not in cluster
    assert all(i.inputs["engineVersion"] == cluster["engineVersion"] for i in instances)


def test_cluster_lives_in_isolated_subnets_behind_its_group(plan: Plan) -> None:
    isolated = {r.id for r in plan.of_type("aws:ec2/subnet:Subnet") if r.inputs["tags"]["floyo:tier"] == "isolated"}
    assert set(one(plan, "aws:rds/subnetGroup:SubnetGroup").inputs["subnetIds"]) == isolated
    database_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", "sg-database").id
    proxy_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", "sg-proxy").id
    assert one(plan, CLUSTER).inputs["vpcSecurityGroupIds"] == [database_sg]
    ingress = [r.inputs for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
               if r.inputs["securityGroupId"] == database_sg]
    # Exactly two peers, both named: the RDS Proxy, and the SSM access host the deploy tunnels through.
    access_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", "db-access-sg").id
    assert sorted((r["referencedSecurityGroupId"], r["fromPort"], r["toPort"]) for r in ingress) == sorted(
        [(proxy_sg, 5432, 5432), (access_sg, 5432, 5432)])
    assert not [r for r in ingress if "cidrIpv4" in r or "cidrIpv6" in r or "prefixListId" in r]
    proxy = one(plan, "aws:rds/proxy:Proxy").inputs
    assert proxy["vpcSecurityGroupIds"] == [proxy_sg] and set(proxy["vpcSubnetIds"]) == isolated


def test_proxy_requires_tls_and_pools_reads(plan: Plan, stack: str) -> None:
    proxy = one(plan, "aws:rds/proxy:Proxy").inputs
    assert proxy["requireTls"] is True and proxy["engineFamily"] == "POSTGRESQL"
    master = one(plan, CLUSTER)
    # End-to-end IAM: no secret at all, so neither the master nor any app login is reachable by password.
    assert proxy["defaultAuthScheme"] == "IAM_AUTH" and "auths" not in proxy
    endpoint = one(plan, "aws:rds/proxyEndpoint:ProxyEndpoint").inputs
    assert endpoint["targetRole"] == "READ_ONLY" and endpoint["dbProxyName"] == proxy["name"]
    pool = one(plan, "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup").inputs["connectionPoolConfig"]
    db = settings_for(with_changes(stack)).database
    assert pool["maxConnectionsPercent"] == db.proxy.max_connections_percent
    assert pool["maxIdleConnectionsPercent"] <= pool["maxConnectionsPercent"]
    assert pool["connectionBorrowTimeout"] == db.proxy.connection_borrow_timeout_seconds
    target = one(plan, "aws:rds/proxyTarget:ProxyTarget").inputs
    assert target["dbClusterIdentifier"] == master.inputs["clusterIdentifier"] and target["targetGroupName"] == "default"


def test_proxy_role_connects_as_the_app_users_and_reads_no_secret(plan: Plan) -> None:
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "db-proxy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Action"] == "rds-db:connect"
    cluster_id = one(plan, CLUSTER).outputs["clusterResourceId"]
    assert [r.rsplit("/", 1)[1] for r in statement["Resource"]] == ["app_backend_ro", "app_backend_rw", "migrator",
                                                                      "tenant_*"]
    assert all(r.startswith("arn:aws:rds-db:") and f":dbuser:{cluster_id}/" in r for r in statement["Resource"])


def test_proxy_role_reads_only_the_migrations_password_secret() -> None:
    plan = phase_plan("dev", "retire", True)  # the migration's `retire` deploy: the gateway's password login only
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "db-proxy").inputs["policy"])
    auths = {a["secretArn"] for a in one(plan, "aws:rds/proxy:Proxy").inputs["auths"]}
    assert len(auths) == 1 and not any("rds!cluster" in a for a in auths)  # the gateway's; never the master's
    reads = next(s for s in policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue")
    assert set(reads["Resource"]) == auths
    decrypt = next(s for s in policy["Statement"] if s["Action"] == "kms:Decrypt")
    assert "*" not in decrypt["Resource"] and decrypt["Condition"]["StringEquals"]["kms:ViaService"].startswith("secretsmanager.")


def test_exported_logs_are_encrypted_with_retention(plan: Plan, stack: str) -> None:
    group = one(plan, "aws:cloudwatch/logGroup:LogGroup", "db-logs").inputs
    cluster = one(plan, CLUSTER).inputs
    assert group["name"] == f"/aws/rds/cluster/{cluster['clusterIdentifier']}/postgresql"
    assert group["kmsKeyId"] and group["retentionInDays"] == settings_for(with_changes(stack)).database.log_retention_days


def test_dev_may_skip_final_snapshot_only_by_name() -> None:
    assert DEV_DATA["database"] == {"skip_final_snapshot": True, "deletion_protection": False}
    cluster = one(dev_data(), CLUSTER)
    assert cluster.inputs["skipFinalSnapshot"] is True and "finalSnapshotIdentifier" not in cluster.inputs
    assert cluster.inputs["deletionProtection"] is False and cluster.protect is False
