"""Every security group stays within AWS's rule quota, counting prefix-list references by size.

AWS counts rules per group and direction (default quota 60 inbound and 60 outbound: VPC user
guide, "Amazon VPC quotas", Security groups). A rule naming one CIDR or one group counts 1; a
rule that references a managed prefix list counts as the list's `max_entries`, whatever the list
holds (same page, "Maximum number of entries per prefix list"; and "Work with customer-managed
prefix lists": a reference is refused when rules + max entries exceed the quota).
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from components.security_groups import RULES_PER_DIRECTION
from ops.plan.planner import Plan
from tests.planning import one, plan_with, settings_for, with_changes

GROUP_TYPES = ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
RULE_TYPES = {
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "ingress",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "egress",
}


def rule_weights(plan: Plan) -> dict[tuple[str, str], int]:
    """(group id, direction) -> rules counted against the quota, over the whole plan."""
    sizes = {r.id: int(r.inputs["maxEntries"]) for r in plan.of_type(PREFIX_LIST)}
    weights: dict[tuple[str, str], int] = defaultdict(int)
    for token, direction in RULE_TYPES.items():
        for rule in plan.of_type(token):
            pl = rule.inputs.get("prefixListId")
            weights[(rule.inputs["securityGroupId"], direction)] += sizes[pl] if pl else 1
    for token in GROUP_TYPES:  # inline rules: one per CIDR, per group, and max_entries per prefix list
        for group in plan.of_type(token):
            for direction in ("ingress", "egress"):
                for rule in group.inputs.get(direction) or []:
                    weights[(group.id, direction)] += (
                        len(rule.get("cidrBlocks") or []) + len(rule.get("ipv6CidrBlocks") or [])
                        + len(rule.get("securityGroups") or []) + int(bool(rule.get("self")))
                        + sum(sizes[p] for p in rule.get("prefixListIds") or []))
    for legacy in plan.of_type("aws:ec2/securityGroupRule:SecurityGroupRule"):
        inputs = legacy.inputs
        weights[(inputs["securityGroupId"], inputs["type"])] += (
            len(inputs.get("cidrBlocks") or []) + len(inputs.get("ipv6CidrBlocks") or [])
            + int(bool(inputs.get("sourceSecurityGroupId") or inputs.get("self")))
            + sum(sizes[p] for p in inputs.get("prefixListIds") or []))
    return weights


def test_every_group_within_the_rule_quota(plan: Plan) -> None:
    groups = {g.id for token in GROUP_TYPES for g in plan.of_type(token)}
    weights = rule_weights(plan)
    assert weights, "no rules found: the weighting is not reading the plan"
    assert {gid for gid, _ in weights} <= groups, "a rule names a group the plan does not declare"
    over = {key: weight for key, weight in weights.items() if weight > RULES_PER_DIRECTION}
    assert not over, f"groups over the {RULES_PER_DIRECTION}-rule quota: {over}"


def test_load_balancer_weight_is_the_edge_list_size(plan: Plan, stack: str) -> None:
    lb = one(plan, "aws:ec2/securityGroup:SecurityGroup", "sg-lb")
    size = settings_for(with_changes(stack)).network.edge_prefix_list_max_entries
    assert one(plan, PREFIX_LIST).inputs["maxEntries"] == size
    assert rule_weights(plan)[(lb.id, "ingress")] == size  # one HTTPS rule, no port-80 rule


def test_edge_list_sized_to_cloudflare_with_headroom(plan: Plan) -> None:
    edge = one(plan, PREFIX_LIST).inputs
    assert 15 <= len(edge["entries"]) <= edge["maxEntries"] <= len(edge["entries"]) + 10


def test_nothing_reaches_the_load_balancer_on_80(plan: Plan) -> None:
    lb = one(plan, "aws:ec2/securityGroup:SecurityGroup", "sg-lb")
    ports = {r.inputs["fromPort"] for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
             if r.inputs["securityGroupId"] == lb.id}
    assert ports == {443}


def test_oversized_edge_list_is_refused_by_settings() -> None:
    with pytest.raises(Exception) as err:
        settings_for(with_changes("dev", {"network": {"edge_prefix_list_max_entries": 61}}))
    assert "floyo-infra:network.edge_prefix_list_max_entries: got 61" in str(err.value)
    assert "less than or equal to 50" in str(err.value)


def test_more_ranges_than_the_list_holds_is_one_clear_error() -> None:
    with pytest.raises(Exception, match="edge_prefix_list_max_entries is 10"):  # raised by the foundation's groups
        plan_with("dev", {"network": {"edge_prefix_list_max_entries": 10}}, upto="base")

