"""The deploy's path to the database: SSM access host -> 5432 -> Aurora, declared in both stacks, never public."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

import ops.plan.planner
from ops.plan.mocks import FloyoMocks
from ops.plan.planner import Plan, PlannedResource
from tests.data_variants import DEV_DATA, dev_data
from tests.planning import one, plan_prefix_now, settings_for, with_changes

INSTANCE = "aws:ec2/instance:Instance"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
PROVIDER = "pulumi:providers:postgresql"


def group_id(plan: Plan, name: str) -> str:
    return one(plan, GROUP, name).id


def rules_of(plan: Plan, token: str, sg_id: str) -> list[dict]:
    return [r.inputs for r in plan.of_type(token) if r.inputs["securityGroupId"] == sg_id]


def test_a_rule_admits_the_access_host_to_the_database_on_5432_and_its_egress_twin(plan: Plan) -> None:
    access, database = group_id(plan, "db-access-sg"), group_id(plan, "sg-database")
    inbound = [r for r in rules_of(plan, INGRESS, database) if r.get("referencedSecurityGroupId") == access]
    outbound = [r for r in rules_of(plan, EGRESS, access) if r.get("referencedSecurityGroupId") == database]
    for rules in (inbound, outbound):
        assert len(rules) == 1
        assert (rules[0]["ipProtocol"], rules[0]["fromPort"], rules[0]["toPort"]) == ("tcp", 5432, 5432)


def test_nothing_reaches_the_access_host_and_it_reaches_only_aurora_and_ssm(plan: Plan) -> None:
    access = group_id(plan, "db-access-sg")
    assert rules_of(plan, INGRESS, access) == []
    egress = {(r["fromPort"], r.get("referencedSecurityGroupId") or r.get("cidrIpv4")) for r in rules_of(plan, EGRESS, access)}
    assert egress == {(5432, group_id(plan, "sg-database")), (443, group_id(plan, "net-endpoints"))}


def test_access_host_is_in_a_private_subnet_without_public_ip(plan: Plan) -> None:
    host = one(plan, INSTANCE).inputs
    private = {s.id for s in plan.of_type("aws:ec2/subnet:Subnet") if s.inputs["tags"]["floyo:tier"] == "private"}
    assert host["subnetId"] in private
    assert host["associatePublicIpAddress"] is False
    assert host["vpcSecurityGroupIds"] == [group_id(plan, "db-access-sg")]


def test_access_host_is_hardened(plan: Plan, stack: str) -> None:
    host, template = one(plan, INSTANCE), one(plan, TEMPLATE)
    assert host.inputs["launchTemplate"]["id"] == template.id
    assert host.inputs["instanceType"] == settings_for(with_changes(stack)).db_access.instance_type
    assert template.inputs["imageId"].startswith("resolve:ssm:/aws/service/ami-amazon-linux-latest/")
    assert template.inputs["imageId"].endswith("-arm64")  # Graviton
    assert "ami" not in host.inputs  # no AMI id in the program: a new image never replaces the host by itself
    assert template.inputs["metadataOptions"]["httpTokens"] == "required"
    (volume,) = template.inputs["blockDeviceMappings"]
    data_key = one(plan, "aws:kms/key:Key", "data-key")
    assert volume["ebs"]["encrypted"] == "true" and volume["ebs"]["kmsKeyId"].endswith(data_key.id)


def test_access_host_role_may_only_run_the_ssm_agent(plan: Plan) -> None:
    role = one(plan, "aws:iam/role:Role", "db-access-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "ec2.amazonaws.com"}]
    role_name = role.id  # the role's name (IAM roles are identified by name)
    attached = [a.inputs["policyArn"] for a in plan.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if a.inputs["role"] == role_name]
    assert attached == ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    assert [p.name for p in plan.of_type("aws:iam/rolePolicy:RolePolicy") if p.inputs["role"] == role_name] == []
    assert one(plan, "aws:iam/instanceProfile:InstanceProfile").inputs["role"] == role_name
    assert one(plan, INSTANCE).inputs["iamInstanceProfile"] == one(plan, "aws:iam/instanceProfile:InstanceProfile").id


def test_session_manager_endpoints_exist(plan: Plan) -> None:
    services = {str(e.inputs["serviceName"]).rsplit(".", 1)[-1] for e in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {"ssm", "ssmmessages", "ec2messages"} <= services


def test_provider_connects_only_through_the_tunnel(plan: Plan, stack: str) -> None:
    port = settings_for(with_changes(stack)).db_access.local_port
    providers = plan.of_type(PROVIDER)
    assert len(providers) == 2
    for provider in providers:
        assert (provider.inputs["host"], provider.inputs["port"]) == ("127.0.0.1", str(port))
        assert provider.inputs["sslmode"] == "require"
    assert plan.outputs["database_access_instance_id"] == one(plan, INSTANCE).id  # what `ops tunnel` forwards through


def path_urns(plan: Plan) -> set[str]:
    access = group_id(plan, "db-access-sg")
    rules = [r for r in (*plan.of_type(INGRESS), *plan.of_type(EGRESS))
             if access in (r.inputs["securityGroupId"], r.inputs.get("referencedSecurityGroupId"))]
    return {one(plan, INSTANCE).urn, *(r.urn for r in rules)}


def test_database_objects_wait_for_the_writer_instance_and_the_path(plan: Plan) -> None:
    writer = one(plan, "aws:rds/clusterInstance:ClusterInstance", "db-writer")
    for provider in plan.of_type(PROVIDER):
        assert writer.urn in provider.dependencies, provider.name
        assert path_urns(plan) <= set(provider.dependencies), provider.name
    users: list[PlannedResource] = [r for r in plan.resources if r.type.startswith("postgresql:")]
    assert users and all(r.provider in {p.urn for p in plan.of_type(PROVIDER)} for r in users)


def test_without_vpc_endpoints_ssm_goes_through_the_nat() -> None:
    plan = dev_data()  # network.vpc_endpoints: false (beside independent settings); planned whole
    assert DEV_DATA["network"] == {"vpc_endpoints": False}
    access = group_id(plan, "db-access-sg")
    https = [r for r in rules_of(plan, EGRESS, access) if r["fromPort"] == 443]
    assert [(r.get("cidrIpv4"), r.get("referencedSecurityGroupId")) for r in https] == [("0.0.0.0/0", None)]


def test_tunnel_port_setting_moves_the_provider() -> None:
    plan = dev_data()  # db_access.local_port: 25432; the data tier declares both postgresql providers
    providers = plan.of_type(PROVIDER)
    assert len(providers) == 2 and {p.inputs["port"] for p in providers} == {str(DEV_DATA["db_access"]["local_port"])}


class RecordingMocks(FloyoMocks):
    calls: ClassVar[list[str]] = []

    def call(self, args):
        RecordingMocks.calls.append(args.token)
        return super().call(args)


@pytest.mark.parametrize("skip", [False, True])
def test_previews_may_leave_the_master_secret_unread(monkeypatch: pytest.MonkeyPatch, skip: bool) -> None:
    monkeypatch.setattr(ops.plan.planner, "FloyoMocks", RecordingMocks)
    RecordingMocks.calls = []
    if skip:
        monkeypatch.setenv("FLOYO_PREVIEW_WITHOUT_DB_CREDENTIALS", "1")
    else:
        monkeypatch.delenv("FLOYO_PREVIEW_WITHOUT_DB_CREDENTIALS", raising=False)
    config = with_changes("dev")
    # planned now (not from the cache): that nothing reads the secret is read from the whole program; that it
    # is read, from the data tier, which reads it (DatabaseObjects)
    plan = ops.plan.planner.plan_config(config) if skip else plan_prefix_now(config, "data")
    read = "aws:secretsmanager/getSecretVersion:getSecretVersion" in RecordingMocks.calls
    assert read is not skip
    for provider in plan.of_type(PROVIDER):  # still secret, and the preview still plans every object
        assert provider.inputs["username"] == "[secret]" and provider.inputs["password"] == "[secret]"
    assert len([r for r in plan.resources if r.type.startswith("postgresql:")]) > 20
