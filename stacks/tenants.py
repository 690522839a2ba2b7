"""Tenant settings: one entry per tenant, each isolated in its own schema; limits and flags per tenant."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from stacks.base import PROJECT, Section
from stacks.errors import Problem

if TYPE_CHECKING:
    from stacks.settings import StackSettings

RESERVED_NAMES = frozenset({
    "public", "none", "current_user", "session_user", "current_role", "information_schema", "postgres", "migrator",
    "rdsadmin", "rdsproxyadmin",
})
"""Names a tenant's schema/role may not take: the role names PostgreSQL reserves (`CREATE ROLE none` fails with
"role name "none" is reserved"; `public`, `current_user`, `session_user`, `current_role` are keywords
standing for roles; https://www.postgresql.org/docs/current/sql-createrole.html and src/backend/commands/user.c),
RDS's own (`rdsadmin`, `rdsproxyadmin`; https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/
AuroraPostgreSQL.Security.html), and the app's roles."""
RESERVED_PREFIXES = ("pg_", "app_", "rds", "aws_", "floyo_")
"""Prefixes a tenant slug may not start with (system schemas/roles, the app's roles, the master user)."""
FLAG_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
"""A feature flag's name: lower case, starts with a letter, 1-40 of [a-z0-9_]."""
TENANT_SETTINGS_MAX_BYTES = 16384
"""Largest `TENANT_SETTINGS` document: an ECS task definition holds at most 64 KiB in all, shared with
every other env var and container, so a quarter of it is the most the tenants may take."""


def _check_flags(flags: dict[str, bool]) -> dict[str, bool]:
    bad = sorted(name for name in flags if not re.match(FLAG_PATTERN, name))
    if bad:
        raise ValueError(f"invalid flag name(s) {bad}: a flag name is 1-40 of [a-z0-9_], starting with a letter")
    return flags


class TenantDefaults(Section):
    """What every tenant gets unless its entry says otherwise (`floyo-infra:tenant_defaults`), and the
    tenant gateway's own limits. Per-tier defaults in `TIER_DEFAULTS`."""

    connection_limit: int = Field(
        default=2, ge=1, le=1000,
        description="Connections one tenant may hold at once through the gateway. Enforced by the backend's "
        "tenant pool (PostgreSQL does not apply a role's limit after SET ROLE; see README, Tenants). "
        "Default: dev 2, prod 5.",
    )
    statement_timeout_ms: int = Field(
        default=30000, ge=100, le=3_600_000,
        description="Longest statement a tenant may run, in ms; the backend sets it per transaction "
        "(`SET LOCAL statement_timeout`). Default: dev 30000, prod 15000.",
    )
    feature_flags: dict[str, bool] = Field(
        default_factory=dict,
        description="Feature flags every tenant starts with (a tenant's own `feature_flags` override them "
        "flag by flag). Default none.",
    )
    gateway_connection_limit: int = Field(
        default=10, ge=1, le=5000,
        description="CONNECTION LIMIT of the gateway login `app_tenant_gateway`: all tenants together never "
        "hold more database connections, so tenants cannot starve the backend's own logins. Enforced by "
        "PostgreSQL. Default: dev 10, prod 60.",
    )
    gateway_statement_timeout_ms: int = Field(
        default=60000, ge=100, le=3_600_000,
        description="`statement_timeout` of the gateway login itself: the backstop when the backend sets none. "
        "Enforced by PostgreSQL at login. Default 60000.",
    )

    _flags = field_validator("feature_flags")(classmethod(lambda cls, v: _check_flags(v)))


TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {"connection_limit": 2, "statement_timeout_ms": 30000, "gateway_connection_limit": 10},
    "prod": {"connection_limit": 5, "statement_timeout_ms": 15000, "gateway_connection_limit": 60},
}
"""Per-tier defaults of `tenant_defaults`; `Pulumi.<stack>.yaml` only holds what differs."""


