"""Checks that span more than one settings section.

Each check takes validated settings and returns the problems it finds. They run
after the per-field validation, in the same `load_settings` call, so their
problems appear in the same single error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stacks.base import PROJECT
from stacks.cdn_plan_checks import cdn_plan
from stacks.errors import Problem
from stacks.program_env import is_reserved, reserved_summary
from stacks.reader_capacity import reader_capacity
from stacks.tenant_limits import tenant_limits

if TYPE_CHECKING:
    from stacks.settings import StackSettings

CrossCheck = Callable[["StackSettings"], list[Problem]]


def database_capacity(settings: StackSettings) -> list[Problem]:
    """The backend's connections fit the proxy, and the proxy fits the instances.

    Each task opens two pools of `backend.db_pool_size`: read-write through the proxy's default
    endpoint (all to the writer) and read-only through the READ_ONLY endpoint (to the readers;
    counted against one reader, since after a failure one reader may serve them all). So per
    instance the backend may hold `max_tasks * db_pool_size` proxy connections, which must not
    exceed what the proxy may open to one instance (`max_connections_percent`% of
    `max_connections`). That ceiling, plus `reserved_connections` for operators and migrations,
    must fit the instance's `max_connections`.
    """
    db, backend = settings.database, settings.backend
    ceiling = db.proxy_ceiling
    problems: list[Problem] = []
    demand = backend.max_tasks * backend.db_pool_size
    # The tenants' logins share the writer's proxy ceiling (checked in stacks.tenant_limits).
    gateway = settings.tenant_defaults.tenant_connections if settings.tenants else 0
    if demand > ceiling:
        fit = max((ceiling - gateway) // backend.max_tasks, 0)
        problems.append(Problem(
            f"{PROJECT}:backend.db_pool_size",
            str(backend.db_pool_size),
            f"backend.max_tasks ({backend.max_tasks}) x db_pool_size ({backend.db_pool_size}) = {demand} connections "
            f"per instance exceeds the proxy's ceiling of {ceiling} (database.proxy.max_connections_percent "
            f"{db.proxy.max_connections_percent}% of database.max_connections {db.max_connections}); "
            f"use db_pool_size <= {fit}" + (f" (leaving the tenants' {gateway})" if gateway else "")
            + ", fewer tasks, or raise the proxy's share/max_connections",
        ))
    room = db.max_connections - db.reserved_connections
    if ceiling > room:
        fit_percent = room * 100 // db.max_connections
        problems.append(Problem(
            f"{PROJECT}:database.proxy.max_connections_percent",
            str(db.proxy.max_connections_percent),
            f"the proxy's ceiling of {ceiling} connections plus database.reserved_connections "
            f"({db.reserved_connections}) exceeds database.max_connections ({db.max_connections}); "
            f"use max_connections_percent <= {fit_percent}",
        ))
    return problems


def backend_env_names(settings: StackSettings) -> list[Problem]:
    """`backend.environment` and `backend.secrets` leave the program's own names alone and don't overlap.

    The program sets the database and cache URLs, hosts, tracing and `FEATURE_*` variables itself
    (`stacks/program_env.py`); a user value under the same name would be silently overridden or
    duplicated. A name both plain and secret would reach the container twice.
    """
    backend = settings.backend
    problems: list[Problem] = []
    for key, names in (("environment", backend.environment), ("secrets", backend.secrets)):
        taken = sorted(n for n in names if is_reserved(n))
        if taken:
            problems.append(Problem(
                f"{PROJECT}:backend.{key}", f"names {taken}",
                f"the program sets these itself; reserved names: {reserved_summary()}",
            ))
    both = sorted(set(backend.environment) & set(backend.secrets))
    if both:
        problems.append(Problem(
            f"{PROJECT}:backend.environment", f"names {both}",
            "also in backend.secrets: a variable is either plain or secret, not both",
        ))
    return problems


CROSS_CHECKS: list[CrossCheck] = [database_capacity, cdn_plan, backend_env_names, tenant_limits, reader_capacity]
"""Every cross-section check, in the order they run."""
