"""Daily and weekly UTC windows (`03:00-04:00`, `sun:04:30-sun:05:30`) as minutes of the week, and their overlaps.

RDS refuses a backup window that overlaps the maintenance window, and windows under 30 minutes
(CreateDBCluster, PreferredBackupWindow: "Must not conflict with the preferred maintenance window. Must be at
least 30 minutes."; PreferredMaintenanceWindow: "Minimum 30-minute window."). ElastiCache refuses a snapshot
window that overlaps the maintenance window ("The snapshot window and maintenance window must not overlap",
hashicorp/terraform#17247; it applies with snapshots off too) and windows under 60 minutes ("Snapshot window
must be at least 60 minutes", hashicorp/terraform-provider-aws#2153; CreateReplicationGroup,
PreferredMaintenanceWindow: "The minimum maintenance window is a 60 minute period").
"""

from __future__ import annotations

WEEK = 7 * 1440
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

Segment = tuple[int, int]
"""[start, end) in minutes of the week, 0 <= start < end <= WEEK."""


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _wrap(start: int, length: int) -> list[Segment]:
    """A window of `length` minutes starting at `start`, split where it wraps past the end of the week."""
    start %= WEEK
    end = start + length
    return [(start, end)] if end <= WEEK else [(start, WEEK), (0, end - WEEK)]


def daily(window: str) -> tuple[list[Segment], int]:
    """`hh:mm-hh:mm` every day of the week, and its length in minutes (a window may cross midnight)."""
    first, last = window.split("-")
    length = (_minutes(last) - _minutes(first)) % 1440
    return [s for day in range(7) for s in _wrap(day * 1440 + _minutes(first), length)], length


def weekly(window: str) -> tuple[list[Segment], int]:
    """`ddd:hh:mm-ddd:hh:mm` once a week, and its length in minutes (it may cross the end of the week)."""
    first, last = window.split("-")

    def at(text: str) -> int:
        day, hhmm = text[:3], text[4:]
        return _DAYS.index(day) * 1440 + _minutes(hhmm)

    length = (at(last) - at(first)) % WEEK
    return _wrap(at(first), length), length


def overlap(a: list[Segment], b: list[Segment]) -> bool:
    """Whether any segment of `a` shares a minute with one of `b`."""
    return any(s1 < e2 and s2 < e1 for s1, e1 in a for s2, e2 in b)
