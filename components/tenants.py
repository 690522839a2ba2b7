"""Tenant isolation: one schema and one login role per tenant, nothing shared between them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_postgresql as postgresql

from components.database_objects import TENANT_GROUP
from stacks.tenants import TenantSettings


@dataclass(frozen=True)
class TenantsArgs:
    """Arguments of `Tenants`."""

    tenants: Sequence[TenantSettings]
    """The stack's `tenants` list."""
    database: pulumi.Input[str]
    """The application database the schemas live in."""
    provider: postgresql.Provider
    """The postgresql provider connected to that database."""
    tenant_group: pulumi.Input[str] = TENANT_GROUP
    """The group role every tenant joins (pass the role's `name` Output so it is created first)."""


class Tenants(pulumi.ComponentResource):
    """Per tenant exactly two resources, the fewest isolation allows:

    * a login role named after the slug, member of `app_tenant` (CONNECT only). It has no
      password yet, so it cannot log in until its authentication is chosen (README, "Tenants").
      It is deliberately NOT put in `rds_iam`: on PostgreSQL 16 the admin that creates a role
      becomes a member of it, and RDS refuses password logins to members of `rds_iam`, which
      could lock the admin (the provider's and the proxy's login) out;
    * a schema named after the slug and owned by that role. Owning it is the tenant's only
      privilege: no schema is ever granted to another tenant, and PUBLIC has nothing (see
      `DatabaseObjects`). PostgreSQL's default `search_path` ("$user", public) puts the
      tenant's own schema first.

    Removing a tenant from the settings never drops its data: the schema is
    `retain_on_delete` (Pulumi forgets it) and dropping the role reassigns what it owned to
    the admin, so the schema and its tables stay and the tenant can no longer log in.
    Only `drop_schema: true` lets Pulumi drop the schema (CASCADE: its tables too).

    Planning cost is linear: two registrations per tenant, no invokes, no applies.
    """

    roles: dict[str, postgresql.Role]
    schemas: dict[str, postgresql.Schema]

    def __init__(self, name: str, args: TenantsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:data:Tenants", name, None, opts)
        self.roles, self.schemas = {}, {}
        for tenant in args.tenants:
            slug = tenant.slug
            role = postgresql.Role(
                f"{name}-{slug}",
                name=slug,
                login=True,
                roles=[args.tenant_group],
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider),
            )
            self.roles[slug] = role
            self.schemas[slug] = postgresql.Schema(
                f"{name}-{slug}",
                name=slug,
                database=args.database,
                owner=role.name,
                drop_cascade=tenant.drop_schema,
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, retain_on_delete=not tenant.drop_schema),
            )
        self.register_outputs({"count": len(self.roles)})
