"""The money in a diff: the monthly estimate before and after, total and per changed resource.

Both plans are priced with the working tree's usage assumptions and price table, so the delta is what
the change to the declared resources costs. A change that adds more than `cost.diff_flag_usd` a month
is flagged next to the dangerous changes; `ops diff --fail-on-cost` makes it exit 3.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.cost import estimate_plan
from ops.cost.engine import Estimate


@dataclass(frozen=True)
class LineDelta:
    name: str
    type: str
    before: float
    after: float

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 2)


@dataclass
class CostDelta:
    """The monthly estimate of the base and of the working tree, and what moved."""

    before: float
    after: float
    flag_usd: float
    prices_date: str
    lines: list[LineDelta] = field(default_factory=list)

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 2)

    @property
    def flagged(self) -> bool:
        return self.delta > self.flag_usd

    def summary(self) -> str:
        return (f"monthly cost {_signed(self.delta)} (${self.before:,.2f} -> ${self.after:,.2f}; prices of "
                f"{self.prices_date})")

    def flag_reason(self) -> str:
        return f"adds {_signed(self.delta)} a month, over cost.diff_flag_usd (${self.flag_usd:,.0f})"

    def as_json(self) -> dict[str, Any]:
        return {"before_monthly_usd": self.before, "after_monthly_usd": self.after, "delta_monthly_usd": self.delta,
                "flag_usd": self.flag_usd, "flagged": self.flagged, "prices_date": self.prices_date,
                "resources": [{"name": d.name, "type": d.type, "before": round(d.before, 2),
                               "after": round(d.after, 2), "delta": d.delta} for d in self.lines]}


def _signed(x: float) -> str:
    return f"{'+' if x >= 0 else '-'}${abs(x):,.2f}"


def compare_estimates(before: Estimate, after: Estimate, flag_usd: float) -> CostDelta:
    old = {line.urn: line for line in before.lines}
    new = {line.urn: line for line in after.lines}
    moved = []
    for urn in sorted(old.keys() | new.keys()):
        a, b = old.get(urn), new.get(urn)
        was, now = (a.monthly_usd if a else 0.0), (b.monthly_usd if b else 0.0)
        if round(now - was, 2) != 0:
            ref = b or a
            assert ref is not None
            moved.append(LineDelta(ref.name, ref.type, was, now))
    moved.sort(key=lambda d: -abs(d.delta))
    return CostDelta(before.total, after.total, flag_usd, after.prices_date, moved)


def cost_delta(stack: str, base: Mapping[str, Any] | None, head: Mapping[str, Any], repo: Path) -> CostDelta:
    """Price both plans (`Plan.as_json()`; `base` None: an empty stack) with the working tree's settings."""
    from ops.stackfile import read_stack_config
    from stacks import load_settings

    config = read_stack_config(stack, repo)
    settings = load_settings(stack, config.values, config.secret_keys, config.secure_paths)

    def priced(resources: Sequence[Mapping[str, Any]], with_plan: bool) -> Estimate:
        return estimate_plan(resources, config.region, settings.cost.usage, settings.cdn.plan if with_plan else None)

    before = priced((base or {}).get("resources", []), base is not None)
    return compare_estimates(before, priced(head.get("resources", []), True), settings.cost.diff_flag_usd)


def text_lines(delta: CostDelta) -> list[str]:
    lines = ["", delta.summary()]
    if delta.flagged:
        lines.append(f"COST: {delta.flag_reason()}")
    lines += [f"  $ {d.type}  {d.name}: {_signed(d.delta)}/month (${d.before:,.2f} -> ${d.after:,.2f})"
              for d in delta.lines]
    return lines


def markdown_lines(delta: CostDelta) -> list[str]:
    lines = [""]
    if delta.flagged:
        lines.append(f"> [!WARNING]\n> **Cost: {delta.flag_reason()}.**\n")
    lines.append(f"**{delta.summary()}**" + (" (no priced resource changed)" if not delta.lines else ""))
    if delta.lines:
        lines += ["", "| Resource | Type | Before | After | Delta |", "|---|---|---:|---:|---:|"]
        lines += [f"| `{d.name}` | `{d.type}` | {d.before:,.2f} | {d.after:,.2f} | {_signed(d.delta)} |"
                  for d in delta.lines[:30]]
        if len(delta.lines) > 30:
            lines.append(f"\n... and {len(delta.lines) - 30} more (`--format json` lists all)")
    return lines
