"""SLO burn-rate alerts as data: the SLIs, one ratio alarm per window, one composite per window pair.

The same specs drive the CloudWatch alarms (`components/slo_alarms.py`), the dashboard's error-budget row
(`components/slo_dashboard.py`), `python -m ops slo` and the synthetic-traffic test, which evaluates exactly
these expressions.

Every ratio alarm reads the load balancer as a whole (dimension `LoadBalancer` only): ALB publishes
`RequestCount`, `HTTPCode_Target_5XX_Count` and `TargetResponseTime` per load balancer as well as per
target group, and the per-load-balancer series is the sum over every target group. So both target groups a
gradual deployment alternates count, and a target group left empty after a swap changes nothing
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi

from components.alarm_catalogue import Metric
from stacks.slo import BurnWindow, SloSettings, duration

SliKey = Literal["availability", "latency"]
ELB = "AWS/ApplicationELB"
COMPARISON = "GreaterThanOrEqualToThreshold"
"""At or over the burn rate: a steady 1× burn spends exactly the budget, and that is worth a ticket."""
MISSING = "notBreaching"
"""No request in a window is no burn (an unreachable edge is the health check's and canary's job)."""
SUPPRESSOR_WAIT_SECONDS = 120
"""How long a lower alert holds its notification for the higher one to fire (guardian/cdk uses 120 s)."""
AVAILABILITY_BAD = "FILL(target5xx, 0) + FILL(elb5xx, 0)"
"""Requests answered 5xx, by a target or by the load balancer itself (metric math over `Sli.metrics` ids)."""
AVAILABILITY_TOTAL = "FILL(requests, 0) + FILL(elb503, 0)"
"""Every request: `RequestCount` "is only incremented for requests where the load balancer node was able to choose
a target. Requests that are rejected before a target is chosen are not reflected in this metric" (ALB CloudWatch
metrics, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html).
So a 502 or 504 (a target was chosen, then failed) is already in it, and only the 503 the load balancer sends when
no target can be chosen (`HTTPCode_ELB_503_Count`, "HTTP 503 error codes that originate from the load balancer",
same page) is added."""


@dataclass(frozen=True)
class Sli:
    """A service level indicator: the share of good requests, and its objective."""

    key: SliKey
    title: str
    objective_percent: float
    definition: str
    """How it is measured, for the alarm description, `ops slo` and the docs."""
    latency_threshold_seconds: float = 0.0

    @property
    def budget(self) -> float:
        """The error budget as a ratio of requests (0.001 for 99.9 %)."""
        return round((100 - self.objective_percent) / 100, 12)

    def metrics(self, load_balancer: pulumi.Input[str], period: int) -> tuple[Metric, ...]:
        lb = {"LoadBalancer": load_balancer}
        if self.key == "availability":
            return (Metric("requests", ELB, "RequestCount", lb, "Sum", period),
                    Metric("target5xx", ELB, "HTTPCode_Target_5XX_Count", lb, "Sum", period),
                    Metric("elb5xx", ELB, "HTTPCode_ELB_5XX_Count", lb, "Sum", period),
                    Metric("elb503", ELB, "HTTPCode_ELB_503_Count", lb, "Sum", period))
        rank = f"PR(:{self.latency_threshold_seconds:g})"
        return (Metric("fast", ELB, "TargetResponseTime", lb, rank, period),
                Metric("responses", ELB, "TargetResponseTime", lb, "SampleCount", period))

    def bad_ratio(self, floor: int) -> str:
        """Metric math: the share of bad requests in the period, 0 under `floor` requests.

        Availability divides by `RequestCount` plus the load balancer's 503s (`AVAILABILITY_TOTAL`): those
        are the requests rejected before a target was chosen, which `RequestCount` leaves out, so a full
        outage is all bad instead of 0 bad out of 0. The 502s and 504s are already in `RequestCount`."""
        if self.key == "availability":
            total = f"({AVAILABILITY_TOTAL})"
            return f"IF({total} >= {floor}, ({AVAILABILITY_BAD}) / {total}, 0)"
        return f"IF(FILL(responses, 0) >= {floor}, 1 - FILL(fast, 100) / 100, 0)"


def slis(settings: SloSettings) -> tuple[Sli, ...]:
    """The stack's SLIs with their objectives."""
    t = settings.latency_threshold_seconds
    return (
        Sli("availability", "Availability", settings.availability_percent,
            "requests not answered 5xx: 1 - (HTTPCode_Target_5XX_Count + HTTPCode_ELB_5XX_Count) / (RequestCount "
            "+ HTTPCode_ELB_503_Count), summed over the load balancer (both target groups)"),
        Sli("latency", "Latency", settings.latency_percent,
            f"requests the backend answered within {t:g} s: TargetResponseTime PR(:{t:g}) over the load balancer "
            "(both target groups)", latency_threshold_seconds=t),
    )


