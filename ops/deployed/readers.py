"""`python -m ops readers STACK list|scale-in|resume`: the Aurora readers autoscaling added.

Aurora Auto Scaling creates readers outside Pulumi's state, so `pulumi destroy` cannot delete them and
the cluster's deletion fails with InvalidDBClusterStateFault while they exist. `scale-in` suspends the
scalable target (no new reader is added meanwhile), deletes every reader autoscaling added and waits until
they are gone; then `pulumi destroy` runs through. `resume` lifts the suspension when the stack stays.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stacks.resilience import AUTOSCALED_PREFIX

DIMENSION = "rds:cluster:ReadReplicaCount"
DEFAULT_TIMEOUT_SECONDS = 3600.0
POLL_SECONDS = 30.0


class ReadersError(Exception):
    """The command can't proceed; the message says why."""


def autoscaled_readers(rds: Any, cluster: str) -> list[str]:
    """Identifiers of the cluster's readers that Aurora Auto Scaling added (by their name prefix)."""
    clusters = rds.describe_db_clusters(DBClusterIdentifier=cluster).get("DBClusters", [])
    if not clusters:
        raise ReadersError(f"no Aurora cluster '{cluster}'")
    return sorted(m["DBInstanceIdentifier"] for m in clusters[0].get("DBClusterMembers", [])
                  if not m.get("IsClusterWriter") and m["DBInstanceIdentifier"].startswith(AUTOSCALED_PREFIX))


def _suspend(autoscaling: Any, cluster: str, suspended: bool) -> bool:
    """Suspend (or resume) the cluster's scalable target; False when there is none."""
    resource = f"cluster:{cluster}"
    found = autoscaling.describe_scalable_targets(
        ServiceNamespace="rds", ResourceIds=[resource], ScalableDimension=DIMENSION).get("ScalableTargets", [])
    if not found:
        return False
    autoscaling.register_scalable_target(
        ServiceNamespace="rds", ResourceId=resource, ScalableDimension=DIMENSION,
        SuspendedState={"DynamicScalingInSuspended": suspended, "DynamicScalingOutSuspended": suspended,
                        "ScheduledScalingSuspended": suspended})
    return True


def scale_in(rds: Any, autoscaling: Any, cluster: str, *, dry_run: bool = False,
             sleep: Callable[[float], None] = time.sleep, timeout: float = DEFAULT_TIMEOUT_SECONDS,
             poll_seconds: float = POLL_SECONDS) -> list[str]:
    """Suspend autoscaling, delete its readers, wait until none is left. Returns the lines to print."""
    readers = autoscaled_readers(rds, cluster)
    if dry_run:
        return [f"would suspend {DIMENSION} on cluster:{cluster} and delete: {', '.join(readers) or 'nothing'}"]
    lines = ["scalable target suspended" if _suspend(autoscaling, cluster, True) else "no scalable target"]
    for identifier in readers:
        rds.delete_db_instance(DBInstanceIdentifier=identifier)
        lines.append(f"deleting {identifier}")
    waited = 0.0
    while readers:
        sleep(poll_seconds)
        waited += poll_seconds
        readers = autoscaled_readers(rds, cluster)
        if readers and waited >= timeout:
            raise ReadersError(f"still present after {waited:g} s: {', '.join(readers)}")
    lines.append(f"no autoscaled reader left on {cluster}: `pulumi destroy` can delete the cluster")
    return lines


def readers(stack: str, action: str, *, dry_run: bool, stack_dir: Path | None = None) -> int:
    """The command: the cluster from the stack's outputs, boto3 in the stack's region."""
    import boto3

    from ops.deployed.stack_outputs import ReleaseError, stack_outputs
    from ops.stackfile import ROOT, read_stack_config

    region = read_stack_config(stack, stack_dir or ROOT).region
    try:
        cluster = str(stack_outputs(stack, ["database_cluster_identifier"])["database_cluster_identifier"])
        rds = boto3.client("rds", region_name=region)
        if action == "list":
            lines = autoscaled_readers(rds, cluster) or [f"no autoscaled reader on {cluster}"]
        elif action == "resume":
            resumed = _suspend(boto3.client("application-autoscaling", region_name=region), cluster, False)
            lines = ["scalable target resumed" if resumed else "no scalable target"]
        else:
            lines = scale_in(rds, boto3.client("application-autoscaling", region_name=region), cluster,
                             dry_run=dry_run)
    except (ReadersError, ReleaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0
