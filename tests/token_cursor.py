"""A cursor over a token list, for the tests' small recursive-descent parsers (CloudWatch metric math,
Cloudflare's rules language)."""

from __future__ import annotations


class TokenCursor:
    """`peek` at the next token, `take` it (optionally insisting on what it is)."""

    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ValueError(f"expected {expected!r}, got {token!r}")
        self.pos += 1
        return token
