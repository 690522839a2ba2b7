"""CloudWatch metric math ("Metric math syntax and functions", CloudWatch User Guide), for the tests' offline
alarm evaluator (tests/cloudwatch_eval.py) and the target-group checks (tests/test_target_groups.py).

Numbers, ids, `+ - * /`, comparisons (`> >= < <= == !=`, giving 1 or 0), `&&`/`||`, unary minus,
`IF(c, a, b)` (no `b`: missing), `FILL(x, v)`, `MAX/MIN/SUM/AVG([...])`. Arithmetic with a missing value is
missing (a time series has no point at that timestamp); `FILL` puts `v` in its place; division by zero is
missing.

An expression is parsed once into a tree, which is then compiled in one of two ways, both from the same
operator table and reducers:

* `parse_expression(text)`: a function of one point, `{id: value}` -> value. The plain reading of the
  semantics above, and the reference the column form is pinned against (tests/test_cloudwatch_eval.py).
* `parse_columns(text)`: a function of whole series, `({id: [value per timestamp]}, length)` -> a list of
  values, one per timestamp. One list comprehension per node instead of one closure call per node per point:
  what lets tests/test_slo.py evaluate its alarms over days of minutes cheaply.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tests.token_cursor import TokenCursor

Value = float | None
Env = Mapping[str, Value]
Expr = Callable[[Env], Any]
Columns = Mapping[str, Sequence[Value]]
ColumnExpr = Callable[[Columns, int], Any]
Node = tuple[Any, ...]
"""("num", value) | ("id", name) | ("neg", node) | ("op", op, left, right) | ("list", [node, ...]) |
("call", NAME, [node, ...])."""

_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<id>[A-Za-z_][A-Za-z0-9_]*)|"
                    r"(?P<op>>=|<=|==|!=|&&|\|\||[-+*/(),<>\[\]]))")

_OPS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    ">": lambda a, b: 1.0 if a > b else 0.0, ">=": lambda a, b: 1.0 if a >= b else 0.0,
    "<": lambda a, b: 1.0 if a < b else 0.0, "<=": lambda a, b: 1.0 if a <= b else 0.0,
    "==": lambda a, b: 1.0 if a == b else 0.0, "!=": lambda a, b: 1.0 if a != b else 0.0,
    "&&": lambda a, b: 1.0 if a and b else 0.0, "||": lambda a, b: 1.0 if a or b else 0.0,
}
"""Each binary operator on two present values (division by zero is handled by `_arith`)."""

_REDUCERS: dict[str, Callable[[list[float]], float]] = {
    "MAX": max, "MIN": min, "SUM": sum, "AVG": lambda xs: sum(xs) / len(xs)}
_ARITY = {"IF": (2, 3), "FILL": (2, 2), **{name: (1, 1) for name in _REDUCERS}}


def _arith(op: str, a: Value, b: Value) -> Value:
    if a is None or b is None or (op == "/" and b == 0):
        return None
    return _OPS[op](a, b)


def _reduce(name: str, values: Sequence[Value]) -> Value:
    present = [v for v in values if v is not None]
    return _REDUCERS[name](present) if present else None


# --- parsing -------------------------------------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if not match:
            raise ValueError(f"cannot parse {text[pos:]!r}")
        out.append(match.group(match.lastgroup or "op"))
        pos = match.end()
    return out


class _Parser(TokenCursor):
    """Recursive descent: or > and > comparison > additive > multiplicative > unary > primary."""

    LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), (">", ">=", "<", "<=", "==", "!="), ("+", "-"),
                                           ("*", "/"))

    def __init__(self, text: str) -> None:
        super().__init__(_tokens(text))

    def parse(self) -> Node:
        node = self.level(0)
        if self.peek() is not None:
            raise ValueError(f"trailing {self.peek()!r}")
        return node

    def level(self, index: int) -> Node:
        if index == len(self.LEVELS):
            return self.unary()
        left = self.level(index + 1)
        while self.peek() in self.LEVELS[index]:
            op = self.take()
            left = ("op", op, left, self.level(index + 1))
        return left

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return ("neg", self.unary())
        return self.primary()

    def items(self, close: str) -> list[Node]:
        found = [self.level(0)]
        while self.peek() == ",":
            self.take()
            found.append(self.level(0))
        self.take(close)
        return found

    def primary(self) -> Node:
        token = self.take()
        if token == "(":
            inner = self.level(0)
            self.take(")")
            return inner
        if token == "[":
            return ("list", self.items("]"))
        if re.fullmatch(r"\d.*", token):
            return ("num", float(token))
        if self.peek() == "(":
            self.take("(")
            name, args = token.upper(), self.items(")")
            if name not in _ARITY:
                raise ValueError(f"metric math function {name} not modelled")
            low, high = _ARITY[name]
            if not low <= len(args) <= high:
                raise ValueError(f"{name} takes {low} to {high} arguments, not {len(args)}")
            return ("call", name, args)
        return ("id", token)


def parse(text: str) -> Node:
    """The expression's tree (see `Node`); ValueError naming what cannot be parsed."""
    return _Parser(text).parse()


