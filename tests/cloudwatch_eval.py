"""An offline evaluator of CloudWatch metric alarms and composite alarms, written from CloudWatch's documented
semantics, for evaluating the alarms a plan declares on generated minute-by-minute series.

What it implements, and where the semantics come from (CloudWatch User Guide):

* **Raw datapoints** per minute: a list of `(value, count)` samples (`count` identical values), the way ALB
  publishes `RequestCount` (one sum a minute) or `TargetResponseTime` (a distribution). A minute with no
  samples has no data (ALB publishes nothing for a minute without requests).
* **Statistics** over a period ("Statistics definitions"): `Sum`, `SampleCount`, `Average`, `Minimum`,
  `Maximum`, percentiles `pNN` (nearest rank) and percentile rank `PR(a:b)`: the % of samples with
  a < value <= b (lower bound exclusive, upper inclusive). A period without samples has no datapoint.
* **Periods**: the default `SlidingWindow` evaluation window ("Alarm evaluation window"): evaluated at the
  end of minute `t`, period k (k = 0 the newest) covers minutes `[t - (k+1)·P, t - k·P)`; an alarm is
  evaluated every minute.
* **Metric math** ("Metric math syntax and functions"): numbers, ids, `+ - * /`, comparisons
  (`> >= < <= == !=`, giving 1 or 0), `&&`/`||`, `IF(c, a, b)`, `FILL(x, v)`, `MAX/MIN/SUM/AVG([...])`.
  Arithmetic with a missing value is missing (a time series has no point at that timestamp); `FILL` puts `v`
  in its place; division by zero is missing. The language is in tests/metric_math.py.
* **Alarm state** ("Configuring how CloudWatch alarms treat missing data"): of the newest `evaluation_periods`
  datapoints, missing ones count as breaching (`breaching`), as good (`notBreaching`), are skipped
  (`ignore`: all missing keeps the previous state) or, all missing, give INSUFFICIENT_DATA (`missing`).
  ALARM when at least `datapoints_to_alarm` breach, else OK.
* **Composite alarms** ("Composite alarms", `AlarmRule` syntax): `ALARM("n")`, `OK("n")`,
  `INSUFFICIENT_DATA("n")`, `TRUE`, `FALSE`, `AND`, `OR`, `NOT`, parentheses; re-evaluated on every member
  change. **Actions suppression** (PutCompositeAlarm `ActionsSuppressor*`): entering ALARM while the
  suppressor is in ALARM notifies nobody; while it is not, the composite waits up to `WaitPeriod` for it and
  notifies if it has not fired by then; when the suppressor leaves ALARM, the composite notifies after
  `ExtensionPeriod` if still in ALARM.

How it computes (the same answers two ways): `MetricAlarm.datapoint` and `MetricAlarm.evaluate` compute one
period and one minute at a time, each statistic and expression afresh: the reference. `run` computes each
alarm's datapoints once per run as a column, one value per period end (statistics from prefix sums, metric
math over whole columns), and then its state minute by minute from that column. tests/test_cloudwatch_eval.py
pins the columns and `run`'s states to the reference on irregular series.

Simplifications (stated, not hidden): no publication delay; an alarm evaluates exactly at minute boundaries;
notifications on ALARM only (OK notifications are not modelled); percentiles by nearest rank.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate
from typing import Any

from tests.metric_math import Value, parse_columns, parse_expression

__all__ = ["ALARM", "INSUFFICIENT", "OK", "Aggregator", "CompositeAlarm", "MetricAlarm", "Notification", "Series",
           "metric_key", "parse_expression", "parse_rule", "run"]

Sample = tuple[float, float]
"""(value, count)."""
Series = Sequence[Sequence[Sample]]
"""Per minute (index = minute), the samples published that minute."""

ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"


# --- statistics --------------------------------------------------------------------------------------------


_PR = re.compile(r"^PR\((?P<lo>[0-9.]*):(?P<hi>[0-9.]*)\)$")
_PCT = re.compile(r"^p(?P<n>\d{1,2}(\.\d+)?)$")


def _running(per_minute: Iterable[float]) -> list[float]:
    """[0, x0, x0 + x1, ...]: the prefix sums a range's total is read from."""
    return list(accumulate(per_minute, initial=0.0))


