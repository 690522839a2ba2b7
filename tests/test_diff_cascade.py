"""Replacements cascade through the plan's dependencies; tenant removals say what happens to the data."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from ops.diff.compare import as_written
from ops.diff.model import Diff, ResourceChange
from ops.diff.plans import diff_plans
from ops.diff.render import render_text
from ops.stackfile import ROOT, read_stack_config
from tests.data_variants import TENANTS_AFTER, TENANTS_BEFORE
from tests.planning import plan_with, planned, settings_for, stack_plan
from tests.variants import NEW_CIDR, with_new_cidr


@cache
def cidr_diff() -> Diff:
    """prod's committed plan against prod's file with `network.cidr` changed (the file tests/test_diff_prod.py
    gives `ops diff`, so one plan serves both)."""
    base = as_written(stack_plan("prod").as_json())
    with tempfile.TemporaryDirectory(prefix="floyo-cidr-") as directory:
        Path(directory, "Pulumi.prod.yaml").write_text(with_new_cidr((ROOT / "Pulumi.prod.yaml").read_text()))
        config = read_stack_config("prod", Path(directory))
    assert settings_for(config).network.cidr == NEW_CIDR
    head = as_written(planned(config).as_json())
    return diff_plans("prod", base, head)


def _replaced_types(diff: Diff) -> dict[str, int]:
    counts: dict[str, int] = {}
    for c in diff.changes:
        if c.replaced:
            counts[c.type] = counts.get(c.type, 0) + 1
    return counts


def test_a_vpc_cidr_change_replaces_everything_in_the_vpc() -> None:
    diff = cidr_diff()
    vpc = [c for c in diff.changes if c.type == "aws:ec2/vpc:Vpc"]
    assert len(vpc) == 1 and vpc[0].replace_paths == ["cidrBlock"]
    replaced = _replaced_types(diff)
    plan = stack_plan("prod")
    for token in ("aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/securityGroup:SecurityGroup",
                  "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:rds/subnetGroup:SubnetGroup",
                  "aws:elasticache/subnetGroup:SubnetGroup"):
        assert replaced.get(token) == len(plan.of_type(token)), (token, replaced.get(token))
    for token in ("aws:rds/cluster:Cluster", "aws:rds/proxy:Proxy", "aws:elasticache/replicationGroup:ReplicationGroup",
                  "aws:rds/clusterInstance:ClusterInstance"):
        assert replaced.get(token) == len(plan.of_type(token)) >= 1, (token, replaced.get(token))
    # route tables change no input of their own: they go because their `vpcId` takes the new VPC's id
    table = next(c for c in diff.changes if c.type == "aws:ec2/routeTable:RouteTable")
    assert table.properties == [] and table.cascade is not None
    assert table.cascade.input == "vpcId" and table.cascade.source.endswith("::net-vpc")
    # updated in place, not replaced: an ALB's subnets and security groups, the ECS service's network
    assert "aws:lb/loadBalancer:LoadBalancer" not in replaced and "aws:ecs/service:Service" not in replaced


def test_the_cascade_is_dangerous_where_data_lives() -> None:
    diff = cidr_diff()
    dangerous = {c.type for c in diff.dangerous}
    assert {"aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance",
            "aws:elasticache/replicationGroup:ReplicationGroup"} <= dangerous
    cluster = next(c for c in diff.dangerous if c.type == "aws:rds/cluster:Cluster")
    assert "`dbSubnetGroupName` takes the new aws:rds/subnetGroup:SubnetGroup" in cluster.danger_reason()
    text = render_text(diff)
    assert "DANGEROUS (" in text and "the database cluster" in text
    assert "aws:ec2/subnet:Subnet: ~" in text  # counts per type


@cache
def tenant_diff() -> Diff:
    """The diff of dev from `TENANTS_BEFORE` to `TENANTS_AFTER` (tests/data_variants.py), whole plans that
    tests/test_tenants_postgres.py plans too (before, this diffed two plans of its own up to the data tier)."""
    base = as_written(plan_with("dev", {"tenants": TENANTS_BEFORE}).as_json())
    head = as_written(plan_with("dev", {"tenants": TENANTS_AFTER}).as_json())
    return diff_plans("dev", base, head)


def _schema(diff: Diff, slug: str) -> ResourceChange:
    return next(c for c in diff.changes if c.type == "postgresql:index/schema:Schema" and c.name.endswith(slug))


def test_tenant_removal_says_forgotten_or_dropped() -> None:
    diff = tenant_diff()
    forgotten, dropped = _schema(diff, "globex"), _schema(diff, "initech")
    assert forgotten.kind == dropped.kind == "remove"
    assert "forgotten, data kept" in forgotten.note and not forgotten.dangerous
    assert dropped.dangerous and "DROP SCHEMA CASCADE: data lost" in dropped.danger_reason()
    text = render_text(diff)
    assert "forgotten, data kept" in text and "DROP SCHEMA CASCADE: data lost" in text


def test_arming_drop_schema_is_dangerous() -> None:
    armed = _schema(tenant_diff(), "acme")
    assert armed.kind == "change" and armed.dangerous
    reason = armed.danger_reason()
    assert "drop_schema armed" in reason and "`retain_on_delete` lost" in reason
