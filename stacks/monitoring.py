"""Monitoring settings: alert routing, alarm thresholds, tracing and error tracking.

Secret values (`webhook_url`, `sentry_dsn`) are `SecretStr`: they never appear in a
repr, an error message or the plan. Set them encrypted:

    pulumi config set --secret --path 'floyo-infra:monitoring.webhook_url' 'https://...'
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from stacks import slo
from stacks.base import Section, check_retention, prod_refuses, secret_field, tier_of
from stacks.slo import SloSettings
from stacks.synthetics import SyntheticsSettings

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}$")
_PINNED_IMAGE = re.compile(
    r"^[a-z0-9][a-z0-9.-]*(:[0-9]+)?/[a-z0-9._/-]+(:v?[0-9][A-Za-z0-9._-]*)?(@sha256:[0-9a-f]{64})?$"
)

ADOT_COLLECTOR_IMAGE = (
    "public.ecr.aws/aws-observability/aws-otel-collector:v0.48.0"
    "@sha256:9b28046359054b414f4ba76056ba4e8cffda2d53fbcee06171d7eeecd71326c3"
)
"""AWS Distro for OpenTelemetry collector, release v0.48.0, pinned by digest (ECS pulls by
the digest; the tag is documentation). Verify before bumping:
`docker buildx imagetools inspect public.ecr.aws/aws-observability/aws-otel-collector:<tag>`."""


class AlarmThresholds(Section):
    """Alarm thresholds (`monitoring.thresholds`). Defaults differ per tier (see TIER_DEFAULTS)."""

    lb_5xx_rate_percent: float = Field(
        default=1.0, gt=0, le=100,
        description="Load balancer 5xx responses as % of requests. Default: dev 5, prod 1.")
    target_5xx_rate_percent: float = Field(
        default=1.0, gt=0, le=100,
        description="Backend (target) 5xx responses as % of requests. Default: dev 5, prod 1.")
    min_requests_per_minute: int = Field(
        default=30, ge=1, le=1_000_000,
        description="Error-rate and hit-rate alarms stay quiet below this many requests a minute, "
        "so two failures out of three requests at night don't page. Default: dev 10, prod 30.")
    latency_p95_seconds: float = Field(
        default=1.0, gt=0, le=300, description="p95 target response time. Default: dev 2, prod 1.")
    latency_p99_seconds: float = Field(
        default=2.5, gt=0, le=300, description="p99 target response time. Default: dev 5, prod 2.5.")
    service_cpu_percent: float = Field(
        default=80, gt=0, le=100, description="ECS service average CPU. Default: dev 90, prod 80.")
    service_memory_percent: float = Field(
        default=85, gt=0, le=100, description="ECS service average memory. Default: dev 90, prod 85.")
    db_cpu_percent: float = Field(
        default=80, gt=0, le=100, description="Aurora writer CPU. Default: dev 90, prod 80.")
    db_freeable_memory_bytes: int = Field(
        default=1024**3, ge=1, description="Alarm when an instance's FreeableMemory drops below this. "
        "Default: dev 256 MiB, prod 1 GiB.")
    db_connections_percent: float = Field(
        default=80, gt=0, le=100,
        description="DatabaseConnections as % of the instance's max_connections. Default: dev 90, prod 80.")
    db_replica_lag_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="AuroraReplicaLag per reader. Default: dev 5, prod 1.")
    db_free_local_storage_bytes: int = Field(
        default=5 * 1024**3, ge=1,
        description="Alarm when an instance's FreeLocalStorage (temp files, logs) drops below this. "
        "Default: dev 2 GiB, prod 5 GiB.")
    db_deadlocks_per_minute: float = Field(
        default=1, gt=0, le=100_000, description="Deadlocks a minute on the writer. Default: dev 5, prod 1.")
    proxy_client_connections: int = Field(
        default=2000, ge=1, le=1_000_000,
        description="RDS Proxy client connections. Default: dev 500, prod 2000.")
    proxy_borrow_latency_ms: float = Field(
        default=50, gt=0, le=600_000,
        description="RDS Proxy DatabaseConnectionsBorrowLatency (average). Default: dev 200, prod 50.")
    cache_cpu_percent: float = Field(
        default=75, gt=0, le=100, description="ElastiCache EngineCPUUtilization per node. Default: dev 90, prod 75.")
    cache_memory_percent: float = Field(
        default=80, gt=0, le=100,
        description="ElastiCache DatabaseMemoryUsagePercentage per node. Default: dev 90, prod 80.")
    cache_evictions_per_minute: int = Field(
        default=100, ge=1, le=10_000_000,
        description="Keys evicted a minute across the replication group. Default: dev 1000, prod 100.")
    cache_connections: int = Field(
        default=5000, ge=1, le=65_000, description="CurrConnections per node. Default: dev 1000, prod 5000.")
    cache_replication_lag_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="ReplicationLag per replica node. Default: dev 10, prod 1.")
    cache_hit_rate_percent: float = Field(
        default=80, ge=0, lt=100,
        description="Alarm when hits / (hits + misses) drops below this. Default: dev 50, prod 80.")

    @field_validator("latency_p99_seconds")
    @classmethod
    def _p99_above_p95(cls, value: float, info: ValidationInfo) -> float:
        p95 = info.data.get("latency_p95_seconds")
        if p95 is not None and value < p95:
            raise ValueError(f"must be >= latency_p95_seconds ({p95})")
        return value


class MonitoringSettings(Section):
    """Alarms, dashboards and tracing (`floyo-infra:monitoring`)."""

    webhook_url: SecretStr | None = secret_field(
        None, placeholder="https://offline-placeholder.invalid/{marker}",
        description="HTTPS endpoint subscribed to every alert topic (chat or pager integration). "
        "Secret: set it with `pulumi config set --secret`. Default none.",
    )
    alert_emails: list[str] = Field(
        default_factory=list,
        validate_default=True,
        description="Addresses subscribed to the alert topics (each confirms by email once). "
        "prod needs at least one destination (an address or webhook_url). Default none.",
    )
    split_severities: bool = Field(
        default=True,
        description="Separate `page` and `ticket` topics (subscribe a pager only to `page`). Off: one "
        "topic for everything. Default: dev false, prod true.",
    )
    alarms_enabled: bool = Field(
        default=True,
        description="Whether alarms notify. Alarms and dashboards exist either way. Only dev may turn "
        "this off. Default true.",
    )
    thresholds: AlarmThresholds = Field(
        default_factory=AlarmThresholds, description="Alarm thresholds; see each key.")
    slo: SloSettings = Field(
        default_factory=SloSettings,
        description="Service level objectives and their burn-rate alerts (docs/slo.md).")
    synthetics: SyntheticsSettings = Field(
        default_factory=SyntheticsSettings,
        description="The synthetic check through Cloudflare (health, one API path, a WebSocket) that gates "
        "releases.")
    tracing_sample_rate: float = Field(
        default=0.1, ge=0, le=1,
        description="Fraction of root traces sampled (OTEL_TRACES_SAMPLER_ARG, parent-based). "
        "Default: dev 1.0, prod 0.1.",
    )
    collector_image: str = Field(
        default=ADOT_COLLECTOR_IMAGE,
        description="ADOT collector sidecar image, pinned by version tag and/or digest (never `latest`). "
        "Default: aws-otel-collector v0.48.0 by digest.",
    )
    sentry_dsn: SecretStr | None = secret_field(
        None, placeholder="https://offline-placeholder@offline-placeholder.invalid/{marker}",
        description="Sentry DSN, stored in Secrets Manager and injected as SENTRY_DSN. "
        "Secret: set it with `pulumi config set --secret`. Default none (error tracking off).",
    )
    log_retention_days: int = Field(
        default=90, description="Days the collector's metric (EMF) logs are kept. Default: dev 14, prod 90.")

    @field_validator("webhook_url")
    @classmethod
    def _https_webhook(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url = urlsplit(value.get_secret_value())
            if url.scheme != "https" or not url.hostname:
                raise ValueError("must be an https:// URL (SNS would send alerts in clear text otherwise)")
        return value

    @field_validator("alert_emails")
    @classmethod
    def _emails(cls, value: list[str], info: ValidationInfo) -> list[str]:
        bad = [e for e in value if not _EMAIL.match(e)]
        if bad:
            raise ValueError(f"not email addresses: {bad}")
        if len(set(value)) != len(value):
            raise ValueError("lists an address twice")
        if tier_of(info) == "prod" and not value and info.data.get("webhook_url") is None:
            raise ValueError("prod needs at least one alert destination: an address here or webhook_url")
        return value

    _prod_alarms = prod_refuses(
        "alarms_enabled", lambda value: not value,
        "prod alarms always notify; only dev may turn them off",
    )

    @field_validator("collector_image")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not _PINNED_IMAGE.match(value) or (":" not in value.rsplit("/", 1)[-1] and "@" not in value):
            raise ValueError("must be pinned: <registry>/<repository>:<version> and/or @sha256:<64 hex> "
                             "(not latest, not untagged)")
        return value

    @field_validator("sentry_dsn")
    @classmethod
    def _dsn(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            url = urlsplit(value.get_secret_value())
            if url.scheme != "https" or not url.username or not url.hostname or not url.path.strip("/"):
                raise ValueError("must be a Sentry DSN: https://<public key>@<host>/<project id>")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_retention(value)


TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "split_severities": False, "tracing_sample_rate": 1.0, "log_retention_days": 14, "slo": slo.TIER_DEFAULTS["dev"],
        "thresholds": {
            "lb_5xx_rate_percent": 5.0, "target_5xx_rate_percent": 5.0, "min_requests_per_minute": 10,
            "latency_p95_seconds": 2.0, "latency_p99_seconds": 5.0,
            "service_cpu_percent": 90, "service_memory_percent": 90,
            "db_cpu_percent": 90, "db_freeable_memory_bytes": 256 * 1024**2, "db_connections_percent": 90,
            "db_replica_lag_seconds": 5.0, "db_free_local_storage_bytes": 2 * 1024**3,
            "db_deadlocks_per_minute": 5, "proxy_client_connections": 500, "proxy_borrow_latency_ms": 200,
            "cache_cpu_percent": 90, "cache_memory_percent": 90, "cache_evictions_per_minute": 1000,
            "cache_connections": 1000, "cache_replication_lag_seconds": 10.0, "cache_hit_rate_percent": 50,
        },
    },
    "prod": {
        "split_severities": True, "tracing_sample_rate": 0.1, "log_retention_days": 90, "slo": slo.TIER_DEFAULTS["prod"],
        "thresholds": {
            "lb_5xx_rate_percent": 1.0, "target_5xx_rate_percent": 1.0, "min_requests_per_minute": 30,
            "latency_p95_seconds": 1.0, "latency_p99_seconds": 2.5,
            "service_cpu_percent": 80, "service_memory_percent": 85,
            "db_cpu_percent": 80, "db_freeable_memory_bytes": 1024**3, "db_connections_percent": 80,
            "db_replica_lag_seconds": 1.0, "db_free_local_storage_bytes": 5 * 1024**3,
            "db_deadlocks_per_minute": 1, "proxy_client_connections": 2000, "proxy_borrow_latency_ms": 50,
            "cache_cpu_percent": 75, "cache_memory_percent": 80, "cache_evictions_per_minute": 100,
            "cache_connections": 5000, "cache_replication_lag_seconds": 1.0, "cache_hit_rate_percent": 80,
        },
    },
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
