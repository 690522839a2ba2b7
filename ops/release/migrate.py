"""`python -m ops migrate STACK`: run the database migration as a one-off Fargate task.

The task definition (`migrate_task_definition_arn`) runs the release's image digest with
`backend.migrate_command` and the `migrator` login. It runs in the private subnets with the
service's security group (the path to RDS Proxy the tasks already have). The command polls
`describe-tasks` until the task is STOPPED: ECS's `tasks_running` waiter fails on a task that
finishes before it is seen running, which a quick migration does. Then it prints the container's
log stream and exits with the container's exit code, so a failed migration stops the release.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from components.backend import MIGRATE_CONTAINER
from ops.deployed.stack_outputs import ReleaseError, stack_outputs
from ops.stackfile import read_stack_config

REQUIRED_OUTPUTS = ("ecs_cluster_name", "migrate_task_definition_arn", "private_subnet_ids",
                    "service_security_group_id", "backend_log_group")
DEFAULT_TIMEOUT_SECONDS = 1800
"""A migration that runs longer than 30 min is stopped and the release fails (locks held that long
would already hurt the old tasks still serving)."""
POLL_SECONDS = 6.0


@dataclass(frozen=True)
class MigrateTarget:
    """Where and what to run, from the stack's outputs."""

    cluster: str
    task_definition: str
    subnets: list[str]
    security_group: str
    log_group: str

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, Any]) -> MigrateTarget:
        return cls(str(outputs["ecs_cluster_name"]), str(outputs["migrate_task_definition_arn"]),
                   [str(s) for s in outputs["private_subnet_ids"]], str(outputs["service_security_group_id"]),
                   str(outputs["backend_log_group"]))


def log_stream(task_arn: str) -> str:
    """The awslogs stream of the migrate container: `<prefix>/<container>/<task id>`."""
    return f"{MIGRATE_CONTAINER}/{MIGRATE_CONTAINER}/{task_arn.rsplit('/', 1)[-1]}"


def run_migration(target: MigrateTarget, ecs: Any, logs: Any, *, out: TextIO = sys.stdout,
                  timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, poll_seconds: float = POLL_SECONDS,
                  clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> int:
    """Run the task, wait for STOPPED, print its log; the container's exit code (raises `ReleaseError`
    when the task can't start, never starts, or outlives `timeout_seconds`)."""
    started = ecs.run_task(
        cluster=target.cluster, taskDefinition=target.task_definition, launchType="FARGATE", count=1,
        networkConfiguration={"awsvpcConfiguration": {
            "subnets": target.subnets, "securityGroups": [target.security_group], "assignPublicIp": "DISABLED"}},
        startedBy="ops-migrate",
    )
    if started.get("failures") or not started.get("tasks"):
        reasons = "; ".join(f"{f.get('arn', '?')}: {f.get('reason', '?')} {f.get('detail', '')}".strip()
                            for f in started.get("failures", [])) or "no task returned"
        raise ReleaseError(f"ECS did not start the migration task: {reasons}")
    task_arn = started["tasks"][0]["taskArn"]
    print(f"migration task {task_arn} started", file=out)
    deadline = clock() + timeout_seconds
    while True:
        task = ecs.describe_tasks(cluster=target.cluster, tasks=[task_arn])["tasks"][0]
        if task.get("lastStatus") == "STOPPED":
            break
        if clock() >= deadline:
            ecs.stop_task(cluster=target.cluster, task=task_arn, reason="ops migrate: timed out")
            raise ReleaseError(f"the migration task {task_arn} was still {task.get('lastStatus')} after "
                               f"{timeout_seconds:g} s; it was stopped. Check its log stream "
                               f"{target.log_group}/{log_stream(task_arn)} and long-held locks.")
        sleep(poll_seconds)
    container = next((c for c in task.get("containers", []) if c.get("name") == MIGRATE_CONTAINER), {})
    exit_code = container.get("exitCode")
    if exit_code is None:
        raise ReleaseError(
            f"the migration task {task_arn} stopped before its container ran: stopCode "
            f"{task.get('stopCode', '?')}, {task.get('stoppedReason', 'no reason given')}"
            f"{'; container: ' + container['reason'] if container.get('reason') else ''}. Check the image "
            "pull (execution role, ECR), the migrator secret and the subnets' route to ECR and Secrets Manager.")
    _print_log(logs, target.log_group, log_stream(task_arn), out)
    verdict = "succeeded" if exit_code == 0 else f"FAILED (exit code {exit_code})"
    print(f"migration {verdict}", file=out)
    return int(exit_code)


def _print_log(logs: Any, group: str, stream: str, out: TextIO) -> None:
    print(f"--- {group} {stream}", file=out)
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
        if token:
            kwargs["nextToken"] = token
        try:
            page = logs.get_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            print("(no log stream: the container wrote nothing)", file=out)
            return
        for event in page.get("events", []):
            print(event.get("message", ""), file=out)
        if page.get("nextForwardToken") in (None, token):
            return
        token = page["nextForwardToken"]


def migrate(stack: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> int:
    """The command: read the outputs, run the task with boto3's default credentials in the stack's region."""
    import boto3

    region = read_stack_config(stack).region
    try:
        target = MigrateTarget.from_outputs(stack_outputs(stack, REQUIRED_OUTPUTS))
        return run_migration(target, boto3.client("ecs", region_name=region),
                             boto3.client("logs", region_name=region), timeout_seconds=timeout_seconds)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
