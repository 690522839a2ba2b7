"""Database settings: Aurora PostgreSQL, RDS Proxy and the database's objects."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from stacks.base import Section, check_retention, prod_keeps_audit_logs, prod_refuses

INSTANCE_FAMILIES = ("r5", "r6g", "r6gd", "r6i", "r6id", "r7g", "r7i", "r8g", "x2g", "t3", "t4g")
"""Instance families Aurora PostgreSQL 15 runs on (Aurora user guide, "Supported DB engines for DB instance
classes"). `db.r7g.large` is the prod default."""

DEFAULT_ENGINE_VERSION = "15.14"
"""Newest Aurora PostgreSQL 15 minor confirmed offered (AWS What's New, "Amazon Aurora PostgreSQL-Compatible
Edition has added support for PostgreSQL versions 17.6, 16.10, 15.14, 14.19, and 13.22"; check a region with
`aws rds describe-db-engine-versions --engine aurora-postgresql --query "DBEngineVersions[].EngineVersion"`)."""
MAX_MAJOR = 15
"""Newest major the program runs: from 16 on, the master is locked out of password login (`MASTER_LOCKOUT`)."""
MASTER_LOCKOUT = (
    "PostgreSQL 16 and later grant every role the master creates back to it WITH ADMIN OPTION (grantor: the "
    "bootstrap superuser, so the master cannot revoke it); the logins it creates are members of rds_iam, so the "
    "master becomes an indirect rds_iam member and RDS refuses its password login, which the postgresql provider "
    "uses on every up and refresh (docs/tenant-isolation.md, \"The master user\"). Use Aurora PostgreSQL 14 or 15 "
    f"(default {DEFAULT_ENGINE_VERSION}); major 16+ needs the provider to log in with IAM first (a provider with "
    "master_user_authentication_type, or GRANT rds_iam to the master once and tokens signed for the writer's "
    "endpoint), which is not built"
)
"""Why `engine_version` refuses major 16 and later."""

RESERVED_DATABASES = frozenset({"postgres", "template0", "template1", "rdsadmin"})
"""Databases RDS creates or keeps for itself."""

_INSTANCE_CLASS = re.compile(r"^db\.(?P<family>[a-z0-9]+)\.(?P<size>[0-9]*x?large|micro|small|medium)$")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_DAY_TIME = r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d"
_MAINTENANCE = re.compile(rf"^{_DAY_TIME}-{_DAY_TIME}$")


class ProxySettings(Section):
    """RDS Proxy connection pool (`floyo-infra:database.proxy`)."""

    max_connections_percent: int = Field(
        default=80, ge=1, le=100,
        description="Share of each instance's `max_connections` the proxy may open to it. Default 80.",
    )
    max_idle_connections_percent: int = Field(
        default=40, ge=0, le=100,
        description="Share of `max_connections` the proxy keeps open while idle; <= max_connections_percent. Default 40.",
    )
    connection_borrow_timeout_seconds: int = Field(
        default=30, ge=0, le=300,
        description="Seconds a client waits for a free pooled connection before an error, 0 to 300 (the RDS "
        "API's limit; 0 waits without limit). Default 30.",
    )
    idle_client_timeout_seconds: int = Field(
        default=1800, ge=1, le=28800,
        description="Seconds an idle client connection is kept before the proxy closes it. Default 1800.",
    )

    @field_validator("max_idle_connections_percent")
    @classmethod
    def _idle_below_max(cls, value: int, info: ValidationInfo) -> int:
        ceiling = info.data.get("max_connections_percent")
        if ceiling is not None and value > ceiling:
            raise ValueError(f"must be <= max_connections_percent ({ceiling}); RDS refuses a larger idle pool")
        return value


class DatabaseSettings(Section):
    """Aurora PostgreSQL cluster and its pool (`floyo-infra:database`)."""

    engine_version: str = Field(
        default=DEFAULT_ENGINE_VERSION,
        description="Aurora PostgreSQL engine version, pinned (`<major>.<minor>`, major 14-15: 16+ locks the master "
        "out of password login once it creates IAM logins, docs/tenant-isolation.md). Default 15.14. "
        "Minor upgrades are applied by changing this key (auto minor upgrades are off so the state matches).",
    )
    database_name: str = Field(
        default="floyo",
        description="Name of the application database. Default floyo. Changing it creates a new, empty database.",
    )
    master_username: str = Field(
        default="floyo_admin", pattern=r"^[a-z][a-z0-9_]{0,62}$",
        description="Master user; its password is generated and rotated by RDS in Secrets Manager. "
        "Default floyo_admin. Changing it replaces the cluster (refused in prod).",
    )
    serverless: bool = Field(
        default=False,
        description="Run instances as Aurora Serverless v2 (`db.serverless`) instead of `instance_class`. "
        "Default: dev true, prod false.",
    )
    min_capacity: float = Field(
        default=0.5, ge=0, le=256,
        description="Serverless v2 minimum ACUs, in steps of 0.5. 0 (auto-pause) is refused: every stack puts "
        "RDS Proxy in front of the cluster, and AWS lists RDS Proxy as incompatible with a 0 ACU minimum. Default 0.5.",
    )
    max_capacity: float = Field(
        default=4, ge=1, le=256,
        description="Serverless v2 maximum ACUs, in steps of 0.5; >= min_capacity. Default: dev 4, prod 16.",
    )
    instance_class: str = Field(
        default="db.r7g.large",
        description="Instance class of the writer and readers when not serverless, e.g. db.r7g.large. "
        "Default: dev db.t4g.medium, prod db.r7g.large.",
    )
    reader_count: int = Field(
        default=1, ge=1, le=15,
        description="Reader instances behind the READ_ONLY proxy endpoint, spread over the AZs. "
        "Default: dev 1, prod 2; prod needs >= 2.",
    )
    backup_retention_days: int = Field(
        default=7, ge=1, le=35,
        description="Days of automated backups (point-in-time restore). Default: dev 7, prod 35 (= the prod "
        "baseline's continuous backup rule, which AWS Backup applies to the cluster it selects: equal values leave "
        "nothing for `pulumi up` and AWS Backup to pull in two directions); prod needs >= 14.",
    )
    backup_window: str = Field(default="03:00-04:00", description="Daily backup window (UTC, hh:mm-hh:mm). Default 03:00-04:00.")
    maintenance_window: str = Field(
        default="sun:04:30-sun:05:30",
        description="Weekly maintenance window (UTC, ddd:hh:mm-ddd:hh:mm). Default sun:04:30-sun:05:30.",
    )
    deletion_protection: bool = Field(
        default=True, description="RDS deletion protection on the cluster. Default true; only dev may turn it off."
    )
    skip_final_snapshot: bool = Field(
        default=False, description="Delete the cluster without a final snapshot. Default false; only dev may set true."
    )
    max_connections: int = Field(
        default=400, ge=50, le=5000,
        description="`max_connections` of every instance, set explicitly so the capacity check is exact. "
        "Keep it within what the instance class's memory allows. A static parameter (apply_method "
        "pending-reboot): a change reaches running instances only at their next reboot, never by `pulumi up` "
        "alone. Default: dev 400, prod 1000.",
    )
    reserved_connections: int = Field(
        default=20, ge=5, le=500,
        description="Connections of max_connections kept outside the proxy: operators, migrations, RDS itself. Default 20.",
    )
    log_min_duration_statement_ms: int = Field(
        default=500, ge=-1, le=2_147_483_647,
        description="Statements slower than this many ms are logged; -1 disables. Default 500.",
    )
    idle_in_transaction_session_timeout_ms: int = Field(
        default=60_000, ge=0, le=2_147_483_647,
        description="Sessions idle inside a transaction longer than this (ms) are ended; 0 disables (dev only). Default 60000.",
    )
    legacy_password_logins: Literal["keep", "retire"] | None = Field(
        default=None,
        description="Migration off password logins only (docs/tenant-isolation.md, Migration). `keep`: "
        "migrator, app_backend_rw and app_backend_ro keep their passwords, secrets, proxy entries and the task "
        "definitions' DATABASE_URL/DATABASE_READ_URL (and the gateway's DATABASE_TENANT_URL) next to the IAM "
        "env; needs tenant_defaults.legacy_gateway. `retire`: those logins move to rds_iam, the proxy entries and "
        "every URL leave the task definitions, but the secrets are kept so the ECS rollback target still starts. "
        "Unset (default): the secrets are deleted.",
    )
    proxy: ProxySettings = Field(default_factory=ProxySettings, description="RDS Proxy connection pool.")
    performance_insights_retention_days: int = Field(
        default=7, description="Performance Insights retention: 7 (free tier) or a multiple of 31 up to 731. Default 7."
    )
    monitoring_interval_seconds: Literal[0, 1, 5, 10, 15, 30, 60] = Field(
        default=60, description="Enhanced monitoring interval; 0 turns it off (dev only). Default: dev 60, prod 30."
    )
    log_retention_days: int = Field(
        default=14, description="Days the exported PostgreSQL logs (connections, errors) are kept in CloudWatch. "
        "Default: dev 14, prod 365 (prod needs >= 365: audit-relevant)."
    )
    database_insights_mode: Literal["standard", "advanced"] = Field(
        default="standard",
        description="CloudWatch Database Insights: `standard` (free, 7 days of Performance Insights) or `advanced` "
        "(15 months of history, per-query plans, lock analysis, fleet view; billed per vCPU-hour of every instance, "
        "about $55/month for prod's three db.r7g.large; docs/resilience.md). Advanced needs "
        "performance_insights_retention_days >= 465. Default: dev standard, prod advanced.",
    )

    @field_validator("database_insights_mode")
    @classmethod
    def _insights(cls, value: str, info: ValidationInfo) -> str:
        retention = info.data.get("performance_insights_retention_days")
        if value == "advanced" and retention is not None and retention < 465:
            raise ValueError(f"advanced needs performance_insights_retention_days >= 465 (given {retention}); "
                             "Database Insights keeps 15 months")
        return value

    @field_validator("engine_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"[1-9]\d\.\d{1,2}", value) or int(value.split(".")[0]) < 14:
            raise ValueError("must be an Aurora PostgreSQL version <major>.<minor> with major 14-15, e.g. "
                             + DEFAULT_ENGINE_VERSION)
        if int(value.split(".")[0]) > MAX_MAJOR:
            raise ValueError(f"must be major 14-15: {MASTER_LOCKOUT}")
        return value

    @field_validator("database_name")
    @classmethod
    def _database_name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", value):
            raise ValueError("must be 1-63 of [a-z0-9_], starting with a letter")
        if value in RESERVED_DATABASES:
            raise ValueError(f"is reserved by PostgreSQL/RDS ({', '.join(sorted(RESERVED_DATABASES))})")
        return value

    @field_validator("master_username")
    @classmethod
    def _not_a_tenant_login(cls, value: str) -> str:
        if value.startswith("tenant_"):
            raise ValueError("may not start with tenant_: the tenant logins' IAM pattern (tenant_*) would cover it")
        return value

    @field_validator("min_capacity", "max_capacity")
    @classmethod
    def _half_steps(cls, value: float) -> float:
        if (value * 2) != int(value * 2):
            raise ValueError("must be a multiple of 0.5 ACU")
        return value

    @field_validator("min_capacity")
    @classmethod
    def _no_pause_behind_the_proxy(cls, value: float) -> float:
        # Scaling to 0 ACU (auto-pause) is "Incompatible with: RDS Proxy" (prerequisites of
        # https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html),
        # and components/postgres.py always puts a proxy in front of the cluster.
        if value == 0:
            raise ValueError("0 ACU (auto-pause) is refused: the cluster sits behind RDS Proxy, which AWS lists as "
                             "incompatible with auto-pause (it would never pause); use 0.5 or more")
        return value

    @field_validator("max_capacity")
    @classmethod
    def _max_above_min(cls, value: float, info: ValidationInfo) -> float:
        floor = info.data.get("min_capacity")
        if floor is not None and value < floor:
            raise ValueError(f"must be >= min_capacity ({floor})")
        return value

    @field_validator("instance_class")
    @classmethod
    def _instance_class(cls, value: str) -> str:
        match = _INSTANCE_CLASS.match(value)
        if not match or match["family"] not in INSTANCE_FAMILIES:
            families = ", ".join(INSTANCE_FAMILIES)
            raise ValueError(f"must be db.<family>.<size> with an Aurora PostgreSQL family ({families}), e.g. db.r7g.large")
        return value

    _prod_readers = prod_refuses(
        "reader_count", lambda value: value < 2,
        "prod needs at least 2 readers so reads survive a failover (a reader becomes the writer)",
    )

    _prod_backups = prod_refuses("backup_retention_days", lambda value: value < 14, "prod keeps at least 14 days of backups")

    @field_validator("backup_window")
    @classmethod
    def _backup_window(cls, value: str) -> str:
        if not _WINDOW.match(value):
            raise ValueError("must be hh:mm-hh:mm (UTC), e.g. 03:00-04:00")
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str) -> str:
        if not _MAINTENANCE.match(value):
            raise ValueError("must be ddd:hh:mm-ddd:hh:mm (UTC), e.g. sun:04:30-sun:05:30")
        return value

    _prod_protection = prod_refuses(
        "deletion_protection", lambda value: not value,
        "prod keeps deletion protection on; only dev may turn it off",
    )

    _prod_final_snapshot = prod_refuses(
        "skip_final_snapshot", lambda value: value,
        "prod always takes a final snapshot; only dev may skip it",
    )

    _prod_idle_timeout = prod_refuses(
        "idle_in_transaction_session_timeout_ms", lambda value: value == 0,
        "prod ends sessions idle in a transaction (they hold locks and pin proxy connections)",
    )

    @field_validator("performance_insights_retention_days")
    @classmethod
    def _pi_retention(cls, value: int) -> int:
        if value != 7 and not (value % 31 == 0 and 31 <= value <= 731):
            raise ValueError("must be 7 or a multiple of 31 up to 731 (what Performance Insights accepts)")
        return value

    _prod_monitoring = prod_refuses(
        "monitoring_interval_seconds", lambda value: value == 0,
        "prod keeps enhanced monitoring on; only dev may set 0",
    )

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_retention(value)

    _prod_logs = prod_keeps_audit_logs("log_retention_days")  # after the CloudWatch check

    @property
    def major_version(self) -> str:
        """`15` for `15.14`."""
        return self.engine_version.split(".")[0]

    @property
    def proxy_ceiling(self) -> int:
        """Connections the proxy may open to one instance: `max_connections_percent` of `max_connections`."""
        return self.max_connections * self.proxy.max_connections_percent // 100


TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "serverless": True, "min_capacity": 0.5, "max_capacity": 4, "instance_class": "db.t4g.medium",
        "reader_count": 1, "backup_retention_days": 7, "max_connections": 400,
        "monitoring_interval_seconds": 60, "log_retention_days": 14, "database_insights_mode": "standard",
    },
    "prod": {
        "serverless": False, "min_capacity": 2, "max_capacity": 16, "instance_class": "db.r7g.large",
        "reader_count": 2, "backup_retention_days": 35, "max_connections": 1000,
        "monitoring_interval_seconds": 30, "log_retention_days": 365, "database_insights_mode": "advanced",
        "performance_insights_retention_days": 465,
    },
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
