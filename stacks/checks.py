"""Checks that span more than one settings section.

Each check takes validated settings and returns the problems it finds. They run
after the per-field validation, in the same `load_settings` call, so their
problems appear in the same single error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from stacks.errors import Problem

if TYPE_CHECKING:
    from stacks.settings import StackSettings

CrossCheck = Callable[["StackSettings"], list[Problem]]

CROSS_CHECKS: list[CrossCheck] = []
"""Every cross-section check, in the order they run."""
