"""Tenant isolation: per tenant a schema, the role owning it, and a login that can act only as that tenant."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql

from components.database_objects import RDS_IAM
from components.tenant_gateway import legacy_gateway
from stacks.base import Tier
from stacks.tenants import TenantDefaults, TenantSettings, login_name

TENANTS_GROUP = "app_tenants"
"""NOLOGIN group of every tenant login; it holds CONNECT on the app database and nothing else, and is a
member of no role, so belonging to it reaches no tenant."""


@dataclass(frozen=True)
class TenantsArgs:
    """Arguments of `Tenants`."""

    tenants: Sequence[TenantSettings]
    """The stack's `tenants` list."""
    defaults: TenantDefaults
    """The stack's `tenant_defaults`: connection limit and statement timeout of each login, unless its entry
    sets its own; `legacy_gateway` keeps the former gateway while migrating."""
    database: pulumi.Input[str]
    """The application database the schemas live in."""
    provider: postgresql.Provider
    """The postgresql provider connected to that database."""
    tier: Tier
    """The stack's tier: only the legacy gateway's frozen limits depend on it (no default: a missing tier must
    not give prod dev's gateway limit, which would update the gateway role mid-migration)."""
    gateway_password: pulumi.Input[str] | None = None
    """The former gateway login's password (a secret Output); only with `defaults.legacy_gateway`. Default none."""


class Tenants(pulumi.ComponentResource):
    """The group `app_tenants` (CONNECT only), then per tenant exactly three resources:

    * a role named after the slug: NOLOGIN, member of nothing; it owns the tenant's schema (and what was
      created in it), as it did under the former gateway, so no data moves;
    * a schema named after the slug and owned by that role. No schema is ever granted to anyone else, and
      PUBLIC has nothing (see `DatabaseObjects`);
    * the login `tenant_<slug>`: LOGIN, INHERIT, member of exactly its own role, `rds_iam` and
      `app_tenants`, declared in the Role's own `roles` (no `GrantRole`, so an update of the Role never
      revokes a membership another resource granted: README/REVIEW "Two resources fight"). Its CONNECTION
      LIMIT and `statement_timeout` are PostgreSQL's to enforce at login. It authenticates with an IAM
      token through RDS Proxy (end-to-end IAM); no password exists for it anywhere.

    No login is a member of another tenant's role, owns it, or holds ADMIN on it, so `SET ROLE`, `SET SESSION
    AUTHORIZATION` (superuser only) and `GRANT` to itself all fail (tests/test_tenants_postgres.py).

    Removing a tenant never drops its data: the schema is `retain_on_delete` (Pulumi forgets it), dropping
    the owner role reassigns what it owned to the admin, and dropping the login reassigns what *it* created.
    Only `drop_schema: true` lets Pulumi drop the schema (CASCADE: its tables too).

    Planning cost is linear: three registrations per tenant, no invokes, no applies.
    """

    roles: dict[str, postgresql.Role]
    logins: dict[str, postgresql.Role]
    schemas: dict[str, postgresql.Schema]

    def __init__(self, name: str, args: TenantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:data:Tenants", name, None, opts)
        self.roles, self.logins, self.schemas = {}, {}, {}
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        group = postgresql.Role(f"{name}-group", name=TENANTS_GROUP, login=False, opts=child)
        postgresql.Grant(
            f"{name}-group-connect", database=args.database, role=TENANTS_GROUP, object_type="database",
            privileges=["CONNECT"], opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[group])),
        )
        d = args.defaults
        for tenant in args.tenants:
            slug = tenant.slug
            role = postgresql.Role(f"{name}-{slug}", name=slug, login=False, opts=child)
            after_role = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[role]))
            self.roles[slug] = role
            self.schemas[slug] = postgresql.Schema(
                f"{name}-{slug}", name=slug, database=args.database, owner=slug, drop_cascade=tenant.drop_schema,
                opts=pulumi.ResourceOptions.merge(after_role, pulumi.ResourceOptions(
                    retain_on_delete=not tenant.drop_schema)),
            )
            self.logins[slug] = postgresql.Role(
                f"{name}-{slug}-login", name=login_name(slug), login=True, inherit=True,
                roles=[slug, RDS_IAM, TENANTS_GROUP],
                connection_limit=tenant.connection_limit or d.connection_limit,
                statement_timeout=tenant.statement_timeout_ms or d.statement_timeout_ms,
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[role, group])),
            )
        if d.legacy_gateway:
            if args.gateway_password is None:
                raise ValueError("tenant_defaults.legacy_gateway needs the gateway's password")
            legacy_gateway(name, self, args.database, args.provider, args.gateway_password, self.roles, args.tier)
        self.register_outputs({"count": len(self.roles)})
