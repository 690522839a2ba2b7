"""`python -m ops slo STACK`: the stack's SLOs and their burn-rate alerts, offline.

For each SLI: how it is measured, its objective, and per window pair the burn-rate threshold, where it
routes, and how long a full outage and a steady 2× burn take to notify. The times are computed from the
window arithmetic below; tests/test_slo.py checks them against the evaluator running the plan's alarms.
"""

from __future__ import annotations

import math
from pathlib import Path

from components.slo import SUPPRESSOR_WAIT_SECONDS, BurnAlert, burn_alerts
from ops.stackfile import ROOT, read_stack_config
from stacks import load_settings
from stacks.slo import SloSettings, duration


def minutes_to_fire(alert: BurnAlert, error_ratio: float) -> int | None:
    """Minutes from the start of a steady `error_ratio` (after a clean history, steady traffic) until the
    alert's composite is in ALARM, or None when it never is.

    The ratio over a window of W minutes of which t are burning is `error_ratio · t / W` (t <= W), so the
    window breaches once t >= W · threshold / error_ratio; both windows must, and a window is evaluated at
    whole minutes (CloudWatch evaluates an alarm every minute)."""
    threshold = alert.long.threshold
    if error_ratio < threshold:
        return None
    needed = [max(1, math.ceil(round(w.minutes * threshold / error_ratio, 9))) for w in (alert.long, alert.short)]
    return max(needed)


def minutes_to_notify(alerts: list[BurnAlert], alert: BurnAlert, error_ratio: float) -> int | None:
    """When `alert` notifies: when it fires, unless its suppressor (the next-higher alert) is in ALARM by then
    or within the suppressor's wait (then never while the burn lasts); otherwise after the wait."""
    fires = minutes_to_fire(alert, error_ratio)
    if fires is None:
        return None
    if alert.suppressor is None:
        return fires
    above = next(a for a in alerts if a.key == alert.suppressor)
    above_fires = minutes_to_fire(above, error_ratio)
    wait = SUPPRESSOR_WAIT_SECONDS // 60
    if above_fires is not None and above_fires <= fires + wait:
        return None
    return fires + wait


def _when(minutes: int | None) -> str:
    if minutes is None:
        return "never"
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{mins} min" if mins else ""]
    return " ".join(p for p in parts if p) or "0 min"


def notice(alerts: list[BurnAlert], alert: BurnAlert, error_ratio: float) -> str:
    """A table cell: when `alert` notifies, `suppressed` when it fires under a higher alert, `never`."""
    at = minutes_to_notify(alerts, alert, error_ratio)
    if at is None:
        return "suppressed" if minutes_to_fire(alert, error_ratio) is not None else "never"
    return _when(at)


def first_notice(alerts: list[BurnAlert], error_ratio: float) -> tuple[int | None, str]:
    """The earliest notification for a steady `error_ratio`, and where it goes."""
    notices = [(m, a.routes_to) for a in alerts if (m := minutes_to_notify(alerts, a, error_ratio)) is not None]
    return min(notices) if notices else (None, "nothing")


def slo_table(settings: SloSettings) -> str:
    """The SLO table as text."""
    alerts = burn_alerts(settings, load_balancer="<load balancer>")
    lines = [f"SLO period: {settings.period_days} days; long windows need {settings.min_requests} requests."]
    for sli in dict.fromkeys(a.sli for a in alerts):
        mine = [a for a in alerts if a.sli == sli]
        lines += ["", f"{sli.title}: {sli.objective_percent:g} % (error budget {100 * sli.budget:.4g} % of requests)",
                  f"  SLI: {sli.definition}", "",
                  f"  {'windows (long/short)':<22}{'burn':>7}{'bad ratio ≥':>13}  {'routes to':<22}"
                  f"{'full outage':>16}{'2× burn':>16}"]
        for a in mine:
            w = a.window
            lines.append(
                f"  {duration(w.long_minutes) + ' / ' + duration(w.short_minutes):<22}{w.burn_rate:>6g}×"
                f"{100 * a.long.threshold:>12.4g}%  {a.routes_to:<22}"
                f"{notice(mine, a, 1.0):>16}{notice(mine, a, 2 * sli.budget):>16}")
        for label, ratio in (("full outage", 1.0), ("2× burn", 2 * sli.budget)):
            at, where = first_notice(mine, ratio)
            lines.append(f"  {label}: first notice after {_when(at)} ({where})")
    return "\n".join(lines)


def main_slo(stack: str, stack_dir: Path | None = None) -> int:
    config = read_stack_config(stack, stack_dir or ROOT)
    settings = load_settings(config.stack, config.values, config.secret_keys, config.secure_paths)
    print(f"SLOs of stack {stack} (python -m ops slo; docs/slo.md)")
    print(slo_table(settings.monitoring.slo))
    return 0
