"""SLOs: settings, the alarms the plan declares, and proof on synthetic traffic.

The traffic tests take the plan's own alarms (the SLO window alarms, their composites and the service-down
composite, exactly as declared: metric math, thresholds, periods, missing data, suppressors) and run them in
tests/cloudwatch_eval.py over minute-by-minute series shaped like what ALB publishes. Every service-down member
that reads ALB or target-group metrics (`backend-no-healthy-hosts`) is evaluated from the same series; only the
members that read other signals (the Route 53 health check, the Synthetics canary) are held at OK.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from components.slo import burn_alerts
from ops.docs.slo import minutes_to_notify, slo_table
from ops.plan.planner import Plan
from ops.stackfile import ROOT
from stacks import SettingsError
from stacks.slo import SloSettings
from tests.cloudwatch_eval import Aggregator, CompositeAlarm, MetricAlarm, Notification, Series, metric_key, run
from tests.ops_cli import run_ops, run_ops_here
from tests.planning import one, planned, settings_for, with_changes
from tests.variants import low_budget_dev, quiet_dev

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"
ELB = "AWS/ApplicationELB"
RATE = 10_000
"""Requests a minute: every burn below is a whole number of requests a minute."""
DAY = 24 * 60


# --- settings -------------------------------------------------------------------------------------------------


@cache
def slo_settings(stack: str) -> SloSettings:
    """The committed stack file's SLO settings, read once per process (the traffic tests ask for them often)."""
    return settings_for(with_changes(stack)).monitoring.slo


def test_tier_defaults_and_the_workbook_windows(stack: str) -> None:
    slo = slo_settings(stack)
    assert slo.availability_percent == (99.9 if stack == "prod" else 99.5)
    assert [(w.long_minutes, w.short_minutes, w.burn_rate, w.severity) for w in slo.windows] == [
        (60, 5, 14.4, "page"), (360, 30, 6, "page"), (3 * DAY, 360, 1, "ticket")]


@pytest.mark.parametrize(("change", "hint"), [
    ({"windows": [{"long_minutes": 60, "short_minutes": 60, "burn_rate": 2, "severity": "page"}]},
     "shorter than long_minutes"),
    ({"windows": [{"long_minutes": 8 * DAY, "short_minutes": 60, "burn_rate": 1, "severity": "ticket"}]},
     "less than or equal to 10080"),
    ({"availability_percent": 95, "windows": [
        {"long_minutes": 60, "short_minutes": 5, "burn_rate": 25, "severity": "page"},
        {"long_minutes": 600, "short_minutes": 50, "burn_rate": 1, "severity": "ticket"}]}, "can never fire"),
    ({"windows": [{"long_minutes": 60, "short_minutes": 5, "burn_rate": 14.4, "severity": "page"}]},
     "at least one page and one ticket"),
    ({"windows": [{"long_minutes": 60, "short_minutes": 5, "burn_rate": 1, "severity": "page"},
                  {"long_minutes": 600, "short_minutes": 50, "burn_rate": 2, "severity": "ticket"}]},
     "higher burn rate than every ticket"),
    ({"availability_percent": 100}, "less than 100"),
])
def test_bad_slo_settings_are_named(change: dict[str, Any], hint: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("prod", {"monitoring": {"slo": change}}))
    assert "floyo-infra:monitoring.slo." in str(caught.value) and hint in str(caught.value)


# --- what the plan declares -----------------------------------------------------------------------------------


def slo_alarms(plan: Plan) -> list[dict[str, Any]]:
    return [a.inputs for a in plan.of_type(ALARM) if "floyo:slo" in a.inputs["tags"]]


def composites(plan: Plan) -> dict[str, dict[str, Any]]:
    return {c.inputs["tags"]["floyo:alarm"]: c.inputs for c in plan.of_type(COMPOSITE)}


