"""The offline plan's runtime switches (`ops.plan.planner.mock_runtime`): the garbage collector is restored
after every plan, and only a process's first plan freezes objects (no plan after it grows the
permanent generation, which is never collected)."""

from __future__ import annotations

import gc

import pytest

from ops.plan.planner import plan_run, plan_stack
from ops.stackfile import ROOT, read_stack_config

BASELINE = ROOT / "baseline"


def test_later_plans_freeze_nothing_and_the_collector_comes_back() -> None:
    # this process's first plan, or a later one: either way. A program declaring nothing runs under the same
    # `mock_runtime` (which alone decides whether to freeze) as a stack's, for none of a stack's CPU
    plan_run(read_stack_config("main-use1", BASELINE), "floyo-baseline", lambda: None)
    frozen = gc.get_freeze_count()
    plan = plan_stack("main-use1", root=BASELINE)  # a later plan: any freeze it made would grow the count
    assert plan.resources and gc.isenabled()
    assert gc.get_freeze_count() <= frozen  # dropped frozen objects are still freed: it may shrink


def test_a_failing_plan_restores_the_collector(tmp_path: pytest.TempPathFactory) -> None:
    from ops.plan.planner import Plan, mock_runtime

    with pytest.raises(RuntimeError, match="boom"), mock_runtime("dev", "us-east-1", Plan("floyo-infra", "dev")):
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
