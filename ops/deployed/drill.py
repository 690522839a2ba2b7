"""`python -m ops drill STACK EXPERIMENT`: run one of the stack's FIS experiments and measure recovery.

1. find the stack's template by its tags (`floyo:stack`, `floyo:experiment`), read its stop alarms;
2. refuse to start while one of them is already in ALARM (no steady state to measure against);
3. start the experiment and follow it to its end, reading the stop alarms and the synthetic check's
   runs on every poll; an experiment still not running after `start_timeout` is stopped and reported;
4. after the end, keep watching until every stop alarm is OK and the synthetic check has passed again;
5. print the observed time to recover and write a JSON report.

Prod is refused unless `--allow-prod` is given. `--dry-run` does the read-only steps 1-2 only.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stacks.resilience import EXPERIMENT_TAG, EXPERIMENTS

NOT_STARTED = ("pending", "initiating")
ENDED = ("completed", "stopped", "failed", "cancelled")
DEFAULT_POLL_SECONDS = 15.0
DEFAULT_START_TIMEOUT_SECONDS = 300.0
DEFAULT_RECOVERY_TIMEOUT_SECONDS = 1800.0


class DrillError(Exception):
    """The drill can't run; the message says why and what to do."""


@dataclass
class Observation:
    """What one poll saw."""

    at: str
    experiment_status: str
    alarms_in_alarm: list[str]
    canary_failed_runs: int = 0


@dataclass
class DrillReport:
    """The JSON report's content."""

    stack: str
    experiment: str
    template_id: str
    stop_alarms: list[str]
    experiment_id: str | None = None
    status: str = "not-started"
    reason: str = ""
    started_at: str | None = None
    ended_at: str | None = None
    stop_condition_fired: bool = False
    impact_seen: bool = False
    recovered: bool = False
    time_to_recover_seconds: float | None = None
    canary: str | None = None
    actions: dict[str, str] = field(default_factory=dict)
    """Each action's final status (`completed`, `skipped` when its target resolved empty, ...)."""
    observations: list[Observation] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == "completed" and self.recovered


@dataclass(frozen=True)
class Clock:
    """Time, injectable for tests."""

    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    sleep: Callable[[float], None] = time.sleep


def _alarm_name(arn: str) -> str:
    return arn.split(":alarm:", 1)[1] if ":alarm:" in arn else arn


def find_template(fis: Any, stack: str, experiment: str) -> dict[str, Any]:
    """The stack's template for `experiment` (full, with stop conditions), by its tags."""
    token: str | None = None
    while True:
        page = fis.list_experiment_templates(**({"nextToken": token} if token else {}))
        for summary in page.get("experimentTemplates", []):
            tags = summary.get("tags", {})
            if tags.get("floyo:stack") == stack and tags.get(EXPERIMENT_TAG) == experiment:
                return dict(fis.get_experiment_template(id=summary["id"])["experimentTemplate"])
        token = page.get("nextToken")
        if not token:
            raise DrillError(f"stack '{stack}' has no experiment template '{experiment}': run `pulumi up` with "
                             "resilience.fault_injection.enabled (cache-az-power also needs cache.replicas >= 1; "
                             "docs/resilience.md)")


def alarms_in_alarm(cloudwatch: Any, names: list[str]) -> list[str]:
    """Which of `names` are in ALARM now (metric and composite alarms)."""
    page = cloudwatch.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"])
    found = [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]
    return sorted(a["AlarmName"] for a in found if a.get("StateValue") == "ALARM")


def canary_failures(synthetics: Any, canary: str | None, since: datetime) -> tuple[int, int]:
    """(failed, passed) runs of the synthetic check that started at or after `since`."""
    if not canary:
        return 0, 0
    runs = synthetics.get_canary_runs(Name=canary, MaxResults=20).get("CanaryRuns", [])
    fresh = [r for r in runs if r.get("Timeline", {}).get("Started") and r["Timeline"]["Started"] >= since]
    failed = sum(1 for r in fresh if r.get("Status", {}).get("State") == "FAILED")
    passed = sum(1 for r in fresh if r.get("Status", {}).get("State") == "PASSED")
    return failed, passed


@dataclass(frozen=True)
class DrillClients:
    """The boto3 clients a drill uses (in the stack's region)."""

    fis: Any
    cloudwatch: Any
    synthetics: Any


def run_drill(
    stack: str, experiment: str, clients: DrillClients, *, tier: str, allow_prod: bool = False,
    dry_run: bool = False, canary: str | None = None, clock: Clock | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS, start_timeout: float = DEFAULT_START_TIMEOUT_SECONDS,
    recovery_timeout: float = DEFAULT_RECOVERY_TIMEOUT_SECONDS,
) -> DrillReport:
    """Run the drill and return its report (raises DrillError when it cannot start at all)."""
    clock = clock or Clock()
    if experiment not in EXPERIMENTS:
        raise DrillError(f"unknown experiment '{experiment}'; one of: {', '.join(EXPERIMENTS)}")
    if tier == "prod" and not allow_prod and not dry_run:
        raise DrillError(f"stack '{stack}' is prod: a drill there injects a real failure into live traffic. "
                         "Run it in dev first; then, on a game day (docs/resilience.md), pass --allow-prod")
    template = find_template(clients.fis, stack, experiment)
    names = [_alarm_name(c["value"]) for c in template.get("stopConditions", []) if c.get("value")]
    report = DrillReport(stack, experiment, template["id"], names, canary=canary)
    if not names:
        raise DrillError(f"template {template['id']} has no alarm stop condition: refusing to run it")
    firing = alarms_in_alarm(clients.cloudwatch, names)
    if firing:
        raise DrillError(f"stop alarms already in ALARM: {', '.join(firing)}; a drill needs a steady state")
    if dry_run:
        report.status, report.reason = "dry-run", "template found, stop alarms OK; nothing started"
        return report
    started = clients.fis.start_experiment(
        clientToken=str(uuid.uuid4()), experimentTemplateId=template["id"],
        tags={"floyo:stack": stack, "floyo:drill": experiment},
    )["experiment"]
    report.experiment_id = started["id"]
    t0 = clock.now()
    report.started_at = t0.isoformat()
    _follow(report, clients, clock, t0, poll_seconds, start_timeout)
    if report.status != "never-started":
        _await_recovery(report, clients, clock, t0, poll_seconds, recovery_timeout)
    return report


