"""Resilience settings (`floyo-infra:resilience`): fault-injection drills, Aurora reader autoscaling,
zonal autoshift on the load balancer. See docs/resilience.md."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from stacks.base import Section, check_retention, prod_refuses

AURORA_MAX_READERS = 15
"""An Aurora cluster holds one writer and at most 15 Aurora Replicas (Aurora user guide, "Adding Aurora
Replicas to a DB cluster"); fixed and autoscaled readers share that limit."""

EXPERIMENTS = ("ecs-stop-tasks", "aurora-failover", "cache-az-power", "az-network-disruption")
"""The FIS experiments (components/fault_injection.py) `python -m ops drill` runs; every stack declares them
all but `cache-az-power`, which needs a cache with replicas (`cache.replicas` >= 1, Multi-AZ)."""

EXPERIMENT_TAG = "floyo:experiment"
"""Tag on each template naming its experiment; `ops drill` finds the template by it and `floyo:stack`."""

FIS_TARGET_TAG = "floyo:fis-target"
"""Tag FIS selects the cache's replication group and the Aurora cluster by, where it refuses ARNs (for
`aws:elasticache:replicationgroup` always, and for any target with parameters); value `fis_target()`."""


def fis_target(stack: str, what: str) -> str:
    """The `FIS_TARGET_TAG` value of the stack's `what` (`cache`, `db`): unique per stack in the account."""
    return f"floyo-{stack}-{what}"


AUTOSCALED_PREFIX = "application-autoscaling-"
"""Identifier prefix Aurora Auto Scaling gives the readers it adds (Aurora user guide, "Amazon Aurora Auto
Scaling with Aurora Replicas"); `python -m ops readers` finds them by it."""

_PRACTICE_WINDOW = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):[0-5]\d-(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):[0-5]\d$")
_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


class FaultInjectionSettings(Section):
    """AWS FIS experiment templates (`floyo-infra:resilience.fault_injection`)."""

    enabled: bool = Field(
        default=True,
        description="Declare the experiment templates, their role and log group. Templates cost nothing until an "
        "experiment runs (`python -m ops drill`). Default true.",
    )
    stop_task_percent: int = Field(
        default=100, ge=1, le=100,
        description="Share of the backend's running tasks `ecs-stop-tasks` stops (FIS `PERCENT(n)`); it must select at "
        "least one task at `backend.min_tasks`, counting a fraction as rounded down (a template that selects nothing "
        "fails). "
        "Default: dev 100 (dev runs one task), prod 34 (one task of three; prod keeps at least one serving).",
    )

    _prod_keeps_tasks = prod_refuses(
        "stop_task_percent", lambda value: value >= 100,
        "prod keeps at least one task serving during a drill (use < 100)",
    )
    zone_index: int = Field(
        default=0, ge=0, le=5,
        description="Which of `network.availability_zone_ids` the `az-network-disruption` and `cache-az-power` drills "
        "impair (0 = the first). Default 0.",
    )
    disruption_minutes: int = Field(
        default=5, ge=1, le=60,
        description="How long the network disruption and the cache's power interruption last, 1-60 minutes. Default 5.",
    )
    log_retention_days: int = Field(
        default=90, description="Days the experiments' logs are kept (a CloudWatch retention period). Default 90.")

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_retention(value)


class ReaderAutoscalingSettings(Section):
    """Aurora Auto Scaling of readers (`floyo-infra:resilience.reader_autoscaling`)."""

    enabled: bool = Field(
        default=False,
        description="Scale the Aurora readers with Application Auto Scaling (`rds:cluster:ReadReplicaCount`). "
        "Default: dev false, prod true. Autoscaled readers are not in Pulumi's state: before destroying the "
        "stack run `python -m ops readers STACK scale-in` (docs/resilience.md).",
    )
    max_readers: int = Field(
        default=2, ge=1, le=AURORA_MAX_READERS,
        description="Most readers the cluster may hold, fixed (`database.reader_count`) plus autoscaled, <= 15 "
        "(Aurora's limit). Default: dev 2, prod 5.",
    )
    metric: Literal["cpu", "connections"] = Field(
        default="cpu",
        description="What the readers track: `cpu` (RDSReaderAverageCPUUtilization, percent) or `connections` "
        "(RDSReaderAverageDatabaseConnections, per reader). Default cpu.",
    )
    target_value: float = Field(
        default=60, gt=0,
        description="The average the policy holds the metric at: 10-90 (%) for cpu; for connections, below the "
        "proxy's per-instance ceiling (the proxy never opens more, so a higher target would never scale out). "
        "Default 60.",
    )
    scale_out_cooldown_seconds: int = Field(
        default=300, ge=0, le=3600, description="Seconds after a scale-out before the next. Default 300.")
    scale_in_cooldown_seconds: int = Field(
        default=900, ge=0, le=3600,
        description="Seconds after a scale-in before the next (a new reader takes ~10 minutes to become "
        "available, so scaling in fast flaps). Default 900.",
    )

    @field_validator("target_value")
    @classmethod
    def _target(cls, value: float, info: ValidationInfo) -> float:
        if info.data.get("metric") == "cpu" and not 10 <= value <= 90:
            raise ValueError("must be 10-90 (percent CPU) when metric is cpu")
        return value