class Aggregator:
    """Statistics of one series over minute ranges, with prefix sums for the additive ones."""

    def __init__(self, series: Series) -> None:
        self.series = series
        self.minutes = len(series)
        # per minute first, then the running total (a minute's own samples summed before they are added)
        self._count = _running(m[0][1] if len(m) == 1 else sum(c for _, c in m) for m in series)
        self._ranks: dict[tuple[float, float], list[float]] = {}
        self._columns: dict[tuple[str, int, int, int], list[Value]] = {}

    @cached_property
    def _sum(self) -> list[float]:
        """Prefix sums of the values (made on first use: a series only read by count or rank needs none)."""
        return _running(m[0][0] * m[0][1] if len(m) == 1 else sum(v * c for v, c in m) for m in self.series)

    def _range_count(self, lo: float, hi: float) -> list[float]:
        key = (lo, hi)
        if key not in self._ranks:
            self._ranks[key] = _running(sum(c for v, c in m if lo < v <= hi) for m in self.series)
        return self._ranks[key]

    def stat(self, stat: str, start: int, end: int) -> Value:
        """`stat` over minutes [start, end) (clipped to the series); None when no sample falls in it."""
        start, end = max(start, 0), min(end, self.minutes)
        if end <= start:
            return None
        count = self._count[end] - self._count[start]
        if count <= 0:
            return None
        if stat == "SampleCount":
            return count
        if stat == "Sum":
            return self._sum[end] - self._sum[start]
        if stat == "Average":
            return (self._sum[end] - self._sum[start]) / count
        if match := _PR.match(stat):
            ranks = self._range_count(*_bounds(match))
            return 100 * (ranks[end] - ranks[start]) / count
        samples = sorted((v, c) for m in self.series[start:end] for v, c in m)
        if stat == "Minimum":
            return samples[0][0]
        if stat == "Maximum":
            return samples[-1][0]
        if match := _PCT.match(stat):
            rank = math.ceil(float(match["n"]) / 100 * count)
            seen = 0.0
            for value, c in samples:
                seen += c
                if seen >= rank:
                    return value
            return samples[-1][0]
        raise ValueError(f"statistic {stat!r} not modelled")

    def column(self, stat: str, period: int, ends: range) -> list[Value]:
        """`stat(stat, e - period, e)` for each `e` in `ends`, from the same prefix sums; computed once per
        (stat, period, ends) and shared: callers must not change the list."""
        key = (stat, period, ends.start, ends.stop)
        if key not in self._columns:
            self._columns[key] = self._column(stat, period, ends)
        return self._columns[key]

    def _column(self, stat: str, period: int, ends: range) -> list[Value]:
        n, count = self.minutes, self._count
        spans = [(max(e - period, 0), min(e, n)) for e in ends]
        # the range's sample count, or 0 where stat() has no datapoint (empty or clipped away)
        counts = [count[e] - count[s] if e > s else 0.0 for s, e in spans]
        if stat == "SampleCount":
            return [c if c > 0 else None for c in counts]
        if stat in ("Sum", "Average"):
            total = self._sum
            sums = [total[e] - total[s] if c > 0 else None for (s, e), c in zip(spans, counts, strict=True)]
            if stat == "Sum":
                return sums
            return [None if t is None else t / c for t, c in zip(sums, counts, strict=True)]
        if match := _PR.match(stat):
            ranks = self._range_count(*_bounds(match))
            return [100 * (ranks[e] - ranks[s]) / c if c > 0 else None for (s, e), c in zip(spans, counts, strict=True)]
        if stat in ("Minimum", "Maximum"):
            pick = min if stat == "Minimum" else max
            series = self.series
            return [pick(v for m in series[s:e] for v, _ in m) if c > 0 else None
                    for (s, e), c in zip(spans, counts, strict=True)]
        return [self.stat(stat, e - period, e) for e in ends]  # percentiles: sorted per period


def _bounds(match: re.Match[str]) -> tuple[float, float]:
    return (float(match["lo"]) if match["lo"] else -math.inf, float(match["hi"]) if match["hi"] else math.inf)


# --- metric alarms -----------------------------------------------------------------------------------------


MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]
"""(namespace, metric name, sorted dimensions)."""


