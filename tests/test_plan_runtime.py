"""The offline plan's runtime switches (`ops.plan.planner.mock_runtime`): the garbage collector is restored
after every plan, and only a process's first plan freezes objects (no plan after it grows the permanent
generation, which is never collected; a test worker's own freeze before each plan it makes, `tests/planning.py`
`_after_freeze`, freezes what the tests hold but no plan after the first); the SDK's `contains_unknowns` is
replaced by one that answers the same and leaves no garbage cycle (ops/plan/unknowns.py), and a plan is the same
with it."""

from __future__ import annotations

import dataclasses
import gc
import json
from contextlib import nullcontext
from typing import Any

import pulumi
import pytest
from pulumi.output import UNKNOWN
from pulumi.runtime import rpc

from ops.plan import planner
from ops.plan.planner import UNKNOWN as UNKNOWN_TEXT
from ops.plan.planner import Plan, plan_config, plan_run, plan_stack
from ops.plan.unknowns import contains_unknowns
from ops.stackfile import ROOT, read_stack_config
from tests.planning import Tier, plan_prefix_now, planned, with_changes

BASELINE = ROOT / "baseline"


def test_later_plans_freeze_nothing_and_the_collector_comes_back() -> None:
    # this process's first plan, or a later one: either way. A program declaring nothing runs under the same
    # `mock_runtime` (which alone decides whether to freeze) as a stack's, for none of a stack's CPU
    plan_run(read_stack_config("main-use1", BASELINE), "floyo-baseline", lambda: None)
    frozen = gc.get_freeze_count()
    plan = plan_stack("main-use1", root=BASELINE)  # a later plan: any freeze it made would grow the count
    assert plan.resources and gc.isenabled()
    assert gc.get_freeze_count() <= frozen  # dropped frozen objects are still freed: it may shrink


def test_a_plan_made_for_the_tests_leaves_the_plan_before_it_unfrozen() -> None:
    """A test worker freezes what it holds before each plan it makes (tests/planning.py `_after_freeze`), but
    not the last plan, which the SDK's globals still held: it is freed then, never frozen for good. (Run alone in
    a fresh process too: it must not depend on an earlier test having planned.)"""
    import weakref

    from pulumi.runtime import settings as pulumi_settings

    from tests.planning import _after_freeze

    config = read_stack_config("dev")
    # a plan first: the one that starts the SDK's executor threads stays reachable from their event loops'
    # contexts for the process's life (once per process, whoever plans first); the plan after it is the probe
    _after_freeze(lambda: plan_prefix_now(config, "base"))
    _after_freeze(lambda: plan_prefix_now(config, "base"))
    root = pulumi_settings.get_root_resource()
    assert root is not None
    last = weakref.ref(root)
    del root
    _after_freeze(lambda: plan_prefix_now(config, "base"))
    assert last() is None


def test_a_failing_plan_restores_the_collector(tmp_path: pytest.TempPathFactory) -> None:
    from ops.plan.planner import mock_runtime

    with pytest.raises(RuntimeError, match="boom"), mock_runtime("dev", "us-east-1", Plan("floyo-infra", "dev")):
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


# --- the SDK's `contains_unknowns`, replaced for the plan (ops/plan/unknowns.py) -------------------------

SDK_CONTAINS_UNKNOWNS = rpc.contains_unknowns
"""The SDK's own, as imported (outside any plan)."""


def _values() -> list[Any]:
    looped: list[Any] = [1]
    looped.append(looped)  # a list holding itself: the walk's `seen_ids` guard
    shared = [UNKNOWN]
    return [None, 0, "", "text", UNKNOWN, [], {}, [1, 2, [3]], [1, [2, [UNKNOWN]]], {"a": {"b": [1, UNKNOWN]}},
            {"a": 1, "b": [{"c": None}]}, (UNKNOWN,), {UNKNOWN: 1}, looped, [looped, UNKNOWN],
            {"x": shared, "y": shared}, [shared, [shared]], {"k": (1, [UNKNOWN])}]


