"""A CloudWatch dashboard generated from the alarm catalogue (one source, no copy-paste)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarm_catalogue import TIERS, AlarmSpec
from components.slo_dashboard import SloDashboardArgs, slo_rows_height, slo_widgets

SIGNAL_ORDER = ("availability", "traffic", "errors", "latency", "saturation")
"""Golden signals, left to right within a tier's row."""
TIER_TITLES = {"edge": "Edge (public /health)", "backend": "Backend: load balancer and ECS service",
               "postgres": "Postgres: Aurora writer, readers and RDS Proxy", "redis": "Redis: ElastiCache nodes"}
WIDTH, HEIGHT, COLUMNS = 8, 6, 24


def metric_rows(spec: AlarmSpec) -> list[list[Any]]:
    """The widget's `metrics` array for a spec: the alarmed series, then (for math) its inputs."""
    def row(metric: Any, options: dict[str, Any]) -> list[Any]:
        dims = [part for key, value in metric.dimensions.items() for part in (key, value)]
        return [metric.namespace, metric.name, *dims, {"id": metric.id, "stat": metric.stat,
                                                       "period": metric.period, **options}]

    if spec.expression is None:
        return [row(spec.metrics[0], {"label": spec.title})]
    rows: list[list[Any]] = [[{"expression": spec.expression, "label": spec.title, "id": "result"}]]
    for metric in spec.metrics:
        extra = {"yAxis": "right", "label": f"{metric.name} {metric.id}"} if spec.dashboard_inputs else {
            "visible": False}
        rows.append(row(metric, extra))
    return rows


def spec_widget(spec: AlarmSpec, region: pulumi.Input[str], x: int, y: int) -> dict[str, Any]:
    """A time-series graph of the spec with its alarm threshold as a horizontal line."""
    horizontal = {"label": f"alarm: {spec.condition}", "value": spec.threshold, "color": "#d62728",
                  "fill": "above" if spec.comparison.startswith("Greater") else "below"}
    return {
        "type": "metric", "x": x, "y": y, "width": WIDTH, "height": HEIGHT,
        "properties": {
            "title": f"{spec.title} [{spec.signal}]",
            "view": "timeSeries", "stacked": False, "region": spec.region or region,
            "period": spec.period, "metrics": metric_rows(spec),
            "annotations": {"horizontal": [horizontal]},
            "yAxis": {"left": {"label": spec.unit_label, "showUnits": False}},
        },
    }


@dataclass(frozen=True)
class DeploymentView:
    """What the dashboard's "Releases" row shows: the ECS service's deployments and rollback alarms."""

    cluster_name: pulumi.Input[str]
    service_name: pulumi.Input[str]
    rollback_alarm_arns: Sequence[pulumi.Input[str]]
    """The alarms that roll a deployment back (their state strip)."""
    strategy: str
    """`backend.deployment.strategy`, named in the row's title."""


def deployment_widgets(view: DeploymentView, region: pulumi.Input[str], y: int) -> list[dict[str, Any]]:
    """Deployments in flight and task counts per state (Container Insights publishes DeploymentCount and
    TaskSetCount per service: a second deployment or task set is a release in progress, and a count that
    drops back without the new revision serving is a rollback), next to the rollback alarms' states.
    CloudWatch has no metric naming the primary/active task definition revisions: the text widget gives
    the command that lists them."""
    dims = ["ClusterName", view.cluster_name, "ServiceName", view.service_name]
    ci = "ECS/ContainerInsights"
    return [
        {"type": "text", "x": 0, "y": y, "width": COLUMNS, "height": 2, "properties": {"markdown": (
            f"## Releases ({view.strategy})\nWhich revisions serve: `aws ecs describe-services` (deployments: "
            "PRIMARY and ACTIVE task definitions, rolloutState) and `aws ecs list-service-deployments` "
            "(status ROLLBACK_SUCCESSFUL marks a rollback).")}},
        {"type": "metric", "x": 0, "y": y + 2, "width": 12, "height": HEIGHT, "properties": {
            "title": "Deployments and task sets in flight", "view": "timeSeries", "stacked": False,
            "region": region, "period": 60,
            "metrics": [[ci, "DeploymentCount", *dims, {"stat": "Maximum", "label": "deployments"}],
                        [ci, "TaskSetCount", *dims, {"stat": "Maximum", "label": "task sets"}]]}},
        {"type": "metric", "x": 12, "y": y + 2, "width": 12, "height": HEIGHT, "properties": {
            "title": "Tasks: desired, running, pending", "view": "timeSeries", "stacked": False,
            "region": region, "period": 60,
            "metrics": [[ci, name, *dims, {"stat": "Maximum", "label": name}]
                        for name in ("DesiredTaskCount", "RunningTaskCount", "PendingTaskCount")]}},
        {"type": "alarm", "x": 0, "y": y + 2 + HEIGHT, "width": COLUMNS, "height": 2, "properties": {
            "title": "Rollback alarms (a release rolls back while one is in ALARM)",
            "alarms": list(view.rollback_alarm_arns)}},
    ]