def test_every_window_reads_the_whole_load_balancer_within_cloudwatch_limits(plan: Plan) -> None:
    alarms = slo_alarms(plan)
    assert len(alarms) == 12  # 2 SLIs x 3 window pairs x (long, short)
    for alarm in alarms:
        metrics = [q["metric"] for q in alarm["metricQueries"] if "metric" in q]
        # the load balancer as a whole: both target groups, and never an empty one after a swap
        assert all(m["namespace"] == ELB and set(m["dimensions"]) == {"LoadBalancer"} for m in metrics)
        assert len(metrics) <= 10 and alarm["evaluationPeriods"] == 1 == alarm["datapointsToAlarm"]
        period = {m["period"] for m in metrics}.pop()
        # PutMetricAlarm: period x evaluation periods <= 1 day under an hour's period, else <= 7 days
        assert period * alarm["evaluationPeriods"] <= (86_400 if period < 3600 else 604_800)
        assert alarm["treatMissingData"] == "notBreaching" and not alarm.get("alarmActions")


def test_composites_and_suppression_chain(plan: Plan, stack: str) -> None:
    found = composites(plan)
    topics = {t.id for t in plan.of_type("aws:sns/topic:Topic")}
    for sli in ("availability", "latency"):
        fast, slow, ticket = (found[f"slo-{sli}-{w}"] for w in ("1h-5m", "6h-30m", "3d-6h"))
        assert fast["alarmRule"] == (f'ALARM("floyo-{stack}-slo-{sli}-1h-5m-long") AND '
                                     f'ALARM("floyo-{stack}-slo-{sli}-1h-5m-short")')
        assert "actionsSuppressor" not in fast or not fast["actionsSuppressor"]
        assert slow["actionsSuppressor"]["alarm"] == fast["alarmName"]
        assert ticket["actionsSuppressor"]["alarm"] == slow["alarmName"]
        assert slow["actionsSuppressor"]["extensionPeriod"] == 30 * 60 and ticket["actionsSuppressor"]["waitPeriod"] == 120
        if stack == "prod":
            assert slow["alarmActions"] == [t for t in topics if t.endswith("-page")]
            assert ticket["alarmActions"] == [t for t in topics if t.endswith("-ticket")]
    assert f'ALARM("{found["slo-availability-1h-5m"]["alarmName"]}")' in found["service-down"]["alarmRule"]
    assert found["slo-availability-1h-5m"]["tags"]["floyo:severity"] == "ticket"  # service-down pages for it


def test_quiet_dev_alarms_keep_composites_in_place() -> None:
    # `actions_enabled` forces a new composite alarm (ForceNew in the provider) under the same fixed name: turning
    # dev's alarms off must empty the composites' actions, never flip their actions_enabled
    quiet = stack_plan_with_quiet_alarms()
    assert all(a.inputs["actionsEnabled"] is False for a in quiet.of_type(ALARM))
    for composite in quiet.of_type(COMPOSITE):
        assert composite.inputs["actionsEnabled"] is True and not composite.inputs.get("alarmActions")
        assert not composite.inputs.get("okActions")


def stack_plan_with_quiet_alarms() -> Plan:
    """dev with its alarms' actions off (and other tests' independent settings: tests/variants.py)."""
    assert settings_for(quiet_dev()).monitoring.alarms_enabled is False
    return planned(quiet_dev())


