"""The single source of truth for what a stack can be configured with."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, Field, field_validator

from stacks.account import AccountSettings
from stacks.backend import BackendSettings
from stacks.base import RELEASE_MARK, Section, Tier, prod_refuses
from stacks.cache import CacheSettings
from stacks.cdn import CdnSettings
from stacks.cost import CostSettings
from stacks.database import DatabaseSettings
from stacks.db_access import DbAccessSettings
from stacks.monitoring import MonitoringSettings
from stacks.network import NetworkSettings
from stacks.resilience import ResilienceSettings
from stacks.tenants import TenantDefaults, TenantSettings


class PromoteSettings(Section):
    """How `python -m ops promote` treats this stack when it is the target (`floyo-infra:promote`)."""

    hold: list[str] = Field(
        default_factory=list,
        description="Release keys a promotion into this stack leaves as they are, e.g. "
        "`backend.feature_flags.new_editor` keeps that flag as this file sets it (say `false`) while the rest "
        "of the release moves on. Map release keys (`backend.feature_flags`) are promoted entry by entry, so "
        "single entries can be held. Default none.",
    )

    @field_validator("hold")
    @classmethod
    def _release_keys(cls, value: list[str]) -> list[str]:
        keys = {".".join(k) for k in release_keys()}
        maps = {".".join(k) for k in release_keys() if is_map_key(k)}
        bad = [h for h in value if h not in keys and h.rpartition(".")[0] not in maps]
        if bad:
            allowed = ", ".join(sorted(keys | {f"{m}.<name>" for m in maps}))
            raise ValueError(f"{bad} are not release keys; allowed: {allowed}")
        return value


class StackSettings(Section):
    """Everything a stack can set, one section per `floyo-infra:<section>` config key."""

    tier: Tier = Field(
        description="Environment profile: `dev` (small, cheap, relaxations allowed) or `prod` "
        "(highly available, guardrails enforced). Required."
    )
    tier_override: str | None = Field(
        default=None,
        description="A stack named `prod*` must run with `tier: prod`. To run one as `dev` on purpose, set this "
        "to the stack's own name (so a copied file does not carry the override). Default none.",
    )
    allow_plain_secrets: bool = Field(
        default=False,
        description="dev only, for a local test: accept plain-text values in secret fields (`monitoring.webhook_url`, "
        "...), which otherwise take only `secure:` values (`pulumi config set --secret`). Default false.",
    )
    network: NetworkSettings = Field(
        description="VPC and subnets. `network.availability_zone_ids` is required."
    )
    backend: BackendSettings = Field(description="The FastAPI service. `backend.image` is required.")
    cdn: CdnSettings = Field(description="Cloudflare edge. `cdn.zone` is required.")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Aurora PostgreSQL.")
    db_access: DbAccessSettings = Field(
        default_factory=DbAccessSettings, description="The access host and tunnel the deploy reaches the database through."
    )
    cache: CacheSettings = Field(default_factory=CacheSettings, description="ElastiCache.")
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings, description="Alarms and tracing.")
    resilience: ResilienceSettings = Field(
        default_factory=ResilienceSettings, description="Fault-injection drills, reader autoscaling, zonal autoshift.")
    promote: PromoteSettings = Field(
        default_factory=PromoteSettings, description="What `python -m ops promote` may change in this stack.")
    account: AccountSettings = Field(
        default_factory=AccountSettings, description="The account baseline, account-level alerts, budget.")
    tenants: list[TenantSettings] = Field(
        default_factory=list,
        description="Tenants, each with its own schema, role and IAM-authenticated login; slugs unique. "
        "Adding one is one line (or `python -m ops tenants STACK add SLUG`). Default none."
    )
    tenant_defaults: TenantDefaults = Field(
        default_factory=TenantDefaults, description="Per-tenant limits and flags by default, and the tenants' share of the proxy."
    )
    cost: CostSettings = Field(
        default_factory=CostSettings, description="Usage the cost estimate assumes, budget margin and gate (docs/cost.md).")

    _prod_plain_secrets = prod_refuses(
        "allow_plain_secrets", lambda value: value, "prod takes secrets only as `secure:` values; only dev may relax it")

    @field_validator("tenants")
    @classmethod
    def _unique_slugs(cls, value: list[TenantSettings]) -> list[TenantSettings]:
        duplicates = sorted(slug for slug, n in Counter(t.slug for t in value).items() if n > 1)
        if duplicates:
            raise ValueError(f"duplicate tenant slugs {duplicates}: each tenant needs its own schema and role")
        return value


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *(getattr(annotation, "__args__", ()) or ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def release_keys(model: type[BaseModel] = StackSettings, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of every release field (`release_field`) in the settings schema, found by walking it."""
    found: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get(RELEASE_MARK):
            found.append((*prefix, name))
            continue
        sub = _model_of(info.annotation)
        if sub is not None and getattr(info.annotation, "__origin__", None) is None:
            found += release_keys(sub, (*prefix, name))
    return found


def is_map_key(path: tuple[str, ...]) -> bool:
    """Whether the release key at `path` is a map (promoted entry by entry, e.g. feature flags)."""
    model: Any = StackSettings
    for part in path[:-1]:
        model = _model_of(model.model_fields[part].annotation)
    return getattr(model.model_fields[path[-1]].annotation, "__origin__", None) is dict
