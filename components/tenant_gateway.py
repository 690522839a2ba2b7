"""The former tenant gateway, kept only while migrating (`tenant_defaults.legacy_gateway`, deploys 1-3).

It is declared exactly as the gateway design declared it (same resource names, same inputs), so turning the
flag on changes nothing about it; turning it off deletes it at the end of that `pulumi up` (the GrantRoles
revoke, then `DROP ROLE app_tenant_gateway`), never touching a tenant's role or schema. While it exists the
gateway can still `SET ROLE` to every tenant: that is why it lives only while migrating
(docs/tenant-isolation.md, "Migration").

Its `Role` sets no `roles` while `GrantRole`s give its memberships: an *update* of that Role would revoke
them all (the provider's update revokes every membership and grants only `roles`). The migration never
updates it: its inputs are frozen here.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_postgresql as postgresql

GATEWAY = "app_tenant_gateway"
"""The former gateway login (member of every tenant role, NOINHERIT); only with `legacy_gateway`."""
GATEWAY_CONNECTION_LIMIT = {"dev": 10, "prod": 60}
"""The former gateway's CONNECTION LIMIT per tier (`gateway_connection_limit`'s tier defaults), frozen so the
migration deploy does not update the Role."""
GATEWAY_STATEMENT_TIMEOUT_MS = 60000
"""The former gateway's `statement_timeout` (`gateway_statement_timeout_ms`' default), frozen likewise."""


def legacy_gateway(name: str, parent: pulumi.Resource, database: pulumi.Input[str], provider: postgresql.Provider,
                   password: pulumi.Input[str], roles: Mapping[str, postgresql.Role], tier: str) -> postgresql.Role:
    """Declare the gateway login, its CONNECT and its membership in each tenant role, as before."""
    child = pulumi.ResourceOptions(parent=parent, provider=provider)
    gateway = postgresql.Role(
        f"{name}-gateway", name=GATEWAY, login=True, inherit=False, password=password, encrypted_password=True,
        connection_limit=GATEWAY_CONNECTION_LIMIT[tier], statement_timeout=GATEWAY_STATEMENT_TIMEOUT_MS, opts=child,
    )
    postgresql.Grant(
        f"{name}-gateway-connect", database=database, role=GATEWAY, object_type="database", privileges=["CONNECT"],
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[gateway])),
    )
    for slug, role in roles.items():
        postgresql.GrantRole(
            f"{name}-{slug}-gateway", role=GATEWAY, grant_role=slug,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[role, gateway])),
        )
    return gateway