def metric_key(namespace: str, name: str, dimensions: Mapping[str, str]) -> MetricKey:
    return namespace, name, tuple(sorted(dimensions.items()))


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt, "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt, "LessThanOrEqualToThreshold": operator.le}


@dataclass
class MetricAlarm:
    """A metric alarm as the plan declares it (`aws.cloudwatch.MetricAlarm` inputs)."""

    name: str
    queries: list[dict[str, Any]]
    comparison: str
    threshold: float
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: str
    actions: list[str] = field(default_factory=list)
    state: str = INSUFFICIENT

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Any]) -> MetricAlarm:
        queries = inputs.get("metricQueries")
        if not queries:  # a single-metric alarm: one query, returned
            queries = [{"id": "m", "returnData": True, "metric": {
                "namespace": inputs["namespace"], "metricName": inputs["metricName"],
                "dimensions": inputs.get("dimensions") or {}, "period": inputs["period"],
                "stat": inputs.get("statistic") or inputs["extendedStatistic"]}}]
        return cls(
            name=inputs["name"], queries=list(queries), comparison=inputs["comparisonOperator"],
            threshold=float(inputs["threshold"]), evaluation_periods=int(inputs["evaluationPeriods"]),
            datapoints_to_alarm=int(inputs.get("datapointsToAlarm") or inputs["evaluationPeriods"]),
            treat_missing_data=inputs.get("treatMissingData") or "missing",
            actions=list(inputs.get("alarmActions") or []),
        )

    def __post_init__(self) -> None:
        expressions = [q for q in self.queries if q.get("expression")]  # in declaration order: later use earlier
        self._expressions = [(q["id"], parse_expression(q["expression"])) for q in expressions]
        self._column_expressions = [(q["id"], parse_columns(q["expression"])) for q in expressions]
        self._metrics = [(q["id"], q["metric"]["stat"],
                          metric_key(q["metric"]["namespace"], q["metric"]["metricName"],
                                     q["metric"].get("dimensions") or {})) for q in self.queries if "metric" in q]
        returned = [q for q in self.queries if q.get("returnData", True)]
        if len(returned) != 1:
            raise ValueError(f"{self.name}: exactly one query must return data")
        self._result = returned[0]["id"]
        periods = {int(q["metric"]["period"]) for q in self.queries if "metric" in q}
        if len(periods) != 1:
            raise ValueError(f"{self.name}: every metric of an alarm has the alarm's period")
        self.period = periods.pop() // 60

    def datapoint(self, data: Mapping[MetricKey, Aggregator], start: int, end: int) -> Value:
        """The returned series' value for the period [start, end) (minutes)."""
        env: dict[str, Value] = {}
        for query, stat, key in self._metrics:
            series = data.get(key)
            env[query] = series.stat(stat, start, end) if series else None
        for query, expression in self._expressions:
            env[query] = expression(env)
        return env[self._result]

    def datapoints(self, data: Mapping[MetricKey, Aggregator], ends: range) -> list[Value]:
        """`datapoint(data, e - period, e)` for each period end `e` in `ends`, computed as whole columns."""
        n = len(ends)
        env: dict[str, Sequence[Value]] = {}
        for query, stat, key in self._metrics:
            series = data.get(key)
            env[query] = series.column(stat, self.period, ends) if series else [None] * n
        for query, expression in self._column_expressions:
            env[query] = expression(env, n)
        return list(env[self._result])

    def breaches(self, value: float) -> bool:
        return _COMPARE[self.comparison](value, self.threshold)

    def _next_state(self, flags: tuple[bool | None, ...]) -> str:
        """The state from the newest `evaluation_periods` datapoints, each breaching (True), not (False) or
        missing (None); updates `self.state`."""
        breaching, missing = flags.count(True), flags.count(None)
        rule = self.treat_missing_data
        if rule == "breaching":
            breaching += missing
        elif missing == len(flags) and rule in ("ignore", "missing"):
            self.state = self.state if rule == "ignore" else INSUFFICIENT
            return self.state
        self.state = ALARM if breaching >= self.datapoints_to_alarm else OK
        return self.state

    def _flag(self, point: Value) -> bool | None:
        return None if point is None else self.breaches(point)

    def evaluate(self, data: Mapping[MetricKey, Aggregator], now: int) -> str:
        """The state at the end of minute `now - 1` (periods end at `now`), each period computed afresh,
        updating `self.state`."""
        return self._next_state(tuple(self._flag(self.datapoint(data, now - (k + 1) * self.period, now - k * self.period))
                                      for k in range(self.evaluation_periods)))

    def states(self, data: Mapping[MetricKey, Aggregator], minutes: range) -> list[str]:
        """What `evaluate(data, now)` gives for each `now` in `minutes`, in turn (updating `self.state`), from
        the alarm's datapoints computed once as a column."""
        first = minutes.start - (self.evaluation_periods - 1) * self.period
        flags = [self._flag(p) for p in self.datapoints(data, range(first, max(minutes.stop, first)))]
        # the window of each minute: its newest period first (period k ends k periods before the minute)
        windows = list(zip(*[flags[minutes.start - first - k * self.period:][:len(minutes)]
                             for k in range(self.evaluation_periods)], strict=True))
        if self.treat_missing_data == "ignore":  # an all-missing window keeps the state before it: in turn
            return [self._next_state(window) for window in windows]
        known = {window: self._next_state(window) for window in set(windows)}  # a function of the window alone
        if windows:
            self.state = known[windows[-1]]
        return [known[window] for window in windows]


