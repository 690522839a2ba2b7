"""`python -m ops canary-gate STACK`: the release's last gate.

After `pulumi up` has finished (the service is steady, so the new revision serves all traffic),
wait for the synthetic check's next runs that *start* after this command started: `--runs`
passing runs in a row pass the gate; one failed run fails it (exit 1) with the run's reason;
no verdict within `--timeout` fails it too (exit 2). Runs that started before the gate may have
hit the old revision and don't count.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from ops.deployed.stack_outputs import ReleaseError, stack_outputs
from ops.stackfile import read_stack_config

DEFAULT_RUNS = 2
DEFAULT_TIMEOUT_SECONDS = 1200
"""Two runs at the default 5-minute interval, plus their run time and slack."""
POLL_SECONDS = 20.0


def fresh_runs(page: dict[str, Any], since: datetime) -> list[dict[str, Any]]:
    """Finished runs that started at or after `since`, oldest first."""
    runs = [r for r in page.get("CanaryRuns", [])
            if r.get("Timeline", {}).get("Started") and r["Timeline"]["Started"] >= since
            and r.get("Status", {}).get("State") in ("PASSED", "FAILED")]
    return sorted(runs, key=lambda r: r["Timeline"]["Started"])


def wait_for_canary(name: str, synthetics: Any, *, since: datetime, runs: int = DEFAULT_RUNS,
                    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS, poll_seconds: float = POLL_SECONDS,
                    out: TextIO = sys.stdout, clock: Callable[[], float] = time.monotonic,
                    sleep: Callable[[float], None] = time.sleep) -> int:
    """0 when `runs` runs started since `since` passed; 1 on the first failed one; raises on timeout."""
    deadline = clock() + timeout_seconds
    seen: set[str] = set()
    while True:
        finished = fresh_runs(synthetics.get_canary_runs(Name=name, MaxResults=20), since)
        for run in finished:
            if run["Id"] not in seen:
                seen.add(run["Id"])
                print(f"canary {name} run {run['Id']} started {run['Timeline']['Started']:%H:%M:%S}: "
                      f"{run['Status']['State']}", file=out)
        failed = [r for r in finished if r["Status"]["State"] == "FAILED"]
        if failed:
            reason = failed[0]["Status"].get("StateReason", "no reason given")
            print(f"release gate FAILED: the synthetic check failed after the deploy: {reason}. Check the "
                  "run's artifacts (CloudWatch > Synthetics), then roll back with the previous backend.image.",
                  file=out)
            return 1
        if len(finished) >= runs:
            print(f"release gate passed: {len(finished)} synthetic check runs passed since the deploy", file=out)
            return 0
        if clock() >= deadline:
            raise ReleaseError(f"no verdict from canary {name} within {timeout_seconds:g} s "
                               f"({len(finished)} of {runs} runs finished since the deploy): is it running "
                               "(`aws synthetics get-canary`)?")
        sleep(poll_seconds)


def canary_gate(stack: str, runs: int = DEFAULT_RUNS, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> int:
    """The command: read the canary's name from the stack's outputs, wait with boto3 in the stack's region."""
    import boto3

    since = datetime.now(UTC)
    try:
        name = str(stack_outputs(stack, ["synthetics_canary_name"])["synthetics_canary_name"])
        client = boto3.client("synthetics", region_name=read_stack_config(stack).region)
        return wait_for_canary(name, client, since=since, runs=runs, timeout_seconds=timeout_seconds)
    except ReleaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
