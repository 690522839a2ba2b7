"""Cache settings: the ElastiCache replication group."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from stacks.base import Section, check_retention, prod_refuses

PARAMETER_FAMILIES: dict[str, dict[str, str]] = {
    "valkey": {"7.2": "valkey7", "8.0": "valkey8", "8.1": "valkey8", "8.2": "valkey8"},
    "redis": {"6.2": "redis6.x", "7.0": "redis7", "7.1": "redis7"},
}
"""Engine -> version ElastiCache offers -> its parameter group family (ElastiCache user guide,
"Engine specific parameters")."""

DEFAULT_VERSIONS: dict[str, str] = {"valkey": "8.1", "redis": "7.1"}
"""The version an engine gets when `engine_version` is not given (each engine's newest in PARAMETER_FAMILIES
that the program pins)."""
BELOW_IAM_AUTH: dict[str, tuple[str, ...]] = {"redis": ("6.2",)}
"""Versions ElastiCache offers without IAM authentication ("Authenticating with IAM", Limitations: Valkey 7.2
and above, Redis OSS 7.0 and above); the cache's users authenticate with IAM, so these are refused."""

MAXMEMORY_POLICIES = (
    "volatile-lru", "allkeys-lru", "volatile-lfu", "allkeys-lfu",
    "volatile-random", "allkeys-random", "volatile-ttl", "noeviction",
)
"""The eviction policies Redis/Valkey accept for `maxmemory-policy`."""

_NODE_TYPE = re.compile(r"^cache\.[a-z][a-z0-9]*\.[0-9]*x?large$|^cache\.t[234]g?\.(micro|small|medium)$")
_WINDOW = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
_DAY_TIME = r"(mon|tue|wed|thu|fri|sat|sun):([01]\d|2[0-3]):[0-5]\d"
_MAINTENANCE = re.compile(rf"^{_DAY_TIME}-{_DAY_TIME}$")


class CacheSettings(Section):
    """Redis-compatible cache (`floyo-infra:cache`)."""

    engine: Literal["valkey", "redis"] = Field(
        default="valkey", description="`valkey` or `redis` (Redis OSS). Default valkey. Changing it replaces the cache."
    )
    engine_version: str = Field(
        default="8.1",
        description="Engine version, pinned: valkey 7.2, 8.0, 8.1, 8.2; redis 7.0, 7.1 (6.2 has no IAM "
        "authentication, which the cache's users need). Default: valkey 8.1, redis 7.1.",
    )
    node_type: str = Field(
        default="cache.t4g.micro",
        description="Node type of the primary and replicas. Default: dev cache.t4g.micro, prod cache.r7g.large.",
    )
    replicas: int = Field(
        default=0, ge=0, le=5,
        description="Replicas besides the primary, over the AZs; >= 1 enables automatic failover and multi-AZ. "
        "Default: dev 0, prod 2; prod needs >= 1.",
    )
    maxmemory_policy: str = Field(
        default="allkeys-lru",
        description=f"Eviction policy when memory is full: {', '.join(MAXMEMORY_POLICIES)}. Default allkeys-lru.",
    )
    snapshot_retention_days: int = Field(
        default=0, ge=0, le=35, description="Days of daily snapshots kept; 0 disables. Default: dev 0, prod 7; prod needs >= 1."
    )
    snapshot_window: str = Field(default="05:00-06:00", description="Daily snapshot window (UTC). Default 05:00-06:00.")
    maintenance_window: str = Field(
        default="sun:06:30-sun:07:30", description="Weekly maintenance window (UTC). Default sun:06:30-sun:07:30."
    )
    log_retention_days: int = Field(
        default=14, description="Days the slow log and engine log are kept in CloudWatch. Default: dev 14, prod 90."
    )
    legacy_auth_token: bool = Field(
        default=False,
        description="Migration only, for a cache deployed with an AUTH token: the user group's `default` user keeps "
        "that token as its password, so tasks still sending it keep connecting while the backend moves to IAM, and "
        "its secret `cache-auth` stays for the previous task definition (the ECS rollback target). "
        "Set it for the one deploy that attaches the user group, then remove it (that deploy deletes the secret) "
        "(docs/tenant-isolation.md, \"The cache: ElastiCache IAM authentication\"). Default false.",
    )

    @model_validator(mode="before")
    @classmethod
    def _engine_default_version(cls, data: Any) -> Any:
        """An engine without a version gets that engine's default (the field default is valkey's)."""
        if isinstance(data, dict) and "engine_version" not in data and data.get("engine") in DEFAULT_VERSIONS:
            return {**data, "engine_version": DEFAULT_VERSIONS[data["engine"]]}
        return data

    @field_validator("engine_version")
    @classmethod
    def _version(cls, value: str, info: ValidationInfo) -> str:
        engine = info.data.get("engine")
        if engine is not None and value not in PARAMETER_FAMILIES[engine]:
            raise ValueError(f"not a {engine} version ElastiCache offers; allowed: {', '.join(PARAMETER_FAMILIES[engine])}")
        if engine is not None and value in BELOW_IAM_AUTH.get(engine, ()):
            raise ValueError(f"{engine} {value} has no IAM authentication, which the backend's cache user needs "
                             f"(Valkey 7.2+, Redis OSS 7.0+); allowed: "
                             f"{', '.join(v for v in PARAMETER_FAMILIES[engine] if v not in BELOW_IAM_AUTH[engine])}")
        return value

    @field_validator("node_type")
    @classmethod
    def _node_type(cls, value: str) -> str:
        if not _NODE_TYPE.match(value):
            raise ValueError("must be an ElastiCache node type such as cache.t4g.micro or cache.r7g.large")
        return value

    _prod_replicas = prod_refuses(
        "replicas", lambda value: value < 1,
        "prod needs at least 1 replica so the cache fails over instead of going down",
    )

    @field_validator("maxmemory_policy")
    @classmethod
    def _policy(cls, value: str) -> str:
        if value not in MAXMEMORY_POLICIES:
            raise ValueError(f"allowed: {', '.join(MAXMEMORY_POLICIES)}")
        return value

    _prod_snapshots = prod_refuses("snapshot_retention_days", lambda value: value < 1, "prod keeps at least 1 day of snapshots")

    @field_validator("snapshot_window")
    @classmethod
    def _snapshot_window(cls, value: str) -> str:
        if not _WINDOW.match(value):
            raise ValueError("must be hh:mm-hh:mm (UTC), e.g. 05:00-06:00")
        return value

    @field_validator("maintenance_window")
    @classmethod
    def _maintenance_window(cls, value: str) -> str:
        if not _MAINTENANCE.match(value):
            raise ValueError("must be ddd:hh:mm-ddd:hh:mm (UTC), e.g. sun:06:30-sun:07:30")
        return value

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_retention(value)

    @property
    def parameter_family(self) -> str:
        """The parameter group family of `engine` `engine_version`, e.g. valkey8."""
        return PARAMETER_FAMILIES[self.engine][self.engine_version]


TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {"node_type": "cache.t4g.micro", "replicas": 0, "snapshot_retention_days": 0, "log_retention_days": 14},
    "prod": {"node_type": "cache.r7g.large", "replicas": 2, "snapshot_retention_days": 7, "log_retention_days": 90},
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
