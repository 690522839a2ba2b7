"""`python -m ops drill`: follows an FIS experiment against botocore Stubbers (no account, no network)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ops.deployed.drill import Clock, DrillClients, DrillError, render, run_drill

STACK = "dev"
TEMPLATE = "EXT123abc"
EXPERIMENT_ID = "EXP456def"
ALARMS = ["floyo-dev-backend-lb-5xx-rate", "floyo-dev-backend-latency-p99"]
T0 = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self) -> None:
        self.t = T0

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def _client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def stubs() -> Iterator[tuple[DrillClients, Stubber, Stubber, Stubber]]:
    clients = DrillClients(_client("fis"), _client("cloudwatch"), _client("synthetics"))
    stubbers = Stubber(clients.fis), Stubber(clients.cloudwatch), Stubber(clients.synthetics)
    for s in stubbers:
        s.activate()
    yield clients, *stubbers
    for s in stubbers:
        s.assert_no_pending_responses()
        s.deactivate()


def _template(fis: Stubber, experiment: str = "aurora-failover") -> None:
    fis.add_response("list_experiment_templates", {"experimentTemplates": [
        {"id": "EXTother", "tags": {"floyo:stack": "prod", "floyo:experiment": experiment}},
        {"id": TEMPLATE, "tags": {"floyo:stack": STACK, "floyo:experiment": experiment}},
    ]}, {})
    fis.add_response("get_experiment_template", {"experimentTemplate": {
        "id": TEMPLATE, "stopConditions": [
            {"source": "aws:cloudwatch:alarm", "value": f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{a}"}
            for a in ALARMS]}}, {"id": TEMPLATE})


def _alarms(cw: Stubber, firing: tuple[str, ...] = ()) -> None:
    cw.add_response("describe_alarms", {"MetricAlarms": [
        {"AlarmName": a, "StateValue": "ALARM" if a in firing else "OK"} for a in ALARMS]},
        {"AlarmNames": ALARMS, "AlarmTypes": ["MetricAlarm", "CompositeAlarm"]})


def _runs(syn: Stubber, *states: tuple[str, int]) -> None:
    syn.add_response("get_canary_runs", {"CanaryRuns": [
        {"Name": "floyo-dev", "Status": {"State": state}, "Timeline": {"Started": T0 + timedelta(seconds=offset)}}
        for state, offset in states]}, {"Name": "floyo-dev", "MaxResults": 20})


def _state(fis: Stubber, status: str, reason: str = "", actions: dict[str, str] | None = None) -> None:
    experiment: dict[str, Any] = {"id": EXPERIMENT_ID, "state": {"status": status, "reason": reason}}
    if actions:
        experiment["actions"] = {name: {"state": {"status": done}} for name, done in actions.items()}
    fis.add_response("get_experiment", {"experiment": experiment}, {"id": EXPERIMENT_ID})


def _start(fis: Stubber, experiment: str = "aurora-failover") -> None:
    fis.add_response("start_experiment", {"experiment": {"id": EXPERIMENT_ID, "state": {"status": "initiating"}}},
                     {"clientToken": ANY, "experimentTemplateId": TEMPLATE,
                      "tags": {"floyo:stack": STACK, "floyo:drill": experiment}})


def test_completed_experiment_measures_time_to_recover(stubs: Any) -> None:
    clients, fis, cw, syn = stubs
    clock = FakeClock()
    _template(fis)
    _alarms(cw)
    _start(fis)
    _state(fis, "running")  # poll 1, t=0: the failover drops connections, 5xx fires
    _alarms(cw, ("floyo-dev-backend-lb-5xx-rate",))
    _runs(syn, ("FAILED", 5))
    _state(fis, "completed")  # poll 2, t=15
    _alarms(cw, ("floyo-dev-backend-lb-5xx-rate",))
    _runs(syn, ("FAILED", 5))
    _runs(syn, ("FAILED", 5))  # recovery check at t=15: no passing run since the end
    _alarms(cw)  # t=30: alarm back to OK
    _runs(syn, ("FAILED", 5), ("PASSED", 25))
    _runs(syn, ("FAILED", 5), ("PASSED", 25))  # passing run after the end: recovered
    report = run_drill(STACK, "aurora-failover", clients, tier="dev", canary="floyo-dev",
                       clock=Clock(clock.now, clock.sleep), poll_seconds=15)
    assert report.status == "completed" and report.recovered and report.impact_seen
    assert report.time_to_recover_seconds == 30.0
    assert not report.stop_condition_fired and report.passed
    assert "observed time to recover: 30 s" in render(report)


def test_az_drill_reports_the_actions_it_skipped(stubs: Any) -> None:
    """The AZ drill skips what is not in the drill AZ (emptyTargetResolutionMode skip): the report says so."""
    clients, fis, cw, _ = stubs
    clock = FakeClock()
    _template(fis, "az-network-disruption")
    _alarms(cw)
    _start(fis, "az-network-disruption")
    _state(fis, "completed", actions={"disrupt-subnets": "completed", "stop-zone-tasks": "completed",
                                      "failover-zone-writer": "skipped"})
    _alarms(cw)
    report = run_drill(STACK, "az-network-disruption", clients, tier="dev", clock=Clock(clock.now, clock.sleep))
    assert report.actions["failover-zone-writer"] == "skipped" and report.actions["disrupt-subnets"] == "completed"
    assert "skipped (no target in the drill AZ): failover-zone-writer" in render(report)


def test_stop_condition_firing_stops_the_drill_and_fails_it(stubs: Any) -> None:
    clients, fis, cw, _ = stubs
    clock = FakeClock()
    _template(fis)
    _alarms(cw)
    _start(fis)
    _state(fis, "stopped", "Experiment stopped by stop condition")
    _alarms(cw, ("floyo-dev-backend-latency-p99",))
    _alarms(cw)  # after one more poll the alarm is OK again
    report = run_drill(STACK, "aurora-failover", clients, tier="dev", clock=Clock(clock.now, clock.sleep),
                       poll_seconds=10)
    assert report.status == "stopped" and report.stop_condition_fired
    assert report.recovered and report.time_to_recover_seconds == 10.0
    assert not report.passed
    assert "stop condition fired: floyo-dev-backend-latency-p99" in render(report)


def test_experiment_that_never_starts_is_stopped_and_reported(stubs: Any) -> None:
    clients, fis, cw, _ = stubs
    clock = FakeClock()
    _template(fis)
    _alarms(cw)
    _start(fis)
    for _ in range(3):  # t=0, 60, 120: still initiating; the third poll reaches the start timeout
        _state(fis, "initiating", "Resolving targets")
        _alarms(cw)
    fis.add_response("stop_experiment", {"experiment": {"id": EXPERIMENT_ID}}, {"id": EXPERIMENT_ID})
    report = run_drill(STACK, "aurora-failover", clients, tier="dev", clock=Clock(clock.now, clock.sleep),
                       poll_seconds=60, start_timeout=120)
    assert report.status == "never-started" and "Resolving targets" in report.reason
    assert not report.recovered and not report.passed and report.time_to_recover_seconds is None


def test_prod_is_refused_without_allow_prod(stubs: Any) -> None:
    clients, *_ = stubs
    with pytest.raises(DrillError, match="--allow-prod"):
        run_drill("prod", "aurora-failover", clients, tier="prod")


def test_no_steady_state_refuses_to_start(stubs: Any) -> None:
    clients, fis, cw, _ = stubs
    _template(fis)
    _alarms(cw, ("floyo-dev-backend-lb-5xx-rate",))
    with pytest.raises(DrillError, match="already in ALARM: floyo-dev-backend-lb-5xx-rate"):
        run_drill(STACK, "aurora-failover", clients, tier="dev")


def test_dry_run_reads_only(stubs: Any) -> None:
    clients, fis, cw, _ = stubs
    _template(fis)
    _alarms(cw)
    report = run_drill("dev", "aurora-failover", clients, tier="prod", dry_run=True)  # dry runs are allowed on prod
    assert report.status == "dry-run" and report.experiment_id is None
    assert report.stop_alarms == ALARMS


def test_missing_template_says_what_to_do(stubs: Any) -> None:
    clients, fis, _, _ = stubs
    fis.add_response("list_experiment_templates", {"experimentTemplates": []}, {})
    with pytest.raises(DrillError, match=r"no experiment template 'ecs-stop-tasks'.*pulumi up"):
        run_drill(STACK, "ecs-stop-tasks", clients, tier="dev")
