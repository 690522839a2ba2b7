"""The offline plan's URNs are the engine's (pulumi/pulumi pkg/resource/deploy/deployment.go `generateURN`,
sdk/go/common/resource/urn/urn.go `New`): no root-stack type, the parent's whole type chain kept.
`pulumi up --exclude` does not check its URNs, so a wrong one would be silently ignored."""

from __future__ import annotations

import pytest

from ops.cost.engine import component_of
from ops.diff.graph import _component as graph_component  # pyright: ignore[reportPrivateUsage]
from ops.diff.render import _component as component_label  # pyright: ignore[reportPrivateUsage]
from ops.plan.planner import Plan
from ops.plan.urns import ROOT_STACK_TYPE, engine_urn, is_top_level, leaf_type, name_of, qualified_type
from ops.release.deploy import database_object_urns, service_urns

STACK_URN = "urn:pulumi:dev::floyo-infra::pulumi:pulumi:Stack::floyo-infra-dev"


def test_engine_urn_leaves_out_the_stack_and_keeps_the_chain() -> None:
    top = engine_urn("dev", "floyo-infra", STACK_URN, "floyo:edge:Edge", "edge")
    assert top == "urn:pulumi:dev::floyo-infra::floyo:edge:Edge::edge"
    mid = engine_urn("dev", "floyo-infra", top, "floyo:edge:EdgeRules", "edge-rules")
    assert mid == "urn:pulumi:dev::floyo-infra::floyo:edge:Edge$floyo:edge:EdgeRules::edge-rules"
    leaf = engine_urn("dev", "floyo-infra", mid, "cloudflare:index/ruleset:Ruleset", "edge-rules-cache")
    assert leaf == ("urn:pulumi:dev::floyo-infra::floyo:edge:Edge$floyo:edge:EdgeRules$"
                    "cloudflare:index/ruleset:Ruleset::edge-rules-cache")
    assert engine_urn("dev", "p", "", "pulumi:providers:aws", "default") == "urn:pulumi:dev::p::pulumi:providers:aws::default"


def test_qualified_type_refuses_what_is_not_a_urn() -> None:
    with pytest.raises(ValueError, match="not a URN"):
        qualified_type("floyo:edge:Edge::edge")


def test_plan_urns_follow_the_parent_chain(plan: Plan, stack: str) -> None:
    by_urn = {r.urn: r for r in plan.resources}
    nested = 0
    for r in plan.resources:
        assert ROOT_STACK_TYPE not in r.urn, r.urn
        chain = qualified_type(r.urn)
        parent = by_urn.get(r.parent)
        expected = f"{qualified_type(parent.urn)}${r.type}" if parent else r.type
        assert chain == expected, (r.urn, expected)
        nested += chain.count("$") >= 2
    assert nested, "the plan has resources two components deep"


def test_deploy_excludes_name_real_urns(plan: Plan) -> None:
    urns = {r.urn for r in plan.resources}
    excluded = database_object_urns(plan) | service_urns(plan)
    assert excluded and excluded <= urns
    assert all(ROOT_STACK_TYPE not in u for u in excluded)


def test_leaf_type_name_and_top_level_read_engine_urns() -> None:
    nested = ("urn:pulumi:dev::floyo-infra::floyo:edge:Edge$floyo:edge:EdgeRules$"
              "cloudflare:index/ruleset:Ruleset::edge-rules-cache")
    assert leaf_type(nested) == "cloudflare:index/ruleset:Ruleset"
    assert name_of(nested) == "edge-rules-cache"
    assert leaf_type("urn:pulumi:dev::p::floyo:edge:Edge::a::b") == "floyo:edge:Edge"
    assert name_of("urn:pulumi:dev::p::floyo:edge:Edge::a::b") == "a::b"  # a name may hold "::"
    assert leaf_type("floyo:edge:Edge::edge") == name_of("floyo:edge:Edge::edge") == ""
    assert is_top_level("") and is_top_level(STACK_URN)
    assert not is_top_level("urn:pulumi:dev::floyo-infra::floyo:edge:Edge::edge")


def test_every_reader_of_a_parent_names_the_stack_as_no_component(plan: Plan) -> None:
    """The engine's stack URN (`...::pulumi:pulumi:Stack::floyo-infra-dev`) ends in its name, not its type."""
    assert component_of(STACK_URN) == component_of("") == "(stack)"
    assert component_label(STACK_URN) == "(stack)" and graph_component(STACK_URN) == "stack"
    parented = next(r for r in plan.resources if r.parent and not is_top_level(r.parent))
    parent = next(r for r in plan.resources if r.urn == parented.parent)
    assert component_of(parented.parent) == parent.name
    assert component_label(parented.parent) == f"{parent.type} {parent.name}"
    assert graph_component(parented.parent) == f"{parent.name} ({parent.type.rsplit(':', 1)[-1]})"
