"""The single source of truth for what a stack can be configured with."""

from __future__ import annotations

from collections import Counter

from pydantic import Field, field_validator

from stacks.backend import BackendSettings
from stacks.base import Section, Tier
from stacks.cache import CacheSettings
from stacks.cdn import CdnSettings
from stacks.database import DatabaseSettings
from stacks.db_access import DbAccessSettings
from stacks.monitoring import MonitoringSettings
from stacks.network import NetworkSettings
from stacks.tenants import TenantSettings


class StackSettings(Section):
    """Everything a stack can set, one section per `floyo-infra:<section>` config key."""

    tier: Tier = Field(
        description="Environment profile: `dev` (small, cheap, relaxations allowed) or `prod` "
        "(highly available, guardrails enforced). Required."
    )
    network: NetworkSettings = Field(
        description="VPC and subnets. `network.availability_zone_ids` is required."
    )
    backend: BackendSettings = Field(description="The FastAPI service. `backend.image` is required.")
    cdn: CdnSettings = Field(default_factory=CdnSettings, description="Cloudflare edge.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Aurora PostgreSQL.")
    db_access: DbAccessSettings = Field(
        default_factory=DbAccessSettings, description="The access host and tunnel the deploy reaches the database through."
    )
    cache: CacheSettings = Field(default_factory=CacheSettings, description="ElastiCache.")
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings, description="Alarms and tracing.")
    tenants: list[TenantSettings] = Field(
        default_factory=list,
        description="Tenants, each with its own schema and login role; slugs unique. Adding one is one line. Default none."
    )

    @field_validator("tenants")
    @classmethod
    def _unique_slugs(cls, value: list[TenantSettings]) -> list[TenantSettings]:
        duplicates = sorted(slug for slug, n in Counter(t.slug for t in value).items() if n > 1)
        if duplicates:
            raise ValueError(f"duplicate tenant slugs {duplicates}: each tenant needs its own schema and role")
        return value
