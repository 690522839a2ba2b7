"""Service level objectives (`monitoring.slo`): what the API promises, and when burning its error budget
alerts someone.

Two SLIs, both read at the load balancer (`AWS/ApplicationELB`, dimension `LoadBalancer` only, which sums
every target group, so the two that gradual deployments alternate are both counted, and an empty one after a
swap reports nothing rather than an error):

* **availability**: the share of requests not answered with a 5xx (target 5xx or load balancer 5xx);
* **latency**: the share of requests the backend answered within `latency_threshold_seconds`.

Each entry of `windows` is a multiwindow burn-rate alert (Google SRE workbook, "Alerting on SLOs"): it
fires when the error ratio over the long window *and* over the short window are both at least
`burn_rate` times the error budget (`1 - objective`). See docs/slo.md.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from stacks.base import Section, tier_of

DAY_MINUTES = 24 * 60
SUB_HOUR_LIMIT_MINUTES = DAY_MINUTES
"""A window under an hour is one alarm period under 3,600 s: CloudWatch caps period × evaluation periods at one
day for those (PutMetricAlarm, `Period`: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/
API_PutMetricAlarm.html)."""
WINDOW_LIMIT_MINUTES = 7 * DAY_MINUTES
"""...and at seven days (604,800 s) for periods of an hour or more (same page)."""


class BurnWindow(Section):
    """One burn-rate alert: a long and a short window, both over `burn_rate` × the error budget."""

    long_minutes: int = Field(
        ge=2, le=WINDOW_LIMIT_MINUTES,
        description="The long window, in minutes (one CloudWatch alarm whose period is the window). At most "
        "7 days (CloudWatch's cap on period × evaluation periods). Required.")
    short_minutes: int = Field(
        ge=1, le=WINDOW_LIMIT_MINUTES,
        description="The short window, in minutes: confirms the burn is still going on, and lets the alert "
        "clear soon after it stops. Shorter than `long_minutes`; the workbook uses 1/12 of it. Required.")
    burn_rate: float = Field(
        gt=0, le=1000,
        description="How many times faster than sustainable the budget burns: 1 spends exactly the budget "
        "over the SLO period; 14.4 spends 2 % of a 30-day budget in an hour. Required.")
    severity: Literal["page", "ticket"] = Field(
        description="`page` notifies the page topic (wakes someone); `ticket` the ticket topic. Required.")

    @field_validator("short_minutes")
    @classmethod
    def _shorter(cls, value: int, info: ValidationInfo) -> int:
        long = info.data.get("long_minutes")
        if long is not None and value >= long:
            raise ValueError(f"must be shorter than long_minutes ({long})")
        return value

    @property
    def label(self) -> str:
        return f"{duration(self.long_minutes)}/{duration(self.short_minutes)} at {self.burn_rate:g}×"


def duration(minutes: int) -> str:
    """`5 min`, `6 h`, `3 d`: the largest unit that divides evenly."""
    if minutes % DAY_MINUTES == 0:
        return f"{minutes // DAY_MINUTES} d"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


WORKBOOK_WINDOWS: tuple[dict[str, Any], ...] = (
    {"long_minutes": 60, "short_minutes": 5, "burn_rate": 14.4, "severity": "page"},
    {"long_minutes": 6 * 60, "short_minutes": 30, "burn_rate": 6, "severity": "page"},
    {"long_minutes": 3 * DAY_MINUTES, "short_minutes": 6 * 60, "burn_rate": 1, "severity": "ticket"},
)
"""The SRE workbook's table for a 30-day SLO: 2 % of the budget in 1 h and 5 % in 6 h page, 10 % in 3 days
opens a ticket. The 3-day window fits CloudWatch as one 259,200 s period (an hour or more: 7-day cap)."""


class SloSettings(Section):
    """SLOs and their burn-rate alerts (`monitoring.slo`). Defaults differ per tier (see TIER_DEFAULTS)."""

    period_days: int = Field(
        default=30, ge=7, le=90,
        description="The SLO period the error budget is counted over (the dashboard's budget remaining). "
        "Default 30.")
    availability_percent: float = Field(
        default=99.9, gt=50, lt=100,
        description="Objective: % of requests that must not be answered 5xx (target or load balancer) over "
        "the period. Default: dev 99.5, prod 99.9.")
    latency_percent: float = Field(
        default=99.0, gt=50, lt=100,
        description="Objective: % of requests the backend must answer within `latency_threshold_seconds`. "
        "Default: dev 95, prod 99.")
    latency_threshold_seconds: float = Field(
        default=1.0, gt=0, le=60,
        description="What counts as fast enough: the load balancer's TargetResponseTime at or under this. "
        "Default: dev 2, prod 1.")
    min_requests: int = Field(
        default=50, ge=1, le=10_000_000,
        description="A long window with fewer requests than this never breaches: one failed request out of "
        "three at night is not a burn. Short windows count from the first request. Default: dev 10, prod 50.")
    windows: list[BurnWindow] = Field(
        default_factory=lambda: [BurnWindow.model_validate(w) for w in WORKBOOK_WINDOWS],
        description="The burn-rate alerts, each a long/short window pair with a burn rate and a severity. "
        "Default: the SRE workbook's 1 h/5 min at 14.4× and 6 h/30 min at 6× (page), 3 d/6 h at 1× (ticket).")

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: list[BurnWindow], info: ValidationInfo) -> list[BurnWindow]:
        if not value:
            raise ValueError("needs at least one window pair")
        if len(value) > 5:
            raise ValueError("at most 5 window pairs (each is 3 alarms per SLO)")
        # CloudWatch's limits need no check here: a window is one period (evaluation periods 1), a window under
        # an hour is under SUB_HOUR_LIMIT_MINUTES by definition, and the field bounds cap the rest at 7 days.
        pairs = [(w.long_minutes, w.short_minutes) for w in value]
        if len(set(pairs)) != len(pairs):
            raise ValueError("each long/short window pair may appear once (it names the alarms)")
        rates = [w.burn_rate for w in value]
        if len(set(rates)) != len(rates):
            raise ValueError(f"burn rates must differ (each suppresses the next lower one): {rates}")
        for name in ("availability_percent", "latency_percent"):
            objective = info.data.get(name)
            if objective is None:
                continue
            budget = (100 - objective) / 100
            hopeless = [w.label for w in value if w.burn_rate * budget >= 1]
            if hopeless:
                raise ValueError(f"{hopeless}: with {name} {objective:g} the error ratio would have to reach "
                                 f"{100 * max(w.burn_rate for w in value) * budget:g} %; such a window can never "
                                 "fire: lower its burn_rate")
        if tier_of(info) == "prod" and not {"page", "ticket"} <= {w.severity for w in value}:
            raise ValueError("prod needs at least one page and one ticket window")
        pages = [w for w in value if w.severity == "page"]
        tickets = [w for w in value if w.severity == "ticket"]
        if pages and tickets and min(w.burn_rate for w in pages) <= max(w.burn_rate for w in tickets):
            raise ValueError("every page window needs a higher burn rate than every ticket window (a page "
                             "suppresses the tickets below it)")
        return sorted(value, key=lambda w: -w.burn_rate)


TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {"availability_percent": 99.5, "latency_percent": 95.0, "latency_threshold_seconds": 2.0,
            "min_requests": 10},
    "prod": {"availability_percent": 99.9, "latency_percent": 99.0, "latency_threshold_seconds": 1.0,
             "min_requests": 50},
}
"""Per-tier defaults of `monitoring.slo` (merged under `monitoring.TIER_DEFAULTS`)."""
