"""`ops migrate` and `ops canary-gate` against recorded AWS answers (botocore's Stubber, no network)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from ops.deployed.stack_outputs import ReleaseError
from ops.release.canary_gate import wait_for_canary
from ops.release.migrate import MigrateTarget, log_stream, run_migration

TASK = "arn:aws:ecs:us-east-1:123456789012:task/floyo-dev-cluster/0123456789abcdef0123456789abcdef"
TARGET = MigrateTarget(
    cluster="floyo-dev-cluster", subnets=["subnet-a", "subnet-b"], security_group="sg-service",
    task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/floyo-dev-backend-migrate:7",
    log_group="/floyo/dev/backend",
)
RUN_TASK = {
    "cluster": TARGET.cluster, "taskDefinition": TARGET.task_definition, "launchType": "FARGATE", "count": 1,
    "networkConfiguration": {"awsvpcConfiguration": {
        "subnets": TARGET.subnets, "securityGroups": [TARGET.security_group], "assignPublicIp": "DISABLED"}},
    "startedBy": "ops-migrate",
}
DESCRIBE = {"cluster": TARGET.cluster, "tasks": [TASK]}


@cache
def _session() -> botocore.session.Session:
    """One botocore session for the module: it loads each service's model once (~0.1 s of CPU for ECS), and each
    test still gets a client (and a Stubber) of its own."""
    return botocore.session.get_session()


def client(service: str) -> Any:
    return _session().create_client(
        service, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")


class Clock:
    """A fake monotonic clock that advances by each sleep."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def task(status: str, **extra: Any) -> dict[str, Any]:
    return {"tasks": [{"taskArn": TASK, "lastStatus": status, **extra}], "failures": []}


def migrate(ecs: Any, logs: Any, timeout: float = 600) -> tuple[int, str]:
    out, clock = io.StringIO(), Clock()
    code = run_migration(TARGET, ecs, logs, out=out, timeout_seconds=timeout, poll_seconds=6,
                         clock=clock, sleep=clock.sleep)
    return code, out.getvalue()


def stubbed() -> tuple[Any, Stubber, Any, Stubber]:
    ecs, logs = client("ecs"), client("logs")
    return ecs, Stubber(ecs), logs, Stubber(logs)


def stream_request(token: str | None = None) -> dict[str, Any]:
    request = {"logGroupName": TARGET.log_group, "logStreamName": log_stream(TASK), "startFromHead": True}
    return {**request, "nextToken": token} if token else request


def test_success_prints_the_log_and_exits_zero() -> None:
    ecs, ecs_stub, logs, logs_stub = stubbed()
    ecs_stub.add_response("run_task", task("PROVISIONING"), RUN_TASK)
    ecs_stub.add_response("describe_tasks", task("RUNNING"), DESCRIBE)
    ecs_stub.add_response("describe_tasks", task("STOPPED", stopCode="EssentialContainerExited",
                                                 containers=[{"name": "migrate", "exitCode": 0}]), DESCRIBE)
    logs_stub.add_response("get_log_events", {"events": [{"timestamp": 1, "message": "Running upgrade a1 -> b2"}],
                                              "nextForwardToken": "f/1"}, stream_request())
    logs_stub.add_response("get_log_events", {"events": [], "nextForwardToken": "f/1"}, stream_request("f/1"))
    with ecs_stub, logs_stub:
        code, out = migrate(ecs, logs)
        ecs_stub.assert_no_pending_responses()
        logs_stub.assert_no_pending_responses()
    assert code == 0
    assert "Running upgrade a1 -> b2" in out and "migration succeeded" in out
    assert log_stream(TASK) == "migrate/migrate/0123456789abcdef0123456789abcdef"


def test_failed_migration_exits_with_the_container_code() -> None:
    ecs, ecs_stub, logs, logs_stub = stubbed()
    ecs_stub.add_response("run_task", task("PROVISIONING"), RUN_TASK)
    ecs_stub.add_response("describe_tasks", task("STOPPED", containers=[{"name": "migrate", "exitCode": 3}]),
                          DESCRIBE)
    logs_stub.add_response("get_log_events", {"events": [{"timestamp": 1, "message": "relation already exists"}]},
                           stream_request())
    with ecs_stub, logs_stub:
        code, out = migrate(ecs, logs)
    assert code == 3
    assert "relation already exists" in out and "FAILED (exit code 3)" in out


