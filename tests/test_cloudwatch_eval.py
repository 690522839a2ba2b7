"""The CloudWatch evaluator (tests/cloudwatch_eval.py) against cases computed by hand, and its column
evaluation (what `run` uses) against its one-point reference on irregular series."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.cloudwatch_eval import (
    ALARM,
    INSUFFICIENT,
    OK,
    Aggregator,
    CompositeAlarm,
    MetricAlarm,
    metric_key,
    parse_expression,
    parse_rule,
    run,
)
from tests.metric_math import parse_columns

LB = {"LoadBalancer": "app/x/1"}
REQUESTS = metric_key("AWS/ApplicationELB", "RequestCount", LB)
ERRORS = metric_key("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", LB)


def counts(values: list[float | None]) -> list[list[tuple[float, float]]]:
    """One sum a minute (None: nothing published that minute)."""
    return [[] if v is None else [(v, 1)] for v in values]


def test_statistics_over_a_period() -> None:
    # minutes: [1, 3], [], [5 x2]  -> samples 1, 3, 5, 5
    agg = Aggregator([[(1, 1), (3, 1)], [], [(5, 2)]])
    assert agg.stat("Sum", 0, 3) == 14
    assert agg.stat("SampleCount", 0, 3) == 4
    assert agg.stat("Average", 0, 3) == 3.5
    assert agg.stat("Minimum", 0, 3) == 1 and agg.stat("Maximum", 0, 3) == 5
    assert agg.stat("p50", 0, 3) == 3  # nearest rank: ceil(0.5 * 4) = 2nd of 1,3,5,5
    assert agg.stat("PR(:3)", 0, 3) == 50  # 1 and 3 are <= 3: 2 of 4
    assert agg.stat("PR(1:5)", 0, 3) == 75  # lower bound exclusive: 3, 5, 5
    assert agg.stat("Sum", 1, 2) is None  # a period without samples has no datapoint
    assert agg.stat("Sum", 2, 10) == 10  # clipped to the series


@pytest.mark.parametrize(("expression", "env", "expected"), [
    ("a + b * 2", {"a": 1, "b": 3}, 7),
    ("(a + b) * 2", {"a": 1, "b": 3}, 8),
    ("a / b", {"a": 1, "b": 0}, None),  # division by zero: no datapoint
    ("a + b", {"a": 1, "b": None}, None),  # a missing point stays missing
    ("FILL(b, 0) + a", {"a": 1, "b": None}, 1),
    ("IF(a >= 2, 10, 20)", {"a": 2}, 10),
    ("IF(a > 2, 10, 20)", {"a": 2}, 20),
    ("IF(a > 2, 10)", {"a": 2}, None),
    ("MAX([a, b])", {"a": 1, "b": None}, 1),
    ("MAX([a, b, c])", {"a": 1, "b": None, "c": 3}, 3),
    ("MIN([a, b, c])", {"a": 2, "b": None, "c": 3}, 2),
    ("SUM([a, b, c])", {"a": 2, "b": None, "c": 3}, 5),
    ("AVG([a, b, c])", {"a": 1, "b": None, "c": 4}, 2.5),
    ("MAX([a, b])", {"a": None, "b": None}, None),
    ("a - b", {"a": 1, "b": 3}, -2),
    ("a < b", {"a": 1, "b": 3}, 1), ("a < b", {"a": 3, "b": 3}, 0),
    ("a <= b", {"a": 3, "b": 3}, 1), ("a <= b", {"a": 4, "b": 3}, 0),
    ("a == b", {"a": 3, "b": 3}, 1), ("a == b", {"a": 2, "b": 3}, 0),
    ("a != b", {"a": 2, "b": 3}, 1), ("a != b", {"a": 3, "b": 3}, 0),
    ("a > b", {"a": 4, "b": 3}, 1), ("a >= b", {"a": 2, "b": 3}, 0),
    ("a && b", {"a": 2, "b": 0}, 0), ("a && b", {"a": 2, "b": 1}, 1),
    ("a || b", {"a": 0, "b": 0}, 0), ("a || b", {"a": 0, "b": 5}, 1),
    ("a > b", {"a": None, "b": 1}, None),
    ("1 - FILL(f, 100) / 100", {"f": 97.5}, 0.025),
    ("-a + 1", {"a": 3}, -2),
])
def test_metric_math(expression: str, env: dict[str, Any], expected: float | None) -> None:
    assert parse_expression(expression)(env) == (pytest.approx(expected) if expected is not None else None)


def ratio_alarm(period_minutes: int, periods: int, to_alarm: int, missing: str) -> MetricAlarm:
    metric = {"namespace": "AWS/ApplicationELB", "dimensions": LB, "stat": "Sum", "period": period_minutes * 60}
    return MetricAlarm(
        name="ratio", comparison="GreaterThanThreshold", threshold=0.1, evaluation_periods=periods,
        datapoints_to_alarm=to_alarm, treat_missing_data=missing, queries=[
            {"id": "r", "returnData": False, "metric": {**metric, "metricName": "RequestCount"}},
            {"id": "e", "returnData": False, "metric": {**metric, "metricName": "HTTPCode_Target_5XX_Count"}},
            {"id": "x", "returnData": True, "expression": "FILL(e, 0) / r"},
        ])


def test_period_aggregation_and_m_of_n() -> None:
    # 2-minute periods, 2 of 3 must breach (> 10 %). Minutes 0..5: requests 10 each; errors in 0, 1 and 4.
    data = {REQUESTS: Aggregator(counts([10] * 6)), ERRORS: Aggregator(counts([3, 0, None, None, 1, 2]))}
    alarm = ratio_alarm(2, 3, 2, "notBreaching")
    # at now=6: periods [4,6) 3/20=15 %, [2,4) 0/20, [0,2) 3/20=15 %  -> 2 of 3 breach
    assert alarm.evaluate(data, 6) == ALARM
    # one minute on, periods [5,7) 2/10=20 %, [3,5) 1/20=5 %, [1,3) 0/20 -> 1 of 3
    assert alarm.evaluate(data, 7) == OK


@pytest.mark.parametrize(("missing", "expected"), [
    ("notBreaching", OK), ("breaching", ALARM), ("missing", INSUFFICIENT), ("ignore", "previous"),
])
def test_missing_data(missing: str, expected: str) -> None:
    data = {REQUESTS: Aggregator(counts([None] * 4)), ERRORS: Aggregator(counts([None] * 4))}
    alarm = ratio_alarm(1, 2, 2, missing)
    alarm.state = "previous"
    assert alarm.evaluate(data, 4) == expected


def test_composite_rule_precedence() -> None:
    rule = parse_rule('ALARM("a") OR NOT OK("b") AND (ALARM("c") OR TRUE)')
    assert rule({"a": OK, "b": ALARM, "c": OK})  # NOT OK(b) AND (…) is true
    assert not rule({"a": OK, "b": OK, "c": ALARM})
    assert rule({"a": ALARM, "b": OK})


def test_and_of_two_windows_and_suppression() -> None:
    # two alarms driven by fixed states over time; the high composite fires at minute 3, the low one at 2
    high = CompositeAlarm(name="high", rule='ALARM("h1") AND ALARM("h2")', actions=["page"])
    low = CompositeAlarm(name="low", rule='ALARM("l1")', actions=["ticket"], suppressor="high",
                         wait_minutes=2, extension_minutes=3)
    timeline = {  # minute: (h1, h2, l1)
        1: (OK, OK, OK), 2: (ALARM, OK, ALARM), 3: (ALARM, ALARM, ALARM), 4: (ALARM, ALARM, ALARM),
        5: (OK, ALARM, ALARM), 6: (OK, OK, ALARM), 7: (OK, OK, ALARM), 8: (OK, OK, ALARM),
    }
    fired = []
    for minute, (h1, h2, l1) in timeline.items():
        states = {"h1": h1, "h2": h2, "l1": l1}
        for composite in (high, low):
            if composite.step(states, minute):
                fired.append((minute, composite.name))
            states[composite.name] = composite.state
    # high: AND of both only from minute 3. low: in ALARM from 2, waits (up to 2 min) for high, which fires at
    # 3 -> suppressed; high clears at 5; after the 3-minute extension low notifies at 8
    assert fired == [(3, "high"), (8, "low")]


def test_low_alert_notifies_after_wait_when_the_suppressor_never_fires() -> None:
    low = CompositeAlarm(name="low", rule='ALARM("l1")', actions=["ticket"], suppressor="high", wait_minutes=2)
    assert [m for m in range(1, 6) if low.step({"l1": ALARM, "high": OK}, m)] == [3]


def test_run_notifies_on_the_transition_only() -> None:
    data = {REQUESTS: counts([10] * 5), ERRORS: counts([5, 5, 5, 0, 0])}
    alarm = ratio_alarm(1, 1, 1, "notBreaching")
    alarm.actions = ["topic"]
    notes, history = run([alarm], [], data, 5)
    assert [(n.minute, n.alarm) for n in notes] == [(1, "ratio")]
    assert history["ratio"] == [ALARM, ALARM, ALARM, OK, OK]


# --- the column evaluation `run` uses, pinned to the one-point reference ---------------------------------------


def irregular(seed: int, minutes: int) -> list[list[tuple[float, float]]]:
    """Minutes with no sample, one, or several (zero counts, zero and fractional values among them)."""
    rng = random.Random(seed)
    return [[(rng.choice([0.0, 0.5, 1.0, 2.5, 30.0, float(rng.randint(0, 50))]), float(rng.randint(0, 3)))
             for _ in range(rng.choice([0, 0, 1, 1, 1, 2, 3]))] for _ in range(minutes)]


@pytest.mark.parametrize("stat", ["Sum", "SampleCount", "Average", "Minimum", "Maximum", "p50", "p99", "PR(:1)",
                                  "PR(0.5:2.5)", "PR(1:)"])
def test_statistic_columns_are_the_statistics_of_each_period(stat: str) -> None:
    agg = Aggregator(irregular(1, 40))
    for period in (1, 3, 7):
        ends = range(-4, 48)  # periods before the series, clipped at both ends, past it
        assert agg.column(stat, period, ends) == [agg.stat(stat, e - period, e) for e in ends], period
        assert any(v is not None for v in agg.column(stat, period, ends))


EXPRESSIONS = [
    "a", "-a + 2.5", "a - b * c", "a / b", "(a + b) / (c - 1)", "a > b", "a >= 1", "a < b", "a <= 0", "a == b",
    "a != b", "a && b", "a || c", "IF(a > b, c, 7)", "IF(c, a)", "FILL(a, 0) + FILL(b, 1)", "MAX([a, b, c])",
    "MIN([a, 3])", "SUM([a, b])", "AVG([a, b, c])",
    "IF((FILL(a, 0) + FILL(c, 0)) >= 1, (FILL(b, 0) + FILL(c, 0)) / (FILL(a, 0) + FILL(c, 0)), 0)",
    "IF(FILL(c, 0) >= 1, 1 - FILL(b, 100) / 100, 0)",
]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_columns_are_the_expression_at_each_point(expression: str) -> None:
    rng = random.Random(expression)
    n = 60
    columns = {name: [rng.choice([None, 0.0, 1.0, 2.0, -1.5, 3.0, 50.0]) for _ in range(n)] for name in "abc"}
    point = parse_expression(expression)
    expected = [point({name: column[i] for name, column in columns.items()}) for i in range(n)]
    assert parse_columns(expression)(columns, n) == expected
    assert len(set(map(repr, expected))) > 1  # the series exercise more than one outcome


def alarms_of_every_shape() -> tuple[list[MetricAlarm], list[CompositeAlarm]]:
    """Ratio alarms over each missing-data rule, period and M of N; composites with and without a suppressor."""
    shapes = [(1, 1, 1, "notBreaching"), (2, 3, 2, "breaching"), (1, 3, 2, "missing"), (3, 2, 1, "ignore"),
              (5, 1, 1, "notBreaching"), (1, 2, 2, "breaching")]
    metrics = []
    for index, (period, periods, to_alarm, missing) in enumerate(shapes):
        alarm = ratio_alarm(period, periods, to_alarm, missing)
        alarm.name, alarm.actions = f"m{index}", [f"topic{index}"] if index % 2 else []
        metrics.append(alarm)
    composites = [
        CompositeAlarm(name="fast", rule='ALARM("m0") AND ALARM("m4")', actions=["page"]),
        CompositeAlarm(name="slow", rule='ALARM("m1") OR ALARM("m2")', actions=["page"], suppressor="fast",
                       wait_minutes=2, extension_minutes=5),
        CompositeAlarm(name="ticket", rule='ALARM("m3") AND NOT OK("m5") OR ALARM("outside")', actions=["ticket"],
                       suppressor="slow", wait_minutes=2, extension_minutes=30),
    ]
    return metrics, composites


def test_run_is_every_alarm_evaluated_minute_by_minute() -> None:
    minutes = 240
    data = {REQUESTS: irregular(2, minutes), ERRORS: irregular(3, minutes)}
    metrics, composites = alarms_of_every_shape()
    notes, history = run(metrics, composites, data, minutes, fixed={"outside": OK}, first=20)
    # the reference: each alarm evaluated afresh each minute (MetricAlarm.evaluate), the composites after it
    metrics, composites = alarms_of_every_shape()
    aggregators = {key: Aggregator(series) for key, series in data.items()}
    expected: dict[str, list[str]] = {alarm.name: [] for alarm in [*metrics, *composites]}
    expected_notes = []
    for now in range(20, minutes + 1):
        states = {"outside": OK}
        for alarm in metrics:
            before = alarm.state
            states[alarm.name] = alarm.evaluate(aggregators, now)
            if alarm.actions and before != ALARM and alarm.state == ALARM:
                expected_notes.append((now, alarm.name))
        for composite in composites:  # declared members first
            if composite.step(states, now):
                expected_notes.append((now, composite.name))
            states[composite.name] = composite.state
        for name, states_so_far in expected.items():
            states_so_far.append(states[name])
    assert history == expected
    assert [(n.minute, n.alarm) for n in notes] == expected_notes
    assert {ALARM, OK} <= {state for states in history.values() for state in states} and len(expected_notes) > 3
