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
  in its place; division by zero is missing.
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

Simplifications (stated, not hidden): no publication delay; an alarm evaluates exactly at minute boundaries;
notifications on ALARM only (OK notifications are not modelled); percentiles by nearest rank.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from tests.token_cursor import TokenCursor

Sample = tuple[float, float]
"""(value, count)."""
Series = Sequence[Sequence[Sample]]
"""Per minute (index = minute), the samples published that minute."""
Value = float | None

ALARM, OK, INSUFFICIENT = "ALARM", "OK", "INSUFFICIENT_DATA"


# --- statistics --------------------------------------------------------------------------------------------


_PR = re.compile(r"^PR\((?P<lo>[0-9.]*):(?P<hi>[0-9.]*)\)$")
_PCT = re.compile(r"^p(?P<n>\d{1,2}(\.\d+)?)$")


class Aggregator:
    """Statistics of one series over minute ranges, with prefix sums for the additive ones."""

    def __init__(self, series: Series) -> None:
        self.series = series
        n = len(series)
        self._count = [0.0, *accumulate(sum(c for _, c in m) for m in series)]
        self._sum = [0.0, *accumulate(sum(v * c for v, c in m) for m in series)]
        self._ranks: dict[tuple[float, float], list[float]] = {}
        self.minutes = n

    def _range_count(self, lo: float, hi: float) -> list[float]:
        key = (lo, hi)
        if key not in self._ranks:
            self._ranks[key] = [0.0, *accumulate(sum(c for v, c in m if lo < v <= hi) for m in self.series)]
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
            lo = float(match["lo"]) if match["lo"] else -math.inf
            hi = float(match["hi"]) if match["hi"] else math.inf
            ranks = self._range_count(lo, hi)
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


# --- metric math -------------------------------------------------------------------------------------------


_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|"
                    r"(?P<op>>=|<=|==|!=|&&|\|\||[-+*/(),<>\[\]]))")
Env = Mapping[str, Value]
Expr = Callable[[Env], Any]


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"cannot parse {text[pos:]!r}")
        out.append(match.group(match.lastgroup or "op"))
        pos = match.end()
    return out


def _arith(op: str, a: Value, b: Value) -> Value:
    if a is None or b is None:
        return None
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return None if b == 0 else a / b
    result = {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b, "==": a == b, "!=": a != b,
              "&&": bool(a) and bool(b), "||": bool(a) or bool(b)}[op]
    return 1.0 if result else 0.0


def _binary(op: str, left: Expr, right: Expr) -> Expr:
    return lambda env: _arith(op, left(env), right(env))


class _Parser(TokenCursor):
    """Recursive descent: or > and > comparison > additive > multiplicative > unary > primary."""

    LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), (">", ">=", "<", "<=", "==", "!="), ("+", "-"),
                                           ("*", "/"))

    def __init__(self, text: str) -> None:
        super().__init__(_tokens(text))

    def parse(self) -> Expr:
        expr = self.level(0)
        if self.peek() is not None:
            raise ValueError(f"trailing {self.peek()!r}")
        return expr

    def level(self, index: int) -> Expr:
        if index == len(self.LEVELS):
            return self.unary()
        left = self.level(index + 1)
        while self.peek() in self.LEVELS[index]:
            op = self.take()
            right = self.level(index + 1)
            left = _binary(op, left, right)
        return left

    def unary(self) -> Expr:
        if self.peek() == "-":
            self.take()
            inner = self.unary()
            return lambda env: None if (v := inner(env)) is None else -v
        return self.primary()

    def primary(self) -> Expr:
        token = self.take()
        if token == "(":
            inner = self.level(0)
            self.take(")")
            return inner
        if token == "[":
            items = [self.level(0)]
            while self.peek() == ",":
                self.take()
                items.append(self.level(0))
            self.take("]")
            return lambda env: [i(env) for i in items]
        if re.fullmatch(r"\d.*", token):
            number = float(token)
            return lambda env: number
        if self.peek() == "(":
            self.take("(")
            args = [self.level(0)]
            while self.peek() == ",":
                self.take()
                args.append(self.level(0))
            self.take(")")
            return _function(token.upper(), args)
        return lambda env: env[token]