class ZonalAutoshiftSettings(Section):
    """ARC zonal autoshift on the load balancer (`floyo-infra:resilience.zonal_autoshift`)."""

    enabled: bool = Field(
        default=False,
        description="Turn on ARC zonal shift on the ALB and let AWS shift traffic away from an impaired AZ "
        "(autoshift), with weekly practice runs. Default: dev false, prod true.",
    )
    blocked_windows: list[str] = Field(
        default=["Tue:08:00-Tue:18:00", "Thu:08:00-Thu:18:00"], max_length=15,
        description="UTC windows `Day:HH:MM-Day:HH:MM` when ARC starts no practice run: the release windows, so "
        "a practice run never overlaps a gradual deployment and trips its rollback alarms. Each starts and ends "
        "on the same day, start before end (ARC refuses windows spanning days; a late-night window is two "
        "windows). At most 15 (ARC CreatePracticeRunConfiguration). Default Tue and Thu 08:00-18:00.",
    )
    blocked_dates: list[str] = Field(
        default_factory=list, max_length=15,
        description="Dates `YYYY-MM-DD` with no practice run (freezes, launches), at most 15. Default none.")

    @field_validator("blocked_windows")
    @classmethod
    def _windows(cls, value: list[str]) -> list[str]:
        bad = [w for w in value if not _PRACTICE_WINDOW.match(w)]
        if bad:
            raise ValueError(f"{bad} are not Day:HH:MM-Day:HH:MM (UTC, Day one of Mon..Sun), e.g. Tue:08:00-Tue:18:00")
        # botocore arc-zonal-shift model, PracticeRunConfiguration.blockedWindows: "The blockedWindows have
        # to start and end on the same day. Windows that span multiple days aren't supported."
        spanning = [w for w in value if w[:3] != w[10:13] or w[4:9] >= w[14:19]]
        if spanning:
            raise ValueError(f"{spanning} must start and end on the same day, start before end (ARC refuses windows "
                             "spanning days): split one into two, e.g. Mon:22:00-Mon:23:59 and Tue:00:00-Tue:02:00")
        return value

    @field_validator("blocked_dates")
    @classmethod
    def _dates(cls, value: list[str]) -> list[str]:
        bad = [d for d in value if not _DATE.match(d)]
        if bad:
            raise ValueError(f"{bad} are not dates YYYY-MM-DD")
        return value


class ResilienceSettings(Section):
    """Drills, reader autoscaling and zonal autoshift (`floyo-infra:resilience`)."""

    fault_injection: FaultInjectionSettings = Field(
        default_factory=FaultInjectionSettings, description="FIS experiment templates.")
    reader_autoscaling: ReaderAutoscalingSettings = Field(
        default_factory=ReaderAutoscalingSettings, description="Aurora reader autoscaling.")
    zonal_autoshift: ZonalAutoshiftSettings = Field(
        default_factory=ZonalAutoshiftSettings, description="ARC zonal autoshift on the load balancer.")

    _prod_autoshift = prod_refuses(
        "zonal_autoshift", lambda value: not value.enabled,
        "prod keeps zonal autoshift on (an impaired AZ is shifted away without a page)",
    )


TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "fault_injection": {"stop_task_percent": 100},
        "reader_autoscaling": {"enabled": False, "max_readers": 2},
        "zonal_autoshift": {"enabled": False},
    },
    "prod": {
        "fault_injection": {"stop_task_percent": 34},
        "reader_autoscaling": {"enabled": True, "max_readers": 5},
        "zonal_autoshift": {"enabled": True},
    },
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
