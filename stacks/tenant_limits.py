"""The tenants' limits against the proxy, the backend's pools and the task definition: one cross-section check."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stacks.base import PROJECT
from stacks.errors import Problem
from stacks.tenants import TENANT_SETTINGS_MAX_BYTES, backend_document

if TYPE_CHECKING:
    from stacks.settings import StackSettings


def tenant_limits(settings: StackSettings) -> list[Problem]:
    """Cross-check: a tenant's limit fits the tenants' share, the share fits the proxy next to the backend's
    read-write pools and gives every task at least one connection, and `TENANT_SETTINGS` fits the task
    definition."""
    defaults, problems = settings.tenant_defaults, []
    if settings.database.legacy_password_logins == "keep" and not defaults.legacy_gateway:
        problems.append(Problem(  # the running image and its ECS rollback target still reach tenants by the gateway
            f"{PROJECT}:database.legacy_password_logins", "keep",
            "the first migration deploy keeps the gateway too: set tenant_defaults.legacy_gateway: true "
            "(docs/tenant-isolation.md, Migration)"))
    share = defaults.tenant_connections
    for tenant in settings.tenants:
        if (tenant.connection_limit or defaults.connection_limit) > share:
            key = "connection_limit" if tenant.connection_limit else "(tenant_defaults.connection_limit)"
            problems.append(Problem(
                f"{PROJECT}:tenants[{tenant.slug}].{key}", str(tenant.connection_limit or defaults.connection_limit),
                f"a tenant may hold at most tenant_defaults.tenant_connections ({share}) connections"))
    if not settings.tenants:
        return problems
    db, backend = settings.database, settings.backend
    pools = backend.max_tasks * backend.db_pool_size
    demand = pools + share
    if pools <= db.proxy_ceiling < demand:  # pools alone over the ceiling: database_capacity names db_pool_size
        problems.append(Problem(
            f"{PROJECT}:tenant_defaults.tenant_connections", str(share),
            f"the writer would take backend.max_tasks x db_pool_size ({pools}) + the tenants' {share} = {demand} "
            f"proxy connections, over the proxy's ceiling of {db.proxy_ceiling}; use tenant_connections <= "
            f"{max(db.proxy_ceiling - pools, 0)}"))
    if share < backend.max_tasks:
        problems.append(Problem(
            f"{PROJECT}:tenant_defaults.tenant_connections", str(share),
            f"each of backend.max_tasks ({backend.max_tasks}) tasks needs at least one tenant connection; "
            f"use tenant_connections >= {backend.max_tasks}"))
    size = len(backend_document(defaults, settings.tenants, backend.max_tasks).encode())
    if size > TENANT_SETTINGS_MAX_BYTES:
        problems.append(Problem(
            f"{PROJECT}:tenants", f"{size} bytes of per-tenant overrides",
            f"TENANT_SETTINGS may take at most {TENANT_SETTINGS_MAX_BYTES} bytes of the task definition; move "
            "common values into tenant_defaults"))
    return problems