def _poll(report: DrillReport, clients: DrillClients, clock: Clock, since: datetime, status: str) -> Observation:
    seen = Observation(clock.now().isoformat(), status, alarms_in_alarm(clients.cloudwatch, report.stop_alarms))
    seen.canary_failed_runs = canary_failures(clients.synthetics, report.canary, since)[0]
    report.observations.append(seen)
    report.impact_seen = report.impact_seen or bool(seen.alarms_in_alarm) or seen.canary_failed_runs > 0
    return seen


def _follow(report: DrillReport, clients: DrillClients, clock: Clock, t0: datetime,
            poll_seconds: float, start_timeout: float) -> None:
    """Follow the experiment to its end (or stop it when it never starts)."""
    assert report.experiment_id is not None
    while True:
        experiment = clients.fis.get_experiment(id=report.experiment_id)["experiment"]
        state = experiment["state"]
        status, reason = state["status"], state.get("reason", "")
        seen = _poll(report, clients, clock, t0, status)
        waited = (clock.now() - t0).total_seconds()
        if status in ENDED:
            report.status, report.reason, report.ended_at = status, reason, clock.now().isoformat()
            report.actions = {name: str(a.get("state", {}).get("status", "")) for name, a in
                              sorted(experiment.get("actions", {}).items())}
            report.stop_condition_fired = status == "stopped" and bool(
                seen.alarms_in_alarm or "stop condition" in reason.lower())
            return
        if status in NOT_STARTED and waited >= start_timeout:
            clients.fis.stop_experiment(id=report.experiment_id)
            report.status = "never-started"
            report.reason = f"still {status} after {waited:g} s ({reason or 'no reason given'}); stopped it"
            report.ended_at = clock.now().isoformat()
            return
        clock.sleep(poll_seconds)


def _await_recovery(report: DrillReport, clients: DrillClients, clock: Clock, t0: datetime,
                    poll_seconds: float, recovery_timeout: float) -> None:
    """Wait until every stop alarm is OK and the synthetic check passes again; time it from the start."""
    end = clock.now()
    while True:
        seen = report.observations[-1]
        _, passed_since_end = canary_failures(clients.synthetics, report.canary, end)
        canary_ok = not report.canary or not report.impact_seen or passed_since_end > 0
        if not seen.alarms_in_alarm and canary_ok:
            report.recovered = True
            report.time_to_recover_seconds = (
                round((clock.now() - t0).total_seconds(), 1) if report.impact_seen else 0.0)
            return
        if (clock.now() - end).total_seconds() >= recovery_timeout:
            return
        clock.sleep(poll_seconds)
        _poll(report, clients, clock, t0, report.status)


def render(report: DrillReport) -> str:
    """The lines the command prints."""
    lines = [f"drill {report.experiment} on {report.stack}: experiment {report.experiment_id or '-'} "
             f"{report.status}" + (f" ({report.reason})" if report.reason else "")]
    if report.stop_condition_fired:
        lines.append("stop condition fired: " + ", ".join(
            sorted({a for o in report.observations for a in o.alarms_in_alarm})))
    skipped = [name for name, status in report.actions.items() if status == "skipped"]
    if skipped:  # az-network-disruption skips what is not in the drill AZ (components/fault_injection.py)
        lines.append("skipped (no target in the drill AZ): " + ", ".join(skipped))
    if report.status == "dry-run":
        lines.append("stop alarms: " + ", ".join(report.stop_alarms))
    elif report.recovered:
        lines.append(f"observed time to recover: {report.time_to_recover_seconds:g} s"
                     + ("" if report.impact_seen else " (no user-visible impact seen)"))
    elif report.status != "never-started":
        lines.append("NOT recovered within the recovery timeout: page on-call and follow the runbook")
    return "\n".join(lines)


def write_report(report: DrillReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**asdict(report), "passed": report.passed}, indent=2) + "\n")


def drill(stack: str, experiment: str, *, allow_prod: bool, dry_run: bool, report_path: Path | None,
          stack_dir: Path | None = None) -> int:
    """The command: settings and outputs from the stack, boto3 clients in its region."""
    import boto3

    from ops.deployed.stack_outputs import ReleaseError, stack_outputs
    from ops.stackfile import ROOT, read_stack_config
    from stacks import load_settings

    config = read_stack_config(stack, stack_dir or ROOT)
    settings = load_settings(config.stack, config.values, config.secret_keys, config.secure_paths)
    try:
        canary = stack_outputs(stack, []).get("synthetics_canary_name") or None
        region = config.region
        clients = DrillClients(boto3.client("fis", region_name=region), boto3.client("cloudwatch", region_name=region),
                               boto3.client("synthetics", region_name=region))
        report = run_drill(stack, experiment, clients, tier=settings.tier, allow_prod=allow_prod,
                           dry_run=dry_run, canary=canary)
    except (DrillError, ReleaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(report))
    path = report_path or Path(f"drill-{stack}-{experiment}-{report.started_at or 'dry-run'}.json".replace(":", ""))
    write_report(report, path)
    print(f"report: {path}")
    return 0 if report.passed or report.status == "dry-run" else 1