# --- composite alarms --------------------------------------------------------------------------------------


_RULE_TOKEN = re.compile(r'\s*(?:(?P<fn>ALARM|OK|INSUFFICIENT_DATA)\(\s*"(?P<name>[^"]+)"\s*\)|'
                         r"(?P<kw>AND|OR|NOT|TRUE|FALSE)\b|(?P<paren>[()]))")
States = Mapping[str, str]


def parse_rule(rule: str) -> Callable[[States], bool]:
    """A composite `AlarmRule` as a predicate over member states (NOT binds tighter than AND, AND than OR)."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(rule.rstrip()):
        match = _RULE_TOKEN.match(rule, pos)
        if not match:
            raise ValueError(f"cannot parse alarm rule at {rule[pos:]!r}")
        if match["fn"]:
            tokens.append((match["fn"], match["name"]))
        else:
            tokens.append((match["kw"] or match["paren"], ""))
        pos = match.end()
    index = 0

    def peek() -> str | None:
        return tokens[index][0] if index < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal index
        index += 1
        return tokens[index - 1]

    def disjunction() -> Callable[[States], bool]:
        parts = [conjunction()]
        while peek() == "OR":
            take()
            parts.append(conjunction())
        return lambda s: any(p(s) for p in parts)

    def conjunction() -> Callable[[States], bool]:
        parts = [negation()]
        while peek() == "AND":
            take()
            parts.append(negation())
        return lambda s: all(p(s) for p in parts)

    def negation() -> Callable[[States], bool]:
        if peek() == "NOT":
            take()
            inner = negation()
            return lambda s: not inner(s)
        kind, name = take()
        if kind == "(":
            inner = disjunction()
            if take()[0] != ")":
                raise ValueError("unbalanced parentheses in alarm rule")
            return inner
        if kind in ("TRUE", "FALSE"):
            return lambda s: kind == "TRUE"
        if kind in (ALARM, OK, INSUFFICIENT):
            return lambda s: s.get(name, INSUFFICIENT) == kind
        raise ValueError(f"unexpected {kind!r} in alarm rule")

    predicate = disjunction()
    if index != len(tokens):
        raise ValueError("trailing tokens in alarm rule")
    return predicate


@dataclass
class CompositeAlarm:
    """A composite alarm as the plan declares it, with its actions suppressor."""

    name: str
    rule: str
    actions: list[str]
    suppressor: str | None = None
    wait_minutes: int = 0
    extension_minutes: int = 0
    state: str = INSUFFICIENT
    _pending_until: int | None = None
    """Entered ALARM while its suppressor was not: notify at this minute unless the suppressor fires first."""
    _suppressed: bool = False
    """In ALARM with its notification suppressed (the suppressor was or went into ALARM)."""
    _extension_until: int | None = None

    @classmethod
    def from_inputs(cls, inputs: Mapping[str, Any]) -> CompositeAlarm:
        sup = inputs.get("actionsSuppressor") or None
        return cls(name=inputs["alarmName"], rule=inputs["alarmRule"], actions=list(inputs.get("alarmActions") or []),
                   suppressor=sup["alarm"] if sup else None,
                   wait_minutes=int(sup["waitPeriod"]) // 60 if sup else 0,
                   extension_minutes=int(sup["extensionPeriod"]) // 60 if sup else 0)

    def __post_init__(self) -> None:
        self._predicate = parse_rule(self.rule)

    def step(self, states: States, now: int) -> bool:
        """Re-evaluate at minute `now`; True when the composite notifies its ALARM actions now."""
        previous, self.state = self.state, ALARM if self._predicate(states) else OK
        suppressor_alarm = self.suppressor is not None and states.get(self.suppressor) == ALARM
        if self.state != ALARM:
            self._pending_until = self._extension_until = None
            self._suppressed = False
            return False
        if previous != ALARM:  # entering ALARM
            if self.suppressor is None:
                return True
            if suppressor_alarm:
                self._suppressed = True
                return False
            self._pending_until = now + self.wait_minutes
        if self._pending_until is not None:
            if suppressor_alarm:
                self._pending_until, self._suppressed = None, True
                return False
            if now >= self._pending_until:
                self._pending_until = None
                return True
            return False
        if self._suppressed:
            if suppressor_alarm:
                self._extension_until = None
                return False
            if self._extension_until is None:
                self._extension_until = now + self.extension_minutes
            if now >= self._extension_until:
                self._suppressed, self._extension_until = False, None
                return True
        return False


# --- running a plan's alarms -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    minute: int
    alarm: str
    actions: tuple[str, ...]


def run(metric_alarms: Sequence[MetricAlarm], composites: Sequence[CompositeAlarm],
        data: Mapping[MetricKey, Series], minutes: int, fixed: Mapping[str, str] | None = None,
        first: int = 1) -> tuple[list[Notification], dict[str, list[str]]]:
    """Evaluate every alarm at the end of each minute `first`..`minutes` (the minutes before are history the
    windows read). Composites are re-evaluated in an order where members come first. `fixed` gives alarms
    outside the simulation a constant state. Returns the ALARM notifications (metric alarms with actions and
    composites) and each alarm's state per evaluated minute.

    A metric alarm's states do not depend on any other alarm's, so each is computed for the whole run first
    (`MetricAlarm.states`); the composites then step minute by minute over them."""
    aggregators = {key: Aggregator(series) for key, series in data.items()}
    nows = range(max(first, 1), minutes + 1)
    before = {alarm.name: alarm.state for alarm in metric_alarms}
    history: dict[str, list[str]] = {c.name: [] for c in composites}
    history.update({alarm.name: alarm.states(aggregators, nows) for alarm in metric_alarms})
    names = [alarm.name for alarm in metric_alarms]
    rows = zip(*[history[name] for name in names], strict=True) if names else ((),) * len(nows)
    notifying = [(alarm, history[alarm.name]) for alarm in metric_alarms if alarm.actions]
    order = _members_first(composites)
    notifications: list[Notification] = []
    for index, (now, row) in enumerate(zip(nows, rows, strict=True)):
        states: dict[str, str] = {**(fixed or {}), **dict(zip(names, row, strict=True))}
        for alarm, column in notifying:
            previous = column[index - 1] if index else before[alarm.name]
            if previous != ALARM and column[index] == ALARM:
                notifications.append(Notification(now, alarm.name, tuple(alarm.actions)))
        for composite in order:  # a composite's members and suppressor are re-evaluated before it
            if composite.step(states, now):
                notifications.append(Notification(now, composite.name, tuple(composite.actions)))
            states[composite.name] = composite.state
            history[composite.name].append(composite.state)
    return notifications, history


def _members_first(composites: Sequence[CompositeAlarm]) -> list[CompositeAlarm]:
    """Composites ordered so that a composite comes after the composites its rule or suppressor names."""
    by_name = {c.name: c for c in composites}
    done: list[CompositeAlarm] = []

    def visit(c: CompositeAlarm, path: tuple[str, ...]) -> None:
        if c in done:
            return
        if c.name in path:
            raise ValueError(f"composite cycle through {c.name}")
        for other in by_name.values():
            if other is not c and (f'"{other.name}"' in c.rule or other.name == c.suppressor):
                visit(other, (*path, c.name))
        done.append(c)

    for composite in composites:
        visit(composite, ())
    return done
