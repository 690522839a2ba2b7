"""The network: subnet tiers, NAT, flow logs, endpoints and least-privilege security groups."""

from __future__ import annotations

import ipaddress

from ops.plan.planner import Plan
from tests.planning import one, plan_with
from tests.tier_variants import DEV_RELAXED

SUBNET = "aws:ec2/subnet:Subnet"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def subnets(plan: Plan, tier: str) -> list[dict]:
    return [r.inputs for r in plan.of_type(SUBNET) if r.inputs["tags"]["floyo:tier"] == tier]


def test_three_subnet_tiers_per_az(plan: Plan, stack: str) -> None:
    azs = {"dev": 2, "prod": 3}[stack]
    for tier in ("public", "private", "isolated"):
        found = subnets(plan, tier)
        assert len(found) == azs
        assert len({s["availabilityZoneId"] for s in found}) == azs  # pinned by AZ ID (tests/test_az_pinning.py)
        assert not any(s["mapPublicIpOnLaunch"] for s in found)
    blocks = [ipaddress.IPv4Network(r.inputs["cidrBlock"]) for r in plan.of_type(SUBNET)]
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])


def test_nat_per_az_in_prod_single_in_dev(plan: Plan, stack: str) -> None:
    assert len(plan.of_type("aws:ec2/natGateway:NatGateway")) == {"dev": 1, "prod": 3}[stack]


def test_isolated_subnets_have_no_route_out(plan: Plan) -> None:
    isolated_rt = one(plan, "aws:ec2/routeTable:RouteTable", "net-isolated-rt")
    routes = [r for r in plan.of_type("aws:ec2/route:Route") if r.inputs["routeTableId"] == isolated_rt.id]
    assert routes == []
    assert not any("isolated" in r.name for r in plan.of_type("aws:ec2/route:Route"))


def test_flow_logs_to_encrypted_group_with_retention(plan: Plan, stack: str) -> None:
    flow = one(plan, "aws:ec2/flowLog:FlowLog")
    assert flow.inputs["trafficType"] == "ALL"
    group = one(plan, "aws:cloudwatch/logGroup:LogGroup", "net-flow-logs")
    assert group.inputs["retentionInDays"] == {"dev": 14, "prod": 365}[stack]  # prod: audit-relevant, >= 365
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")


def test_endpoints_cut_nat_traffic(plan: Plan) -> None:
    services = {r.inputs["serviceName"].rsplit(".", 1)[-1] if "ecr" not in r.inputs["serviceName"]
                else r.inputs["serviceName"].split(".", 3)[-1] for r in plan.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert {"s3", "ecr.api", "ecr.dkr", "logs", "secretsmanager"} <= services


def test_default_security_group_has_no_rules(plan: Plan) -> None:
    default = one(plan, "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert default.inputs.get("ingress", []) == [] and default.inputs.get("egress", []) == []


def test_no_world_ingress_except_https_on_the_load_balancer(plan: Plan) -> None:
    lb_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", "sg-lb").id
    for rule in plan.of_type(INGRESS):
        if rule.inputs.get("cidrIpv4") == "0.0.0.0/0" or rule.inputs.get("cidrIpv6") == "::/0":
            assert rule.inputs["securityGroupId"] == lb_sg, rule.name
            assert (rule.inputs["fromPort"], rule.inputs["toPort"]) == (443, 443), rule.name


def test_tier_rules_name_their_peer_group(plan: Plan) -> None:
    groups = {r.name.removeprefix("sg-"): r.id for r in plan.of_type("aws:ec2/securityGroup:SecurityGroup")
              if r.name.startswith("sg-")}
    pairs = {(r.inputs["referencedSecurityGroupId"], r.inputs["securityGroupId"], r.inputs["fromPort"])
             for r in plan.of_type(INGRESS) if "referencedSecurityGroupId" in r.inputs}
    assert pairs == {
        (groups["lb"], groups["service"], 8000),
        (groups["service"], groups["proxy"], 5432),
        (groups["proxy"], groups["database"], 5432),
        (groups["service"], groups["cache"], 6379),
        # the deploy's tunnel (components/db_access.py): the access host's own group, to the writer
        (one(plan, "aws:ec2/securityGroup:SecurityGroup", "db-access-sg").id, groups["database"], 5432),
    }
    # The data tier may not start connections anywhere.
    for tier in ("database", "cache"):
        assert not [r for r in plan.of_type(EGRESS) if r.inputs["securityGroupId"] == groups[tier]]


def test_no_nat_in_route_of_public_subnets(plan: Plan) -> None:
    public = one(plan, "aws:ec2/route:Route", "net-public-default")
    assert "gatewayId" in public.inputs and "natGatewayId" not in public.inputs


def test_cidr_setting_drives_subnets() -> None:
    plan = plan_with("dev", DEV_RELAXED)  # network.cidr 10.99.0.0/16; whole: every subnet of the stack
    subnets = plan.of_type(SUBNET)
    assert subnets and all(r.inputs["cidrBlock"].startswith("10.99.") for r in subnets)
