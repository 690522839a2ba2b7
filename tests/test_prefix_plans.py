"""A plan of the program up to a tier (`tests.planning`'s `upto`) is the whole plan's, for what it declares.

Tests that read only the first tiers plan a prefix of `__main__.py` (a quarter to a half of a whole plan's
cost). That is sound only if the prefix declares, record for record, what the whole program declares for
the same components, and cuts no component in two: then a resource a test finds in the prefix is the one
`pulumi up` would get, and a component the prefix holds is whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.plan.planner import PlannedResource
from tests.planning import TIERS, Tier, _prefix, planned, stack_plan, with_changes
from tests.tier_variants import DEV_PRESENT


def _top(resource: PlannedResource, by_urn: dict[str, PlannedResource]) -> str:
    """The URN of the top-level component `resource` belongs to (itself, if it is one)."""
    while resource.parent in by_urn:
        resource = by_urn[resource.parent]
    return resource.urn


@pytest.mark.parametrize("tier", TIERS)
def test_a_prefix_declares_what_the_whole_program_declares_for_its_components(stack: str, tier: Tier) -> None:
    whole, part = stack_plan(stack), planned(with_changes(stack), upto=tier)
    by_urn = {r.urn: r for r in whole.resources}
    assert part.resources, f"{tier}: the prefix declared nothing"
    for resource in part.resources:
        assert resource.urn in by_urn, f"{tier}: {resource.urn} is not in the whole plan"
        assert resource == by_urn[resource.urn], f"{tier}: {resource.urn} differs from the whole plan's"
    inside = {r.urn for r in part.resources}
    held = {_top(r, by_urn) for r in whole.resources if r.urn in inside}
    split = sorted(r.urn for r in whole.resources if r.urn not in inside and _top(r, by_urn) in held)
    assert not split, f"{tier}: the prefix holds only part of these components' resources: {split}"
    assert len(part.resources) < len(whole.resources), f"{tier}: the prefix declared everything"


def test_each_tier_adds_to_the_one_before(stack: str) -> None:
    sizes: list[int] = []
    before: set[str] = set()
    for tier in TIERS:
        urns = {r.urn for r in planned(with_changes(stack), upto=tier).resources}
        assert before < urns, f"{tier} does not extend the tier before it"
        before = urns
        sizes.append(len(urns))
    assert sizes == sorted(sizes)


def test_a_name_the_program_never_assigns_is_refused() -> None:
    program = Path(__file__).resolve().parent.parent / "__main__.py"
    with pytest.raises(ValueError, match="'no_such_tier'"):
        _prefix(program, "no_such_tier")


def test_the_prefix_of_a_changed_config_follows_the_change() -> None:
    """The changed config is the origin lock tests' (`DEV_PRESENT`, one prefix plan for both): the foundation's
    listener stops verifying client certificates, which dev's committed file has it do."""
    listener = "aws:lb/listener:Listener"
    changed = planned(with_changes("dev", DEV_PRESENT), upto="base")
    committed = planned(with_changes("dev"), upto="base")
    modes = [[r.inputs["mutualAuthentication"]["mode"] for r in p.of_type(listener) if r.name == "api-https"]
             for p in (committed, changed)]
    assert modes == [["verify"], ["off"]]
