"""The stack's monthly budget: set by name, or the committed cost estimate times the margin.

`python -m ops cost STACK --write` commits `ops/cost/estimates/<stack>.json` (the plan priced from the
vendored table, docs/cost.md); the program reads it here so the budget follows what the stack
declares. A test fails when the committed estimate drifts from the plan's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from stacks.settings import StackSettings

ESTIMATES = Path(__file__).resolve().parent.parent / "ops" / "cost" / "estimates"
"""Committed estimates, one `<stack>.json` per stack."""


@dataclass(frozen=True)
class CommittedEstimate:
    """What `ops cost STACK --write` committed: the monthly total and the price table's date."""

    total_monthly_usd: float
    prices_date: str
    budget_enforcement: str


def estimate_file(stack: str, directory: Path = ESTIMATES) -> Path:
    return directory / f"{stack}.json"


def committed_estimate(stack: str, directory: Path = ESTIMATES) -> CommittedEstimate | None:
    """The committed estimate of `stack`, or None when there is none."""
    path = estimate_file(stack, directory)
    if not path.is_file():
        return None
    doc = json.loads(path.read_text())
    return CommittedEstimate(float(doc["total_monthly_usd"]), str(doc["prices_date"]),
                             str(doc.get("budget_enforcement", "advisory")))


def monthly_budget(stack: str, settings: StackSettings, directory: Path = ESTIMATES) -> float:
    """`account.monthly_budget_usd` when set, else the committed estimate x `cost.budget_margin`, else (a
    stack with no committed estimate yet, or in a region the price table lacks) `cost.fallback_budget_usd`,
    which the policy pack's `budget-covers-estimate` reports on every preview until the estimate is committed."""
    if settings.account.monthly_budget_usd is not None:
        return settings.account.monthly_budget_usd
    committed = committed_estimate(stack, directory)
    if committed is None:
        return settings.cost.fallback_budget_usd
    return round(committed.total_monthly_usd * settings.cost.budget_margin, 2)
