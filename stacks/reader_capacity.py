"""Reader autoscaling, drills and their targets against the cluster, the proxy and the network: one cross-section
check (docs/resilience.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stacks.base import PROJECT
from stacks.errors import Problem

if TYPE_CHECKING:
    from stacks.settings import StackSettings


def reader_capacity(settings: StackSettings) -> list[Problem]:
    """Reader autoscaling fits the cluster and the proxy.

    * the fixed readers (`database.reader_count`) count towards `ReadReplicaCount`, so the scalable
      target's minimum is that count and `max_readers` must be at least it, and at most Aurora's 15;
    * a `connections` target must sit below what the proxy opens to one reader (its ceiling), else the
      average can never reach it and the policy never scales out;
    * the zone the drills impair must be one of the stack's pinned AZs;
    * `ecs-stop-tasks` selects at least one task when the service runs `backend.min_tasks`.
    """
    scaling, db = settings.resilience.reader_autoscaling, settings.database
    problems: list[Problem] = []
    key = f"{PROJECT}:resilience.reader_autoscaling"
    if scaling.enabled and scaling.max_readers < db.reader_count:
        problems.append(Problem(
            f"{key}.max_readers", str(scaling.max_readers),
            f"must be >= database.reader_count ({db.reader_count}): the fixed readers count towards "
            "rds:cluster:ReadReplicaCount and Aurora Auto Scaling never removes them",
        ))
    if scaling.enabled and scaling.metric == "connections" and scaling.target_value >= db.proxy_ceiling:
        problems.append(Problem(
            f"{key}.target_value", str(scaling.target_value),
            f"must be below the proxy's ceiling of {db.proxy_ceiling} connections per instance "
            f"(database.proxy.max_connections_percent {db.proxy.max_connections_percent}% of "
            f"database.max_connections {db.max_connections}): the proxy never opens more, so the policy "
            "would never scale out",
        ))
    zones = settings.network.az_count
    index = settings.resilience.fault_injection.zone_index
    if index >= zones:
        problems.append(Problem(
            f"{PROJECT}:resilience.fault_injection.zone_index", str(index),
            f"must be below network.az_count ({zones}): it indexes network.availability_zone_ids",
        ))
    percent, floor = settings.resilience.fault_injection.stop_task_percent, settings.backend.min_tasks
    if floor * percent // 100 < 1:
        problems.append(Problem(
            f"{PROJECT}:resilience.fault_injection.stop_task_percent", str(percent),
            f"selects no task when the service runs backend.min_tasks ({floor}) tasks (a fraction of PERCENT is counted "
            f"as rounded down, and the template fails on an empty target); use >= {-(-100 // floor)}",
        ))
    return problems
