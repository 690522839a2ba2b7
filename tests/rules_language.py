"""A small evaluator for the part of Cloudflare's Rules language the edge rulesets use.

Enough to run the generated expressions against sample requests in tests: `and`, `or`,
`not`, parentheses, `eq`/`==`, `ne`/`!=`, `in {...}`, `contains`, `starts_with()`,
`any(field[*] ...)`, `true`/`false`, and the request fields below. Anything else raises,
so an expression outside this subset fails the test instead of being guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.token_cursor import TokenCursor

_TOKEN = re.compile(r'\s*(?:(?P<str>"[^"]*")|(?P<num>\d+)|(?P<op>==|!=|\[\*\]|[(){},\[\]])|(?P<word>[A-Za-z_][A-Za-z0-9_.]*))')


@dataclass
class Request:
    """One HTTP request as the ruleset engine sees it."""

    host: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        last = self.path.rsplit("/", 1)[-1]
        headers = {k.lower(): [v] for k, v in self.headers.items()}
        return {
            "http.host": self.host,
            "http.request.uri.path": self.path,
            "http.request.uri.path.extension": last.rsplit(".", 1)[-1].lower() if "." in last else "",
            "http.cookie": self.headers.get("Cookie", ""),
            "http.request.headers.names": list(headers),
            "http.request.headers": headers,
        }


class _Starred(list[Any]):
    """An array expanded with [*]: comparisons on it apply to each element."""


def _tokens(expression: str) -> list[str]:
    out: list[str] = []
    pos = 0
    expression = expression.rstrip()
    while pos < len(expression):
        match = _TOKEN.match(expression, pos)
        if not match or match.end() == pos:
            raise ValueError(f"cannot tokenize {expression[pos:]!r}")
        out.append(match.group(match.lastgroup or ""))
        pos = match.end()
    return out


class _Parser(TokenCursor):
    def __init__(self, expression: str, request: Request) -> None:
        super().__init__(_tokens(expression))
        self.fields = request.fields()

    def run(self) -> bool:
        result = self.or_expr()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()!r}")
        return result

    def or_expr(self) -> bool:
        result = self.and_expr()
        while self.peek() == "or":
            self.take()
            right = self.and_expr()
            result = result or right
        return result

    def and_expr(self) -> bool:
        result = self.unary()
        while self.peek() == "and":
            self.take()
            right = self.unary()
            result = result and right
        return result

    def unary(self) -> bool:
        token = self.peek()
        if token == "not":
            self.take()
            return not self.unary()
        if token == "(":
            self.take("(")
            result = self.or_expr()
            self.take(")")
            return result
        if token == "any":
            self.take()
            self.take("(")
            results = self.comparison()
            self.take(")")
            if not isinstance(results, list):
                raise ValueError("any() needs a [*] comparison")
            return any(results)
        result = self.comparison()
        if isinstance(result, list):
            raise ValueError("a [*] comparison must be inside any()")
        return result

    def comparison(self) -> bool | list[bool]:
        left = self.value()
        op = self.peek()
        if op not in ("eq", "==", "ne", "!=", "in", "contains"):
            if isinstance(left, bool):
                return left
            raise ValueError(f"expected a comparison after {left!r}, got {op!r}")
        self.take()
        right = self.value()

        def compare(item: Any) -> bool:
            if op in ("eq", "=="):
                return item == right
            if op in ("ne", "!="):
                return item != right
            if op == "in":
                if not isinstance(right, set):
                    raise ValueError("in needs a {...} set")
                return item in right
            return isinstance(item, str) and right in item

        if isinstance(left, _Starred):
            return [compare(item) for item in left]
        return compare(left)

    def value(self) -> Any:
        token = self.take()
        if token.startswith('"'):
            return token[1:-1]
        if token.isdigit():
            return int(token)
        if token in ("true", "false"):
            return token == "true"
        if token == "{":
            items: set[Any] = set()
            while self.peek() != "}":
                items.add(self.value())
            self.take("}")
            return items
        if token == "starts_with":
            self.take("(")
            subject = self.value()
            self.take(",")
            prefix = self.value()
            self.take(")")
            return isinstance(subject, str) and subject.startswith(prefix)
        if token not in self.fields:
            raise ValueError(f"unknown field or function {token!r}")
        result = self.fields[token]
        if self.peek() == "[":
            self.take("[")
            key = self.value()
            self.take("]")
            result = result.get(key, [])
        if self.peek() == "[*]":
            self.take()
            result = _Starred(result)
        return result


def evaluate(expression: str, request: Request) -> bool:
    """Whether `expression` matches `request`."""
    return _Parser(expression, request).run()


def cache_decision(rules: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    """The cache settings a request ends up with: every matching cache rule applies, in order,
    and a later rule's parameters override an earlier one's. Empty: Cloudflare's defaults."""
    decided: dict[str, Any] = {}
    for rule in rules:
        if rule.get("enabled", True) and evaluate(rule["expression"], request):
            decided.update(rule.get("actionParameters", {}))
    return decided
