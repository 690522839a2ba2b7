"""Tenant isolation: one schema and one role per tenant, reached only through the tenant gateway login."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql

from stacks.tenants import TenantDefaults, TenantSettings

GATEWAY = "app_tenant_gateway"
"""The login the backend acts as a tenant with (`SET ROLE <slug>`); member of every tenant role, NOINHERIT."""


@dataclass(frozen=True)
class TenantsArgs:
    """Arguments of `Tenants`."""

    tenants: Sequence[TenantSettings]
    """The stack's `tenants` list."""
    defaults: TenantDefaults
    """The stack's `tenant_defaults`: the gateway's connection limit and statement timeout."""
    database: pulumi.Input[str]
    """The application database the schemas live in."""
    provider: postgresql.Provider
    """The postgresql provider connected to that database."""
    gateway_password: pulumi.Input[str]
    """The gateway login's generated password (a secret Output; the proxy reads it from Secrets Manager)."""


class Tenants(pulumi.ComponentResource):
    """The gateway login, then per tenant exactly three resources:

    * a role named after the slug: NOLOGIN, member of nothing, so no session can start as it and it
      can never switch to another tenant (README, "Tenants");
    * a schema named after the slug and owned by that role. Owning it is the tenant's only
      privilege: no schema is ever granted to another tenant, and PUBLIC has nothing (see
      `DatabaseObjects`);
    * `GRANT <slug> TO app_tenant_gateway`. The gateway is NOINHERIT, so it holds none of a
      tenant's privileges until it runs `SET ROLE <slug>`; the backend's own logins hold no
      tenant role at all.

    The gateway (`app_tenant_gateway`) logs in with a password through RDS Proxy like the
    backend's other logins; its CONNECTION LIMIT caps what all tenants together may hold, and its
    `statement_timeout` is the backstop for a transaction that sets none. Nothing joins `rds_iam`.

    Removing a tenant from the settings never drops its data: the schema is
    `retain_on_delete` (Pulumi forgets it) and dropping the role reassigns what it owned to
    the admin, so the schema and its tables stay and the gateway can no longer act as it.
    Only `drop_schema: true` lets Pulumi drop the schema (CASCADE: its tables too).

    Planning cost is linear: three registrations per tenant, no invokes, no applies (names are
    plain strings; `depends_on` orders the schema and grant after the role).
    """

    gateway: postgresql.Role
    roles: dict[str, postgresql.Role]
    schemas: dict[str, postgresql.Schema]

    def __init__(self, name: str, args: TenantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:data:Tenants", name, None, opts)
        self.roles, self.schemas = {}, {}
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.gateway = postgresql.Role(
            f"{name}-gateway", name=GATEWAY, login=True, inherit=False, password=args.gateway_password,
            encrypted_password=True, connection_limit=args.defaults.gateway_connection_limit,
            statement_timeout=args.defaults.gateway_statement_timeout_ms, opts=child,
        )
        postgresql.Grant(
            f"{name}-gateway-connect", database=args.database, role=GATEWAY, object_type="database",
            privileges=["CONNECT"], opts=pulumi.ResourceOptions(parent=self, provider=args.provider,
                                                               depends_on=[self.gateway]),
        )
        for tenant in args.tenants:
            slug = tenant.slug
            role = postgresql.Role(f"{name}-{slug}", name=slug, login=False, opts=child)
            after_role = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[role])
            self.roles[slug] = role
            self.schemas[slug] = postgresql.Schema(
                f"{name}-{slug}", name=slug, database=args.database, owner=slug, drop_cascade=tenant.drop_schema,
                opts=pulumi.ResourceOptions.merge(after_role, pulumi.ResourceOptions(
                    retain_on_delete=not tenant.drop_schema)),
            )
            postgresql.GrantRole(
                f"{name}-{slug}-gateway", role=GATEWAY, grant_role=slug,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[role, self.gateway]),
            )
        self.register_outputs({"count": len(self.roles)})