def test_timeout_stops_the_task_and_says_so() -> None:
    ecs, ecs_stub, logs, _ = stubbed()
    ecs_stub.add_response("run_task", task("PENDING"), RUN_TASK)
    for _ in range(3):  # at 0, 6 and 12 s; the deadline is 12 s
        ecs_stub.add_response("describe_tasks", task("RUNNING"), DESCRIBE)
    ecs_stub.add_response("stop_task", {"task": {"taskArn": TASK, "lastStatus": "RUNNING"}},
                          {"cluster": TARGET.cluster, "task": TASK, "reason": "ops migrate: timed out"})
    with ecs_stub, pytest.raises(ReleaseError) as caught:
        migrate(ecs, logs, timeout=12)
    ecs_stub.assert_no_pending_responses()
    assert "still RUNNING after 12 s" in str(caught.value) and "it was stopped" in str(caught.value)


def test_task_that_never_starts_reports_stop_code_and_reason() -> None:
    ecs, ecs_stub, logs, _ = stubbed()
    ecs_stub.add_response("run_task", task("PROVISIONING"), RUN_TASK)
    ecs_stub.add_response("describe_tasks", task(
        "STOPPED", stopCode="TaskFailedToStart",
        stoppedReason="CannotPullContainerError: pull image manifest has been retried 5 time(s)",
        containers=[{"name": "migrate", "lastStatus": "STOPPED", "reason": "CannotPullContainerError"}]), DESCRIBE)
    with ecs_stub, pytest.raises(ReleaseError) as caught:
        migrate(ecs, logs)
    message = str(caught.value)
    assert "TaskFailedToStart" in message and "CannotPullContainerError: pull image manifest" in message


def test_run_task_refused_is_an_error() -> None:
    ecs, ecs_stub, logs, _ = stubbed()
    ecs_stub.add_response("run_task", {"tasks": [], "failures": [{"arn": TARGET.task_definition,
                                                                   "reason": "MISSING", "detail": "no capacity"}]},
                          RUN_TASK)
    with ecs_stub, pytest.raises(ReleaseError) as caught:
        migrate(ecs, logs)
    assert "MISSING" in str(caught.value) and "no capacity" in str(caught.value)


# --- canary gate -----------------------------------------------------------------------

SINCE = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def run(run_id: str, minutes: int, state: str, reason: str = "") -> dict[str, Any]:
    started = SINCE + timedelta(minutes=minutes)
    status = {"State": state, **({"StateReason": reason} if reason else {})}
    timeline = {"Started": started, **({"Completed": started + timedelta(seconds=20)} if state != "RUNNING" else {})}
    return {"Id": run_id, "Name": "floyo-dev-api", "Status": status, "Timeline": timeline}


def gate(runs_seen: list[list[dict[str, Any]]], timeout: float = 600) -> tuple[int, str]:
    synthetics = client("synthetics")
    stub = Stubber(synthetics)
    for page in runs_seen:
        stub.add_response("get_canary_runs", {"CanaryRuns": page}, {"Name": "floyo-dev-api", "MaxResults": 20})
    out, clock = io.StringIO(), Clock()
    with stub:
        code = wait_for_canary("floyo-dev-api", synthetics, since=SINCE, runs=2, timeout_seconds=timeout,
                               poll_seconds=60, out=out, clock=clock, sleep=clock.sleep)
        stub.assert_no_pending_responses()
    return code, out.getvalue()


def test_gate_passes_after_two_fresh_passing_runs_ignoring_older_ones() -> None:
    old_failure = run("old", -3, "FAILED", "step health: 502")  # hit the old revision: doesn't count
    code, out = gate([
        [old_failure, run("r1", 1, "RUNNING")],
        [old_failure, run("r1", 1, "PASSED")],
        [old_failure, run("r1", 1, "PASSED"), run("r2", 6, "PASSED")],
    ])
    assert code == 0 and "release gate passed" in out and "old" not in out


def test_gate_fails_on_a_failed_run_with_its_reason() -> None:
    code, out = gate([[run("r1", 1, "PASSED"), run("r2", 6, "FAILED", "step websocket: answered 400")]])
    assert code == 1 and "step websocket: answered 400" in out


def test_gate_times_out_without_runs() -> None:
    with pytest.raises(ReleaseError) as caught:
        gate([[], [], []], timeout=120)
    assert "no verdict" in str(caught.value) and "0 of 2" in str(caught.value)

