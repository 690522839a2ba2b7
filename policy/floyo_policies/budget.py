"""Budget gate: the stack's budget covers its committed cost estimate (docs/cost.md).

The estimate is `ops/cost/estimates/<stack>.json` (`python -m ops cost STACK --write`, kept current by
tests/test_cost.py). Policies have a fixed enforcement level, so the gate is two policies: the advisory
one reports for stacks that chose `advisory` (the default), the mandatory one for stacks that chose
`mandatory`. The level is read from the plan (the budget's `budget-enforcement` tag, set from
`cost.budget_enforcement`), not only from the file, so a mandatory stack whose file is missing fails too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from ._core import ADVISORY, HIGH, MANDATORY, MEDIUM, FloyoStackPolicy, known, of_type, stack_of

ESTIMATES = Path(__file__).resolve().parent.parent.parent / "ops" / "cost" / "estimates"
"""The committed estimates, beside the pack in the repository (`pulumi preview --policy-pack policy`)."""
BUDGET = "aws:budgets/budget:Budget"
ENFORCEMENT_TAG = "budget-enforcement"
"""The budget's tag naming the stack's level (components/account_alerts.py `BUDGET_ENFORCEMENT_TAG`)."""


def _estimate(stack: str, directory: Path) -> dict[str, Any] | None:
    path = directory / f"{stack}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _level(budget: Any, estimate: dict[str, Any] | None) -> str:
    """The stack's gate level: the budget's `budget-enforcement` tag (components/account_alerts.py,
    from `cost.budget_enforcement`), else the committed file's, else advisory."""
    tags = known(budget.props, "tags")
    level = known(tags, ENFORCEMENT_TAG) if isinstance(tags, Mapping) else None
    return str(level or (estimate or {}).get("budget_enforcement", "advisory"))


def budget_gate(level: str, directory: Path = ESTIMATES) -> Any:
    """The check of the `level` ("advisory"/"mandatory") policy."""

    def check(args: StackValidationArgs, report: ReportViolation) -> None:
        budgets = of_type(args.resources, BUDGET)
        if not budgets:
            args.not_applicable("no budget in this stack")
        stack = stack_of(budgets[0].urn)
        estimate = _estimate(stack, directory)
        if _level(budgets[0], estimate) != level:
            return
        if estimate is None:
            report(f"no committed cost estimate for {stack}: run `python -m ops cost {stack} --write`", None)
            return
        if estimate.get("budget_enforcement", "advisory") != level:
            report(f"ops/cost/estimates/{stack}.json records budget_enforcement "
                   f"{estimate.get('budget_enforcement', 'advisory')!r}, the stack says {level!r}: run "
                   f"`python -m ops cost {stack} --write`", None)
        total = float(estimate["total_monthly_usd"])
        for budget in budgets:
            limit = known(budget.props, "limitAmount")
            if limit is None:
                continue
            if float(limit) < total:
                report(f"the budget {budget.name} (${float(limit):,.2f}/month) is below the stack's estimate "
                       f"(${total:,.2f}/month, prices of {estimate.get('prices_date')}): raise "
                       "account.monthly_budget_usd, or leave it unset to use the estimate x cost.budget_margin",
                       budget.urn)
    return check


budget_covers_estimate = FloyoStackPolicy(
    "budget-covers-estimate",
    "The stack's monthly budget is at least its committed cost estimate (stacks with cost.budget_enforcement "
    "advisory).", budget_gate("advisory"), ADVISORY, MEDIUM, ["docs/cost.md"])

budget_covers_estimate_mandatory = FloyoStackPolicy(
    "budget-covers-estimate-mandatory",
    "The stack's monthly budget is at least its committed cost estimate (stacks with cost.budget_enforcement "
    "mandatory: the preview fails).", budget_gate("mandatory"), MANDATORY, HIGH, ["docs/cost.md"])

POLICIES = [budget_covers_estimate, budget_covers_estimate_mandatory]