def dashboard_body(specs: Sequence[AlarmSpec], region: pulumi.Input[str],
                   composite_arn: pulumi.Input[str] | None = None,
                   deployments: DeploymentView | None = None, slo: SloDashboardArgs | None = None) -> dict[str, Any]:
    """The dashboard JSON (with Outputs inside): the composite's state, releases, SLOs, then one row block per
    tier."""
    widgets: list[dict[str, Any]] = []
    y = 0
    if composite_arn is not None:
        widgets.append({"type": "alarm", "x": 0, "y": y, "width": COLUMNS, "height": 2,
                        "properties": {"title": "Service down (composite)", "alarms": [composite_arn]}})
        y += 2
    if deployments is not None:
        widgets.extend(deployment_widgets(deployments, region, y))
        y += 4 + HEIGHT
    if slo is not None:
        widgets.extend(slo_widgets(slo, region, y))
        y += slo_rows_height(slo)
    for tier in TIERS:
        tier_specs = sorted((s for s in specs if s.tier == tier), key=lambda s: SIGNAL_ORDER.index(s.signal))
        if not tier_specs:
            continue
        widgets.append({"type": "text", "x": 0, "y": y, "width": COLUMNS, "height": 1,
                        "properties": {"markdown": f"## {TIER_TITLES[tier]}"}})
        y += 1
        for index, spec in enumerate(tier_specs):
            column = index % (COLUMNS // WIDTH)
            if index and column == 0:
                y += HEIGHT
            widgets.append(spec_widget(spec, region, column * WIDTH, y))
        y += HEIGHT
    return {"start": "-PT6H", "periodOverride": "inherit", "widgets": widgets}


@dataclass(frozen=True)
class DashboardArgs:
    """Arguments of `Dashboard`."""

    specs: Sequence[AlarmSpec]
    """The same catalogue entries the alarms were made from."""
    region: pulumi.Input[str]
    """The stack's region (widgets of specs in another region say so themselves)."""
    composite_arn: pulumi.Input[str] | None = None
    """ARN of the composite alarm, shown as a status strip on top. Default none."""
    deployments: DeploymentView | None = None
    """The backend service's releases row. Default none."""
    slo: SloDashboardArgs | None = None
    """The SLO rows: error budget, burn rates, deploys (components/slo_dashboard.py). Default none."""


class Dashboard(pulumi.ComponentResource):
    """`floyo-<stack>`: golden signals per tier, thresholds drawn on every graph."""

    dashboard: aws.cloudwatch.Dashboard

    def __init__(self, name: str, args: DashboardArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:monitoring:Dashboard", name, None, opts)
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=f"floyo-{pulumi.get_stack()}",
            dashboard_body=pulumi.Output.json_dumps(
                dashboard_body(args.specs, args.region, args.composite_arn, args.deployments, args.slo)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"dashboard_name": self.dashboard.dashboard_name})