def test_contains_unknowns_answers_as_the_sdks_does() -> None:
    answers = [(contains_unknowns(v), SDK_CONTAINS_UNKNOWNS(v)) for v in _values()]
    assert [ours for ours, _ in answers] == [sdk for _, sdk in answers]
    assert {ours for ours, _ in answers} == {True, False}  # both answers occur: a constant would fail


def test_contains_unknowns_leaves_no_cycle_to_collect() -> None:
    values = _values()[:12]  # not the self-referencing list: a cycle of the test's own

    def garbage_after(check: Any) -> int:
        gc.collect()
        gc.disable()
        try:
            for value in values:
                check(value)
            return gc.collect()
        finally:
            gc.enable()

    assert garbage_after(SDK_CONTAINS_UNKNOWNS) > 0  # the SDK's leaves cycles: what this test would see
    assert garbage_after(contains_unknowns) == 0


def _unknowns_program() -> None:
    """Outputs whose values hold the unknown value at some depth, and ones that do not: the SDK decides
    which are known (`_OutputData`, `Output.future`, `apply`) through `contains_unknowns`."""
    pulumi.export("nested", pulumi.Output.from_input([1, {"a": UNKNOWN}]))
    pulumi.export("plain", pulumi.Output.from_input([1, {"a": 2}]))
    pulumi.export("applied", pulumi.Output.from_input({"b": [UNKNOWN]}).apply(lambda v: len(v)))
    pulumi.export("joined", pulumi.Output.all(1, pulumi.Output.from_input("x")).apply(lambda v: f"{v[0]}{v[1]}"))
    pulumi.export("helper", rpc.contains_unknowns is contains_unknowns)


def test_a_plan_runs_with_ours_and_restores_the_sdks(monkeypatch: pytest.MonkeyPatch) -> None:
    config = read_stack_config("main-use1", BASELINE)
    tuned = plan_run(config, "floyo-baseline", _unknowns_program)
    assert rpc.contains_unknowns is SDK_CONTAINS_UNKNOWNS  # restored after the plan
    assert tuned.outputs == {"nested": UNKNOWN_TEXT, "plain": [1, {"a": 2}], "applied": UNKNOWN_TEXT,
                             "joined": "1x", "helper": True}
    monkeypatch.setattr(planner, "acyclic_unknowns", nullcontext)
    sdk = plan_run(config, "floyo-baseline", _unknowns_program)
    assert {**sdk.outputs, "helper": True} == tuned.outputs and sdk.outputs["helper"] is False


def _records(plan: Plan) -> dict[str, list[str]]:
    """Everything a plan holds, each kind sorted: compared as multisets. The registration order is left out:
    under the SDK's thread-pool monitor calls it differs from one run of the same plan to the next."""
    def dump(record: Any) -> str:
        return json.dumps(dataclasses.asdict(record), sort_keys=True)

    return {"resources": sorted(map(dump, plan.resources)), "lookups": sorted(map(dump, plan.lookups)),
            "reads": sorted(map(dump, plan.reads)), "outputs": [json.dumps(plan.outputs, sort_keys=True)]}


@pytest.mark.parametrize(("stack", "upto"), [("prod", None), ("dev", "edge")])
def test_a_stack_plans_as_under_the_sdks_own_helpers(stack: str, upto: Tier | None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan of a committed stack under `mock_runtime` (from the session's store, shared with the tests
    that read it) equals, record for record, the plan made now with the SDK's own `contains_unknowns`.
    Prod whole (its outputs and lookups too) and dev up to its edge: the two stacks differ only in settings,
    and dev declares no resource type prod does not. No record of prod's plan holds an unknown value, so these
    plans alone could not tell a `contains_unknowns` that always says no: the tests above can."""
    config = with_changes(stack)
    tuned = planned(config, upto=upto)
    monkeypatch.setattr(planner, "acyclic_unknowns", nullcontext)
    sdk = plan_config(config) if upto is None else plan_prefix_now(config, upto)
    assert tuned.resources and _records(tuned) == _records(sdk)
