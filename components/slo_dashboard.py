"""The dashboard's SLO rows: error budget remaining over the SLO period, burn rate per window, deploys.

Widgets are plain JSON for `components/dashboard.py` (`DashboardArgs.slo_widgets`); every expression is the
same bad-ratio metric math the alarms evaluate (`Sli.bad_ratio`), so the graph and the alert cannot disagree.
A metric widget's own `start` overrides the dashboard's time range (CloudWatch "Dashboard body structure and
syntax", metric widget properties `start`, `setPeriodToTimeRange`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.slo import AVAILABILITY_BAD, AVAILABILITY_TOTAL, BurnAlert, Sli
from stacks.slo import duration

WIDTH, HEIGHT, COLUMNS = 8, 6, 24
ECS_INSIGHTS = "ECS/ContainerInsights"


@dataclass(frozen=True)
class SloDashboardArgs:
    """What the SLO rows read."""

    alerts: Sequence[BurnAlert]
    load_balancer: pulumi.Input[str]
    """The load balancer's ARN suffix (`app/<name>/<id>`)."""
    period_days: int
    """`monitoring.slo.period_days`."""
    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    """The ECS service whose deployments are drawn next to the budget."""
    composite_arns: Sequence[pulumi.Input[str]] = ()
    """The burn alerts' composites, shown as a state strip. Default none."""


def _rows(sli: Sli, load_balancer: pulumi.Input[str], period: int, suffix: str, visible: bool = False,
          ) -> list[list[Any]]:
    """The SLI's input metrics with ids suffixed (several windows share one widget)."""
    rows: list[list[Any]] = []
    for m in sli.metrics(load_balancer, period):
        dims = [part for key, value in m.dimensions.items() for part in (key, value)]
        rows.append([m.namespace, m.name, *dims, {"id": f"{m.id}{suffix}", "stat": m.stat, "period": period,
                                                   "visible": visible}])
    return rows


def _suffixed(expression: str, sli: Sli, suffix: str) -> str:
    for m in sli.metrics("", 60):
        expression = expression.replace(f"({m.id},", f"({m.id}{suffix},")
    return expression


def budget_widget(sli: Sli, args: SloDashboardArgs, x: int, y: int) -> dict[str, Any]:
    """Budget remaining (%) over the last `period_days`, hour by hour, with the service's deployments."""
    hourly = _rows(sli, args.load_balancer, 3600, "")
    if sli.key == "availability":
        spent = f"RUNNING_SUM({AVAILABILITY_BAD}) / RUNNING_SUM({AVAILABILITY_TOTAL})"
    else:
        spent = "RUNNING_SUM((100 - FILL(fast, 100)) / 100 * FILL(responses, 0)) / RUNNING_SUM(FILL(responses, 0))"
    dims = ["ClusterName", args.cluster_name, "ServiceName", args.service_name]
    return {
        "type": "metric", "x": x, "y": y, "width": 12, "height": HEIGHT, "properties": {
            "title": f"{sli.title}: error budget remaining ({sli.objective_percent:g} % over {args.period_days} d)",
            "view": "timeSeries", "stacked": False, "region": None, "start": f"-P{args.period_days}D", "period": 3600,
            "metrics": [
                [{"expression": f"100 * (1 - ({spent}) / {sli.budget})", "id": "remaining",
                  "label": "budget remaining %"}],
                *hourly,
                [ECS_INSIGHTS, "DeploymentCount", *dims, {"stat": "Maximum", "yAxis": "right", "label": "deploys in flight"}],
            ],
            "annotations": {"horizontal": [{"label": "budget spent", "value": 0, "color": "#d62728", "fill": "below"}]},
            "yAxis": {"left": {"label": "% budget left", "showUnits": False, "max": 100},
                      "right": {"label": "deployments", "showUnits": False, "min": 0}},
        },
    }


def burn_widget(sli: Sli, alerts: Sequence[BurnAlert], args: SloDashboardArgs, x: int, y: int) -> dict[str, Any]:
    """Burn rate (bad ratio / budget) of every window the alerts use, with each alert's threshold."""
    metrics: list[list[Any]] = []
    seen: set[int] = set()
    for alert in alerts:
        for window in (alert.long, alert.short):
            if window.minutes in seen:
                continue
            seen.add(window.minutes)
            suffix = f"w{window.minutes}"
            metrics.append([{"expression": f"{_suffixed(window.expression, sli, suffix)} / {sli.budget}",
                             "id": f"burn{window.minutes}", "label": f"burn rate ({duration(window.minutes)})"}])
            metrics += _rows(sli, args.load_balancer, window.period, suffix)
    return {
        "type": "metric", "x": x, "y": y, "width": 12, "height": HEIGHT, "properties": {
            "title": f"{sli.title}: burn rate per window (1 = budget lasts exactly {args.period_days} d)",
            "view": "timeSeries", "stacked": False, "region": None, "start": "-P3D", "metrics": metrics,
            "annotations": {"horizontal": [
                {"label": f"{a.window.severity} at {a.window.burn_rate:g}× ({a.window.label})",
                 "value": a.window.burn_rate, "color": "#d62728" if a.window.severity == "page" else "#ff7f0e"}
                for a in alerts]},
            "yAxis": {"left": {"label": "× budget", "showUnits": False, "min": 0}},
        },
    }


def slo_widgets(args: SloDashboardArgs, region: pulumi.Input[str], y: int) -> list[dict[str, Any]]:
    """A heading, then per SLI: the budget (left) and the burn rates (right), and the composites' states."""
    widgets: list[dict[str, Any]] = [{"type": "text", "x": 0, "y": y, "width": COLUMNS, "height": 1, "properties": {
        "markdown": "## SLOs: error budget and burn rate (docs/slo.md)"}}]
    y += 1
    if args.composite_arns:
        widgets.append({"type": "alarm", "x": 0, "y": y, "width": COLUMNS, "height": 2, "properties": {
            "title": "Burn-rate alerts", "alarms": list(args.composite_arns)}})
        y += 2
    for sli in dict.fromkeys(a.sli for a in args.alerts):
        alerts = [a for a in args.alerts if a.sli == sli]
        for widget in (budget_widget(sli, args, 0, y), burn_widget(sli, alerts, args, 12, y)):
            widget["properties"]["region"] = region
            widgets.append(widget)
        y += HEIGHT
    return widgets


def slo_rows_height(args: SloDashboardArgs) -> int:
    return 1 + (2 if args.composite_arns else 0) + HEIGHT * len({a.sli.key for a in args.alerts})
