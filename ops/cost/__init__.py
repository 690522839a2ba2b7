"""`python -m ops cost STACK`: the monthly estimate of what a stack declares, offline (docs/cost.md).

The plan (ops/plan/planner.py) priced from the vendored table (ops/cost/prices.json) with the stack's usage
assumptions (`floyo-infra:cost.usage`); the Cloudflare plan of its zone comes from `cdn.plan`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ops.cost.engine import Estimate, plan_line, price_resources
from ops.cost.prices import prices_for
from stacks.budget import ESTIMATES, estimate_file
from stacks.cost import UsageAssumptions

__all__ = ["Estimate", "estimate_plan", "estimate_stack", "render_markdown", "render_text", "write_estimate"]

def estimate_plan(resources: Sequence[Mapping[str, Any]], region: str, usage: UsageAssumptions,
                  cloudflare_plan: str | None = None) -> Estimate:
    """Price `resources` (`Plan.as_json()["resources"]`) for `region`, plus the zone's Cloudflare plan."""
    prices = prices_for(region)
    estimate = price_resources(resources, prices, usage)
    if cloudflare_plan is not None:
        usd = prices.cloudflare_plans.get(cloudflare_plan)
        if usd is None:
            from ops.cost.engine import Unpriced

            estimate.unpriced.append(Unpriced(f"cloudflare-{cloudflare_plan}", "cloudflare plan",
                                              f"the {cloudflare_plan} plan is priced by contract"))
        else:
            plan_line(estimate, f"cloudflare-{cloudflare_plan}", "cloudflare plan", usd,
                      f"1 zone on the {cloudflare_plan} plan x ${usd:g}/month (cdn.plan)")
    return estimate


def with_settings(values: Mapping[str, str], changes: Sequence[str], namespace: str = "floyo-infra") -> dict[str, str]:
    """Config `values` with `KEY.PATH=VALUE` changes applied (VALUE as JSON, else a string): what-if pricing."""
    from stacks.profiles import deep_merge

    merged = dict(values)
    for change in changes:
        path, sep, raw = change.partition("=")
        if not sep or not path:
            raise ValueError(f"--set {change!r}: expected KEY.PATH=VALUE, e.g. database.reader_count=2")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        top, *rest = path.split(".")
        for key in reversed(rest):
            value = {key: value}
        full = f"{namespace}:{top}"
        current = json.loads(merged[full]) if full in merged and rest else {}
        merged[full] = json.dumps(deep_merge(current, value) if rest else value)
    return merged


def estimate_stack(stack: str, project: str | None = None, stack_dir: Path | None = None,
                   changes: Sequence[str] = ()) -> Estimate:
    """Plan `stack` (of the app, or of `project`, e.g. baseline) offline and price it; `changes`
    (`KEY.PATH=VALUE`) price the stack as if its file said so, without editing it."""
    from ops.plan.planner import plan_config, project_name
    from ops.stackfile import ROOT, load_stack
    from stacks import load_settings

    root = ROOT / project if project else ROOT
    config, settings = load_stack(stack, stack_dir or root, project_name(root))  # the one loader
    if project:  # the baseline: its tier's default usage (it has no cost settings of its own)
        from stacks.cost import TIER_DEFAULTS
        usage = UsageAssumptions.model_validate(TIER_DEFAULTS.get(settings.tier, {}).get("usage", {}))
        plan = plan_config(config, root / "__main__.py", project_name(root))
        return estimate_plan(plan.as_json()["resources"], config.region, usage)
    if changes:  # the file as if it said so: validated again
        config = type(config)(config.stack, with_settings(config.values, changes), list(config.secret_keys),
                              list(config.secure_paths))
        settings = load_settings(stack, config.values, config.secret_keys, config.secure_paths)
    plan = plan_config(config, root / "__main__.py", project_name(root))
    return estimate_plan(plan.as_json()["resources"], config.region, settings.cost.usage, settings.cdn.plan)


def write_estimate(stack: str, estimate: Estimate, enforcement: str, directory: Path = ESTIMATES) -> Path:
    """Commit-ready `ops/cost/estimates/<stack>.json`: what the budget and the budget policy read."""
    path = estimate_file(stack, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "stack": stack, "total_monthly_usd": estimate.total, "prices_date": estimate.prices_date,
        "budget_enforcement": enforcement,
        "written_by": f"python -m ops cost {stack} --write",
    }, indent=2) + "\n")
    return path


def _money(x: float) -> str:
    return f"${x:,.2f}"


def render_text(stack: str, estimate: Estimate) -> str:
    out = [f"monthly estimate of {stack} ({estimate.region}, prices of {estimate.prices_date}): "
           f"{_money(estimate.total)}", ""]
    for component, subtotal in estimate.by_component().items():
        out.append(f"{component}: {_money(subtotal)}")
        for line in sorted((x for x in estimate.lines if x.component == component), key=lambda x: -x.monthly_usd):
            out.append(f"  {_money(line.monthly_usd):>10}  {line.type} {line.name}: {line.basis}")
    if estimate.unpriced:
        out += ["", "not in the total:"]
        out += [f"  {u.type} {u.name}: {u.reason}" for u in estimate.unpriced]
    out += ["", "usage assumed (floyo-infra:cost.usage): "
            + ", ".join(f"{k}={v:g}" for k, v in estimate.usage.items())]
    return "\n".join(out)


def render_markdown(stack: str, estimate: Estimate) -> str:
    out = [f"### Monthly estimate of `{stack}`: **{_money(estimate.total)}**", "",
           f"{estimate.region}, on-demand prices of {estimate.prices_date} (ops/cost/prices.json).", "",
           "| Component | Resource | Type | USD/month | Basis |", "|---|---|---|---:|---|"]
    for line in sorted(estimate.lines, key=lambda x: (x.component, -x.monthly_usd)):
        out.append(f"| {line.component} | `{line.name}` | `{line.type}` | {line.monthly_usd:,.2f} | {line.basis} |")
    out += ["", "| Component | Subtotal |", "|---|---:|"]
    out += [f"| {c} | {v:,.2f} |" for c, v in estimate.by_component().items()]
    if estimate.unpriced:
        out += ["", "Not in the total:", ""] + [f"- `{u.type}` `{u.name}`: {u.reason}" for u in estimate.unpriced]
    return "\n".join(out)