def short_duration(minutes: int) -> str:
    """`5m`, `6h`, `3d`, for alarm keys."""
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


@dataclass(frozen=True)
class WindowAlarm:
    """One ratio alarm: the SLI's bad ratio over one window (a single period) against the burn threshold."""

    key: str
    sli: Sli
    minutes: int
    metrics: tuple[Metric, ...]
    expression: str
    threshold: float
    """The bad-request ratio at which it breaches: burn rate × budget."""
    evaluation_periods: int = 1
    datapoints_to_alarm: int = 1
    comparison: str = COMPARISON
    treat_missing_data: str = MISSING

    @property
    def period(self) -> int:
        return self.minutes * 60


@dataclass(frozen=True)
class BurnAlert:
    """One multiwindow alert: the composite `ALARM(long) AND ALARM(short)`."""

    key: str
    sli: Sli
    window: BurnWindow
    long: WindowAlarm
    short: WindowAlarm
    suppressor: str | None
    """Key of the next-higher burn alert of the same SLI: while it is in ALARM, this one stays silent."""
    service_down: bool
    """Member of the service-down composite (which pages); this alert itself then notifies the ticket topic."""
    period_minutes: int
    """The SLO period (`period_days`), for the share of the budget a window spends."""

    @property
    def severity(self) -> str:
        return self.window.severity

    @property
    def routes_to(self) -> str:
        return "page via service-down" if self.service_down else self.severity

    @property
    def title(self) -> str:
        return f"{self.sli.title} SLO burning {self.window.burn_rate:g}× ({self.window.label})"

    def description(self) -> str:
        w, budget = self.window, self.sli.budget
        spent = 100 * w.burn_rate * w.long_minutes / self.period_minutes
        return (f"{self.title}. SLI: {self.sli.definition}. Objective {self.sli.objective_percent:g} %. Fires when "
                f"the bad ratio is at least {100 * w.burn_rate * budget:.4g} % over both the last "
                f"{duration(w.long_minutes)} and the last {duration(w.short_minutes)}: at this pace {spent:.3g} % of the "
                "error budget goes in the long window. Check first: the dashboard's SLO row (which window, since "
                "when), the last deploy, the backend 5xx and latency alarms. docs/slo.md says what to do.")


def burn_alerts(settings: SloSettings, load_balancer: pulumi.Input[str]) -> list[BurnAlert]:
    """Every burn alert of every SLI, highest burn rate first within an SLI (settings keep them sorted).

    The availability SLI's highest page joins the service-down composite (`service_down`)."""
    alerts: list[BurnAlert] = []
    for sli in slis(settings):
        above: str | None = None
        for index, window in enumerate(settings.windows):
            key = f"slo-{sli.key}-{short_duration(window.long_minutes)}-{short_duration(window.short_minutes)}"
            threshold = round(window.burn_rate * sli.budget, 12)
            long, short = (
                WindowAlarm(f"{key}-{part}", sli, minutes, sli.metrics(load_balancer, minutes * 60),
                            sli.bad_ratio(floor), threshold)
                for part, minutes, floor in (("long", window.long_minutes, settings.min_requests),
                                             ("short", window.short_minutes, 1))
            )
            service_down = sli.key == "availability" and index == 0 and window.severity == "page"
            alerts.append(BurnAlert(key, sli, window, long, short, suppressor=above, service_down=service_down,
                                    period_minutes=settings.period_days * 24 * 60))
            above = key
    return alerts


def window_alarms(alerts: Sequence[BurnAlert]) -> list[WindowAlarm]:
    return [a for alert in alerts for a in (alert.long, alert.short)]