def test_dashboard_shows_budget_burn_rates_and_deploys(plan: Plan, stack: str) -> None:
    body = json.loads(one(plan, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    widgets = {w["properties"].get("title", ""): w for w in body["widgets"]}
    settings = slo_settings(stack)
    for sli in ("Availability", "Latency"):
        budget = next(w for t, w in widgets.items() if t.startswith(f"{sli}: error budget remaining"))
        assert budget["properties"]["start"] == f"-P{settings.period_days}D"
        rows = budget["properties"]["metrics"]
        assert "RUNNING_SUM" in rows[0][0]["expression"]
        assert any(r[:2] == ["ECS/ContainerInsights", "DeploymentCount"] for r in rows if isinstance(r[0], str))
        burn = next(w for t, w in widgets.items() if t.startswith(f"{sli}: burn rate per window"))
        labels = [r[0]["label"] for r in burn["properties"]["metrics"] if isinstance(r[0], dict)]
        assert labels == ["burn rate (1 h)", "burn rate (5 min)", "burn rate (6 h)", "burn rate (30 min)",
                          "burn rate (3 d)"]  # 6 h is both a long and a short window: drawn once
        assert [a["value"] for a in burn["properties"]["annotations"]["horizontal"]] == [14.4, 6, 1]
    strip = next(w for w in body["widgets"] if w["properties"].get("title") == "Burn-rate alerts")
    assert len(strip["properties"]["alarms"]) == 6


def test_availability_counts_each_request_once(plan: Plan) -> None:
    # one minute, by hand: 1000 requests reached a target (RequestCount), 30 of them answered 5xx by the backend and
    # 20 answered 502/504 by the load balancer after the target failed (both in RequestCount); 50 more got the load
    # balancer's 503 because no target could be chosen (not in RequestCount). 100 bad of 1050 requests.
    lb = {"LoadBalancer": "app/x/1"}
    counts = {"RequestCount": 1000, "HTTPCode_Target_5XX_Count": 30, "HTTPCode_ELB_5XX_Count": 70,
              "HTTPCode_ELB_503_Count": 50}
    alarm = next(a for a in slo_alarms(plan) if a["tags"]["floyo:alarm"] == "slo-availability-1h-5m-short")
    queries = [{**q, "metric": {**q["metric"], "dimensions": lb}} if "metric" in q else q for q in alarm["metricQueries"]]
    data = {metric_key(ELB, name, lb): Aggregator([[(value, 1)]]) for name, value in counts.items()}
    evaluated = MetricAlarm.from_inputs({**alarm, "metricQueries": queries})
    assert evaluated.period == 5
    assert evaluated.datapoint(data, 0, 5) == pytest.approx(100 / 1050)


# --- synthetic traffic ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    """What happens each minute: `bad(m)` target 5xx, `slow(m)` responses over the threshold, `outage(m)` no
    healthy target (every request a load balancer 503, nothing reaches a target), served by target group number
    `group(m)` (0 the declared primary, 1 the alternate)."""

    bad: Callable[[int], int] = lambda m: 0
    slow: Callable[[int], int] = lambda m: 0
    outage: Callable[[int], bool] = lambda m: False
    group: Callable[[int], int] = lambda m: 0


TASKS = 2
OVERLAP = 5
"""Minutes a release keeps both groups healthy: the new group's tasks pass health checks before traffic moves,
and the old group's drain after."""


def series(traffic: Traffic, minutes: int, lb: str, groups: Sequence[str]) -> Mapping[Any, Series]:
    """The ALB metrics of `traffic`, per load balancer and per target group (`groups`: the plan's ARN suffixes),
    as ALB publishes them: a count metric only in minutes where it is not zero (a metric with no such minute
    has no series), response times as a distribution, `HealthyHostCount` every minute for every group, 0 for
    the idle one (docs/releases.md). Built metric by metric; the samples of equal minutes are one shared
    tuple (read only)."""
    span = range(minutes)
    outage = [traffic.outage(m) for m in span]
    serving = [traffic.group(m) for m in range(-OVERLAP, minutes + OVERLAP)]  # minute m at index m + OVERLAP
    assert {serving[m + OVERLAP] for m in span if not outage[m]} <= set(range(len(groups))), "no such group"
    bad = [0 if outage[m] else traffic.bad(m) for m in span]
    slow = [0 if outage[m] else traffic.slow(m) for m in span]
    nothing: tuple[tuple[float, float], ...] = ()
    one = {value: ((value, 1),) for value in (0, TASKS, RATE)}
    data: dict[Any, Series] = {}

    def publish(name: str, dims: dict[str, str], minute_samples: list[tuple[tuple[float, float], ...]]) -> None:
        if any(minute_samples):
            data[metric_key(ELB, name, dims)] = minute_samples

    for index, group in enumerate(groups):
        # healthy while it serves, and OVERLAP minutes either side (health checks before the shift, draining after)
        publish("HealthyHostCount", {"LoadBalancer": lb, "TargetGroup": group},
                [one[0 if outage[m] or index not in serving[m:m + 2 * OVERLAP + 1:OVERLAP] else TASKS] for m in span])
    whole = {"LoadBalancer": lb}
    publish("HTTPCode_ELB_5XX_Count", whole, [one[RATE] if outage[m] else nothing for m in span])
    publish("HTTPCode_ELB_503_Count", whole, [one[RATE] if outage[m] else nothing for m in span])
    for dims, served in [(whole, [not o for o in outage]),
                         *[({**whole, "TargetGroup": group}, [not outage[m] and serving[m + OVERLAP] == index
                                                              for m in span]) for index, group in enumerate(groups)]]:
        publish("RequestCount", dims, [one[RATE] if served[m] else nothing for m in span])
        publish("HTTPCode_Target_5XX_Count", dims, [((bad[m], 1),) if served[m] and bad[m] else nothing for m in span])
        publish("TargetResponseTime", dims, [((0.05, RATE - slow[m]),) + (((30.0, slow[m]),) if slow[m] else ())
                                             if served[m] else nothing for m in span])
    return data


@dataclass(frozen=True)
class Declared:
    """What a plan declares that the traffic tests evaluate."""

    lb: str
    groups: tuple[str, ...]
    """Target group ARN suffixes, the declared primary first."""
    severity: dict[str, str]
    metric: tuple[dict[str, Any], ...]
    """The SLO window alarms and the service-down members that read ALB metrics."""
    composites: tuple[dict[str, Any], ...]


def _reads_alb(alarm: Mapping[str, Any]) -> bool:
    queries = alarm.get("metricQueries") or [{"metric": {"namespace": alarm.get("namespace")}}]
    return any(q.get("metric", {}).get("namespace") == ELB for q in queries)


@cache
def declared(stack: str, two_groups: bool = False) -> Declared:
    """The alarms of `stack`'s plan; with `two_groups`, of the stack with a gradual strategy (prod's is)."""
    config = with_changes(stack)
    if two_groups and not settings_for(config).backend.deployment.gradual:  # dev's is not: a variant that is
        config = (low_budget_dev("advisory") if stack == "dev"  # shared with test_cost (tests/variants.py)
                  else with_changes(stack, {"backend": {"deployment": {"strategy": "BLUE_GREEN"}}}))
        assert settings_for(config).backend.deployment.strategy == "BLUE_GREEN"
    plan = planned(config)
    found = composites(plan)
    down = found["service-down"]["alarmRule"]
    members = [a.inputs for a in plan.of_type(ALARM)
               if f'"{a.inputs["name"]}"' in down and _reads_alb(a.inputs) and "floyo:slo" not in a.inputs["tags"]]
    assert [a["tags"]["floyo:alarm"] for a in members] == ["backend-no-healthy-hosts"]
    metric = [*slo_alarms(plan), *members]
    dims = [q["metric"]["dimensions"] for a in members for q in (a.get("metricQueries") or [{"metric": a}])
            if "metric" in q]
    groups = tuple(dict.fromkeys(d["TargetGroup"] for d in dims))
    assert len(groups) == 2 or not two_groups
    lb = next(q["metric"]["dimensions"]["LoadBalancer"] for q in metric[0]["metricQueries"] if "metric" in q)
    return Declared(lb, groups, {c["alarmName"]: c["tags"]["floyo:severity"] for c in found.values()},
                    tuple(metric), tuple(c for k, c in found.items() if k.startswith("slo-") or k == "service-down"))


@dataclass(frozen=True)
class Outcome:
    pages: list[Notification]
    tickets: list[Notification]


HISTORY = 3 * DAY
"""Healthy minutes before each scenario: every window (3 days at most) starts full, as in a running service."""


def simulate(stack: str, traffic: Traffic, minutes: int, *, two_groups: bool = False,
             reshape: Callable[[dict[str, Any]], dict[str, Any]] = lambda a: a) -> Outcome:
    """Run the plan's alarms over `HISTORY` healthy minutes and then `minutes` of `traffic` (its functions see
    minutes from the scenario's start; notifications are reported the same way). `reshape` may replace a metric
    alarm's inputs (to show what an older alarm shape would do)."""
    plan = declared(stack, two_groups)
    alarms = [MetricAlarm.from_inputs(reshape(dict(a))) for a in plan.metric]
    comps = [CompositeAlarm.from_inputs(c) for c in plan.composites]
    others = {name for c in comps for name in _names(c.rule)} - {a.name for a in alarms} - {c.name for c in comps}
    shifted = Traffic(bad=lambda m: traffic.bad(m - HISTORY) if m >= HISTORY else 0,
                      slow=lambda m: traffic.slow(m - HISTORY) if m >= HISTORY else 0,
                      outage=lambda m: m >= HISTORY and traffic.outage(m - HISTORY),
                      group=lambda m: traffic.group(m - HISTORY))
    total = HISTORY + minutes
    notes, _ = run(alarms, comps, series(shifted, total, plan.lb, plan.groups), total,
                   fixed={n: "OK" for n in others}, first=HISTORY - 60)
    notes = [Notification(n.minute - HISTORY, n.alarm, n.actions) for n in notes]
    assert not [n for n in notes if n.minute <= 0], f"healthy history notified: {notes}"
    return Outcome([n for n in notes if plan.severity.get(n.alarm) == "page"],
                   [n for n in notes if plan.severity.get(n.alarm) == "ticket"])


def _names(rule: str) -> list[str]:
    return [part.split('"')[1] for part in rule.split("ALARM(")[1:]]


def budget(stack: str, sli: str = "availability") -> float:
    slo = slo_settings(stack)
    return round((100 - (slo.availability_percent if sli == "availability" else slo.latency_percent)) / 100, 12)


def burning(ratio: float, start: int, end: int = 10**9) -> Callable[[int], int]:
    count = round(ratio * RATE)
    assert count == ratio * RATE or abs(count - ratio * RATE) < 1e-6
    return lambda m: count if start <= m < end else 0


def test_a_full_outage_pages_within_5_minutes(stack: str) -> None:
    start = 120
    outcome = simulate(stack, Traffic(outage=lambda m: m >= start), start + 60)
    assert outcome.pages, "a full outage never paged"
    assert outcome.pages[0].minute - start <= 5
    # one page: service-down; the 6 h/30 min page burns too, but the fastest alert suppresses it
    assert [n.alarm for n in outcome.pages] == [f"floyo-{stack}-service-down"]


def test_a_14x_burn_pages_within_the_hour(stack: str) -> None:
    start = 60
    outcome = simulate(stack, Traffic(bad=burning(14.4 * budget(stack), start)), start + 90)
    assert outcome.pages and outcome.pages[0].minute - start <= 60
    alert = burn_alerts(slo_settings(stack), "lb")[0]
    # `ops slo` computes the same time from the windows
    assert outcome.pages[0].minute - start == minutes_to_notify([alert], alert, 14.4 * budget(stack))


def test_a_14x_latency_burn_pages_within_the_hour(stack: str) -> None:
    start = 60
    outcome = simulate(stack, Traffic(slow=burning(14.4 * budget(stack, "latency"), start)), start + 90)
    assert [n.alarm for n in outcome.pages] == [f"floyo-{stack}-slo-latency-1h-5m"]
    assert outcome.pages[0].minute - start <= 60


def test_a_1x_burn_never_pages_but_opens_a_ticket(stack: str) -> None:
    outcome = simulate(stack, Traffic(bad=burning(budget(stack), 0)), 3 * DAY + 60)
    assert not outcome.pages
    assert [n.alarm for n in outcome.tickets] == [f"floyo-{stack}-slo-availability-3d-6h"]
    assert outcome.tickets[0].minute == 3 * DAY + 2  # the whole 3 days burning, then the suppressor's 2-minute wait


def test_a_2x_slow_burn_takes_what_ops_slo_says(stack: str) -> None:
    outcome = simulate(stack, Traffic(bad=burning(2 * budget(stack), 0)), 37 * 60)
    assert not outcome.pages and len(outcome.tickets) == 1
    assert "1 d 12 h 2 min" in slo_table(slo_settings(stack))
    assert outcome.tickets[0].minute == 36 * 60 + 2


def test_a_10_minute_blip_at_2x_notifies_nobody(stack: str) -> None:
    outcome = simulate(stack, Traffic(bad=burning(2 * budget(stack), 120, 130)), 8 * 60)
    assert not outcome.pages and not outcome.tickets


SWAP = 45
"""A blue/green or linear release every 45 minutes: the serving target group alternates."""


def alternating(stack: str, outage_from: int | None = None) -> Traffic:
    """Traffic served by the two target groups in turn, errors at half the budget throughout, and from minute
    `outage_from` (while the second group serves) no healthy target at all. The primary serves the history."""
    return Traffic(bad=burning(budget(stack) / 2, 0), group=lambda m: (max(m, 0) // SWAP) % 2,
                   outage=lambda m: outage_from is not None and m >= outage_from)


def test_traffic_alternating_between_target_groups_never_false_alarms(stack: str) -> None:
    # the SLO windows and backend-no-healthy-hosts (the service-down member reading target groups) are evaluated
    # from the series, not held at OK: after each swap one group is empty
    outcome = simulate(stack, alternating(stack), DAY, two_groups=True)
    assert not outcome.pages and not outcome.tickets


def test_an_outage_while_the_second_target_group_serves_pages(stack: str) -> None:
    start = 5 * SWAP + 10  # the third swap's group: the alternate one serves
    assert alternating(stack).group(start) == 1
    outcome = simulate(stack, alternating(stack, start), 6 * SWAP, two_groups=True)
    assert [n.alarm for n in outcome.pages] == [f"floyo-{stack}-service-down"]
    assert outcome.pages[0].minute - start <= 5


def one_group(alarm: dict[str, Any]) -> dict[str, Any]:
    """`backend-no-healthy-hosts` as it was before both groups were read: `HealthyHostCount < 1` of the declared
    primary group alone (missing data breaching); other alarms unchanged."""
    if alarm["tags"]["floyo:alarm"] != "backend-no-healthy-hosts":
        return alarm
    primary = next(q["metric"] for q in alarm["metricQueries"] if q["id"] == "healthy")
    return {**{k: v for k, v in alarm.items() if k != "metricQueries"}, "namespace": primary["namespace"],
            "metricName": primary["metricName"], "dimensions": primary["dimensions"],
            "statistic": primary["stat"], "period": primary["period"]}


def test_the_alternating_case_catches_a_one_target_group_alarm(stack: str) -> None:
    # the two tests above, on the old one-group shape: every swap to the alternate group pages for nothing (once
    # the old group has drained, 2 minutes of HealthyHostCount 0), service-down then stays in ALARM while that group
    # serves, and an outage in that time pages nobody
    false_alarm = simulate(stack, alternating(stack), DAY, two_groups=True, reshape=one_group)
    assert false_alarm.pages and false_alarm.pages[0].minute == SWAP + OVERLAP + 2
    assert {n.alarm for n in false_alarm.pages} == {f"floyo-{stack}-service-down"}
    start = 5 * SWAP + 10
    missed = simulate(stack, alternating(stack, start), 6 * SWAP, two_groups=True, reshape=one_group)
    assert missed.pages and not [n for n in missed.pages if n.minute >= start]


# --- ops slo --------------------------------------------------------------------------------------------------


def test_ops_slo_prints_each_slo_with_times_to_notify() -> None:
    result = run_ops("slo", "prod")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Availability: 99.9 %" in out and "Latency: 99 %" in out and "TargetResponseTime PR(:1)" in out
    assert "/ (RequestCount + HTTPCode_ELB_503_Count)" in out  # each request once (docs/slo.md)
    assert "1 h / 5 min" in out and "14.4×" in out and "page via service-down" in out
    assert "full outage: first notice after 1 min (page via service-down)" in out
    assert "2× burn: first notice after 1 d 12 h 2 min (ticket)" in out


def test_ops_slo_names_a_bad_setting(tmp_path: Path) -> None:
    """In this process (`run_ops_here`: exit code and output as a child would give them; the command stops
    before planning); the test above runs `ops slo` in a real child."""
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text((ROOT / "Pulumi.dev.yaml").read_text()
                          + "  floyo-infra:monitoring:\n    slo:\n      availability_percent: 100\n")
    result = run_ops_here("slo", "dev", "--stack-dir", str(tmp_path))
    assert result.returncode == 2
    assert "monitoring.slo.availability_percent" in result.stderr and "Traceback" not in result.stderr
    assert stack_file.name in result.stderr


def test_table_defaults_without_a_stack() -> None:
    assert "3 d / 6 h" in slo_table(SloSettings())