def _function(name: str, args: list[Expr]) -> Expr:
    if name == "IF":
        cond, yes, no = [*args, lambda env: None][:3]

        def if_(env: Env) -> Value:
            c = cond(env)
            if c is None:
                return None
            return yes(env) if c else no(env)
        return if_
    if name == "FILL":
        series, value = args
        return lambda env: value(env) if (v := series(env)) is None else v
    if name in ("MAX", "MIN", "SUM", "AVG"):
        (items,) = args

        def reduce_(env: Env) -> Value:
            values = [v for v in items(env) if v is not None]
            if not values:
                return None
            return {"MAX": max, "MIN": min, "SUM": sum, "AVG": lambda xs: sum(xs) / len(xs)}[name](values)
        return reduce_
    raise ValueError(f"metric math function {name} not modelled")


def parse_expression(text: str) -> Expr:
    return _Parser(text).parse()


# --- metric alarms -----------------------------------------------------------------------------------------


MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]
"""(namespace, metric name, sorted dimensions)."""


def metric_key(namespace: str, name: str, dimensions: Mapping[str, str]) -> MetricKey:
    return namespace, name, tuple(sorted(dimensions.items()))


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
        self._expressions = {q["id"]: parse_expression(q["expression"]) for q in self.queries if q.get("expression")}
        self._keys = {q["id"]: metric_key(q["metric"]["namespace"], q["metric"]["metricName"],
                                          q["metric"].get("dimensions") or {}) for q in self.queries if "metric" in q}
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
        for q in self.queries:
            if "metric" in q:
                m = q["metric"]
                series = data.get(self._keys[q["id"]])
                env[q["id"]] = series.stat(m["stat"], start, end) if series else None
        for q in self.queries:  # expressions in declaration order (later ones may use earlier ones)
            if q["id"] in self._expressions:
                env[q["id"]] = self._expressions[q["id"]](env)
        return env[self._result]

    def breaches(self, value: float) -> bool:
        t = self.threshold
        return {"GreaterThanThreshold": value > t, "GreaterThanOrEqualToThreshold": value >= t,
                "LessThanThreshold": value < t, "LessThanOrEqualToThreshold": value <= t}[self.comparison]

    def evaluate(self, data: Mapping[MetricKey, Aggregator], now: int,
                 seen: dict[tuple[int, int], Value] | None = None) -> str:
        """The state at the end of minute `now - 1` (periods end at `now`), updating `self.state`. `seen` keeps
        the datapoints of periods already computed on the same `data` (an alarm of N one-minute periods reads
        N-1 of the last minute's again); the caller owns it and drops it when `data` changes."""
        seen = {} if seen is None else seen
        points: list[Value] = []
        for k in range(self.evaluation_periods):
            period = (now - (k + 1) * self.period, now - k * self.period)
            if period not in seen:
                seen[period] = self.datapoint(data, *period)
            points.append(seen[period])
        breaching = sum(1 for p in points if p is not None and self.breaches(p))
        missing = sum(1 for p in points if p is None)
        rule = self.treat_missing_data
        if rule == "breaching":
            breaching += missing
        elif missing == len(points) and rule in ("ignore", "missing"):
            self.state = self.state if rule == "ignore" else INSUFFICIENT
            return self.state
        self.state = ALARM if breaching >= self.datapoints_to_alarm else OK
        return self.state


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
    composites) and each alarm's state per evaluated minute."""
    aggregators = {key: Aggregator(series) for key, series in data.items()}
    names = {c.name for c in composites}
    order = _members_first(composites)
    history: dict[str, list[str]] = {a.name: [] for a in [*metric_alarms, *composites]}
    notifications: list[Notification] = []
    seen: list[dict[tuple[int, int], Value]] = [{} for _ in metric_alarms]  # each alarm's datapoints on `aggregators`
    for now in range(max(first, 1), minutes + 1):
        states: dict[str, str] = dict(fixed or {})
        for alarm, points in zip(metric_alarms, seen, strict=True):
            before = alarm.state
            states[alarm.name] = alarm.evaluate(aggregators, now, points)
            if alarm.actions and before != ALARM and alarm.state == ALARM:
                notifications.append(Notification(now, alarm.name, tuple(alarm.actions)))
        for composite in order:
            states.update({c.name: c.state for c in composites if c.name in names and c.name not in states})
            if composite.step(states, now):
                notifications.append(Notification(now, composite.name, tuple(composite.actions)))
            states[composite.name] = composite.state
        for name, state in states.items():
            if name in history:
                history[name].append(state)
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