# --- one point (the reference) -------------------------------------------------------------------------------


def _point(node: Node) -> Expr:
    kind = node[0]
    if kind == "num":
        number = node[1]
        return lambda env: number
    if kind == "id":
        name = node[1]
        return lambda env: env[name]
    if kind == "neg":
        inner = _point(node[1])
        return lambda env: None if (v := inner(env)) is None else -v
    if kind == "op":
        op, left, right = node[1], _point(node[2]), _point(node[3])
        return lambda env: _arith(op, left(env), right(env))
    if kind == "list":
        items = [_point(item) for item in node[1]]
        return lambda env: [i(env) for i in items]
    name, args = node[1], [_point(arg) for arg in node[2]]
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
    (values,) = args
    return lambda env: _reduce(name, values(env))


def parse_expression(text: str) -> Expr:
    """`text` as a function of one point: `{id: value or None}` -> value or None."""
    return _point(parse(text))


# --- whole series --------------------------------------------------------------------------------------------


def _columns(node: Node) -> ColumnExpr:
    kind = node[0]
    if kind == "num":
        number = node[1]
        return lambda env, n: [number] * n
    if kind == "id":
        name = node[1]
        return lambda env, n: env[name]
    if kind == "neg":
        inner = _columns(node[1])
        return lambda env, n: [None if v is None else -v for v in inner(env, n)]
    if kind == "op":
        op, left, right = node[1], _columns(node[2]), _columns(node[3])
        if op == "/":
            return lambda env, n: [_arith(op, a, b) for a, b in zip(left(env, n), right(env, n), strict=True)]
        fn = _OPS[op]
        return lambda env, n: [None if a is None or b is None else fn(a, b)
                               for a, b in zip(left(env, n), right(env, n), strict=True)]
    if kind == "list":
        items = [_columns(item) for item in node[1]]
        return lambda env, n: [i(env, n) for i in items]
    name, args = node[1], [_columns(arg) for arg in node[2]]
    if name == "IF":
        cond, yes, no = [*args, lambda env, n: [None] * n][:3]
        return lambda env, n: [None if c is None else y if c else z
                               for c, y, z in zip(cond(env, n), yes(env, n), no(env, n), strict=True)]
    if name == "FILL":
        series, value = args
        return lambda env, n: [v if x is None else x for x, v in zip(series(env, n), value(env, n), strict=True)]
    (values,) = args
    return lambda env, n: [_reduce(name, row) for row in zip(*values(env, n), strict=True)]


def parse_columns(text: str) -> Callable[[Columns, int], list[Value]]:
    """`text` as a function of whole series: `({id: [value or None per timestamp]}, length)` -> one value
    per timestamp, each what `parse_expression(text)` gives for that timestamp's values. The result is a new
    list; the input columns are only read."""
    compiled = _columns(parse(text))

    def evaluate(env: Columns, n: int) -> list[Value]:
        return list(compiled(env, n))  # a bare id returns its input column: never hand that out to mutate
    return evaluate
