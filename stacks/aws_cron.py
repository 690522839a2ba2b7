"""AWS's cron syntax (`cron(Minutes Hours Day-of-month Month Day-of-week Year)`), checked offline.

The rules are EventBridge's, which AWS Backup's schedules share
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions):
six fields; wildcards `, - * /` everywhere, `?` only in day-of-month or day-of-week and exactly one of the
two must be `?`; `L` and `W` in day-of-month, `L` and `#` in day-of-week; months JAN-DEC, weekdays SUN-SAT
(or 1-7); years 1970-2199.
"""

from __future__ import annotations

import re

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minutes", 0, 59, ()),
    ("hours", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 1, 7, _DAYS),
    ("year", 1970, 2199, ()),
)
_CRON = re.compile(r"^cron\((?P<body>[^()]*)\)$")


def _number(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    if text.upper() in names:
        return True
    return text.isdigit() and low <= int(text) <= high


def _field_problem(value: str, index: int) -> str | None:
    name, low, high, names = _FIELDS[index]
    if value == "?":
        if name in ("day-of-month", "day-of-week"):
            return None
        return f"`?` is allowed only in day-of-month or day-of-week, not {name}"
    for part in value.split(","):
        if name == "day-of-month" and re.fullmatch(r"L|LW|([1-9]|[12]\d|3[01])W", part):
            continue
        if name == "day-of-week" and (re.fullmatch(r"[1-7]L|[1-7]#[1-5]", part)
                                      or re.fullmatch(rf"({'|'.join(_DAYS)})(L|#[1-5])", part.upper())
                                      or part == "L"):
            continue
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) >= 1):
            return f"{name}: step {step!r} must be a positive number"
        if base == "*":
            continue
        first, _, last = base.partition("-")
        if not _number(first, low, high, names) or (last and not _number(last, low, high, names)):
            allowed = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
            return f"{name}: {part!r} is not {allowed}, `*`, a range, a list or a step"
    return None


def cron_problem(expression: str) -> str | None:
    """Why AWS would refuse `expression` as a cron schedule, or None when it is valid."""
    match = _CRON.match(expression.strip())
    if not match:
        return "must be cron(Minutes Hours Day-of-month Month Day-of-week Year), e.g. cron(0 5 ? * SAT *)"
    fields = match["body"].split()
    if len(fields) != 6:
        return f"has {len(fields)} fields; AWS cron has 6: Minutes Hours Day-of-month Month Day-of-week Year"
    for index, value in enumerate(fields):
        problem = _field_problem(value, index)
        if problem:
            return problem
    if (fields[2] == "?") == (fields[4] == "?"):
        return "exactly one of day-of-month and day-of-week must be `?` (AWS cannot use both, nor neither)"
    return None
