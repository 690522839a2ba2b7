"""Tenant settings: one entry per tenant, each isolated in its own schema and reached by its own login;
limits and flags per tenant."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field, field_validator

from stacks.base import Section

RESERVED_NAMES = frozenset({
    "public", "none", "current_user", "session_user", "current_role", "information_schema", "postgres", "migrator",
    "rdsadmin", "rdsproxyadmin",
})
"""Names a tenant's schema/role may not take: the role names PostgreSQL reserves (`CREATE ROLE none` fails with
"role name "none" is reserved"; `public`, `current_user`, `session_user`, `current_role` are keywords
standing for roles; https://www.postgresql.org/docs/current/sql-createrole.html and src/backend/commands/user.c),
RDS's own (`rdsadmin`, `rdsproxyadmin`; https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/
AuroraPostgreSQL.Security.html), and the app's roles."""
RESERVED_PREFIXES = ("pg_", "app_", "rds", "aws_", "floyo_", "tenant_")
"""Prefixes a tenant slug may not start with (system schemas/roles, the app's roles, the master user, and
the tenants' own logins `tenant_<slug>`, so a slug's owner role never matches the logins' IAM pattern)."""
LOGIN_PREFIX = "tenant_"
"""A tenant's login is `tenant_<slug>`: the prefix is what the task role's `rds-db:connect` pattern names."""
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
    tenants' share of the proxy. Per-tier defaults in `TIER_DEFAULTS`."""

    connection_limit: int = Field(
        default=2, ge=1, le=1000,
        description="Connections one tenant's login may hold at once: the login's CONNECTION LIMIT, enforced "
        "by PostgreSQL at login. Default: dev 2, prod 5.",
    )
    statement_timeout_ms: int = Field(
        default=30000, ge=100, le=3_600_000,
        description="Longest statement a tenant may run, in ms: `ALTER ROLE tenant_<slug> SET statement_timeout`, "
        "applied by PostgreSQL at login. Default: dev 30000, prod 15000.",
    )
    feature_flags: dict[str, bool] = Field(
        default_factory=dict,
        description="Feature flags every tenant starts with (a tenant's own `feature_flags` override them "
        "flag by flag). Default none.",
    )
    tenant_connections: int = Field(
        default=10, ge=1, le=5000,
        description="Database connections all tenants together may hold through the proxy, over all tasks. "
        "The backend holds at most tenant_connections // backend.max_tasks per task (TENANT_SETTINGS "
        "`task_tenant_connections`), and the capacity check counts it against the proxy's ceiling next to "
        "the backend's own pools. Default: dev 10, prod 60.",
    )
    legacy_gateway: bool = Field(
        default=False,
        description="Migration only: keep the former gateway login `app_tenant_gateway` (its password secret, "
        "its proxy entry, its membership in every tenant's role) while the backend switches to the tenant "
        "logins. Set it in the first migration deploy, remove it in the last (docs/tenant-isolation.md, "
        "Migration). Default false.",
    )

    _flags = field_validator("feature_flags")(classmethod(lambda cls, v: _check_flags(v)))


TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {"connection_limit": 2, "statement_timeout_ms": 30000, "tenant_connections": 10},
    "prod": {"connection_limit": 5, "statement_timeout_ms": 15000, "tenant_connections": 60},
}
"""Per-tier defaults of `tenant_defaults`; `Pulumi.<stack>.yaml` only holds what differs."""


class TenantSettings(Section):
    """One tenant (`floyo-infra:tenants[i]`)."""

    slug: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,39}$",
        description="Tenant identifier: lower case, starts with a letter, 2-40 of [a-z0-9_]. "
        "Names the tenant's schema, the role owning it and (as `tenant_<slug>`) its login. Required.",
    )
    drop_schema: bool = Field(
        default=False,
        description="Let `pulumi up` drop the tenant's schema (and every table in it) when the tenant is "
        "removed from this list. Default false: a removed tenant's schema and data are kept.",
    )
    connection_limit: int | None = Field(
        default=None, ge=1, le=1000,
        description="Connections this tenant's login may hold at once (its CONNECTION LIMIT); "
        "<= tenant_defaults.tenant_connections. "
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


def login_name(slug: str) -> str:
    """The login of tenant `slug`: `tenant_<slug>` (LOGIN, `rds_iam`, member of the tenant's role only)."""
    return LOGIN_PREFIX + slug


def backend_document(defaults: TenantDefaults, tenants: Sequence[TenantSettings], max_tasks: int = 1) -> str:
    """`TENANT_SETTINGS`, the one JSON env var the backend reads: the defaults (with the per-task share of
    `tenant_connections`), then only the tenants that override something (so 2,000 tenants on defaults cost
    nothing here). Compact, keys sorted. PostgreSQL itself enforces each login's connection limit and
    statement timeout; the backend needs them only to size its per-tenant pools."""
    document = {
        "defaults": {
            **defaults.model_dump(include={"connection_limit", "statement_timeout_ms", "feature_flags"}),
            "task_tenant_connections": max(defaults.tenant_connections // max_tasks, 1),
        },
        "tenants": {t.slug: o for t in tenants if (o := t.overrides())},
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