class TenantSettings(Section):
    """One tenant (`floyo-infra:tenants[i]`)."""

    slug: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,39}$",
        description="Tenant identifier: lower case, starts with a letter, 2-40 of [a-z0-9_]. "
        "Names the tenant's schema and its role. Required.",
    )
    drop_schema: bool = Field(
        default=False,
        description="Let `pulumi up` drop the tenant's schema (and every table in it) when the tenant is "
        "removed from this list. Default false: a removed tenant's schema and data are kept.",
    )
    connection_limit: int | None = Field(
        default=None, ge=1, le=1000,
        description="Connections this tenant may hold at once; <= tenant_defaults.gateway_connection_limit. "
        "Default: tenant_defaults.connection_limit.",
    )
    statement_timeout_ms: int | None = Field(
        default=None, ge=100, le=3_600_000,
        description="This tenant's statement timeout (ms). Default: tenant_defaults.statement_timeout_ms.",
    )
    feature_flags: dict[str, bool] = Field(
        default_factory=dict,
        description="This tenant's flags, over tenant_defaults.feature_flags. Default none.",
    )

    @field_validator("slug")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_NAMES or value.startswith(RESERVED_PREFIXES):
            raise ValueError(
                f"is reserved; a slug may not be {', '.join(sorted(RESERVED_NAMES))} "
                f"nor start with {', '.join(RESERVED_PREFIXES)}"
            )
        return value

    _flags = field_validator("feature_flags")(classmethod(lambda cls, v: _check_flags(v)))

    def overrides(self) -> dict[str, Any]:
        """What this tenant sets itself (the backend applies tenant_defaults to the rest)."""
        return self.model_dump(include={"connection_limit", "statement_timeout_ms", "feature_flags"},
                               exclude_defaults=True)


def backend_document(defaults: TenantDefaults, tenants: Sequence[TenantSettings]) -> str:
    """`TENANT_SETTINGS`, the one JSON env var the backend reads: the defaults, then only the tenants that
    override something (so 2,000 tenants on defaults cost nothing here). Compact, keys sorted."""
    document = {
        "defaults": defaults.model_dump(include={"connection_limit", "statement_timeout_ms", "feature_flags"}),
        "tenants": {t.slug: o for t in tenants if (o := t.overrides())},
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def tenant_limits(settings: StackSettings) -> list[Problem]:
    """Cross-check: a tenant's limit fits the gateway's, the gateway fits the proxy next to the backend's
    read-write pools, and `TENANT_SETTINGS` fits the task definition."""
    defaults, problems = settings.tenant_defaults, []
    gateway = defaults.gateway_connection_limit
    for tenant in settings.tenants:
        if (tenant.connection_limit or defaults.connection_limit) > gateway:
            key = "connection_limit" if tenant.connection_limit else "(tenant_defaults.connection_limit)"
            problems.append(Problem(
                f"{PROJECT}:tenants[{tenant.slug}].{key}", str(tenant.connection_limit or defaults.connection_limit),
                f"a tenant may hold at most tenant_defaults.gateway_connection_limit ({gateway}) connections"))
    if not settings.tenants:
        return problems
    db, backend = settings.database, settings.backend
    pools = backend.max_tasks * backend.db_pool_size
    demand = pools + gateway
    if pools <= db.proxy_ceiling < demand:  # pools alone over the ceiling: database_capacity names db_pool_size
        problems.append(Problem(
            f"{PROJECT}:tenant_defaults.gateway_connection_limit", str(gateway),
            f"the writer would take backend.max_tasks x db_pool_size ({backend.max_tasks * backend.db_pool_size}) "
            f"+ the gateway's {gateway} = {demand} proxy connections, over the proxy's ceiling of "
            f"{db.proxy_ceiling}; use gateway_connection_limit <= "
            f"{max(db.proxy_ceiling - backend.max_tasks * backend.db_pool_size, 0)}"))
    size = len(backend_document(defaults, settings.tenants).encode())
    if size > TENANT_SETTINGS_MAX_BYTES:
        problems.append(Problem(
            f"{PROJECT}:tenants", f"{size} bytes of per-tenant overrides",
            f"TENANT_SETTINGS may take at most {TENANT_SETTINGS_MAX_BYTES} bytes of the task definition; move "
            "common values into tenant_defaults"))
    return problems
