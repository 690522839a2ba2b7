"""Cache settings: the ElastiCache replication group."""

from __future__ import annotations

from typing import Any

from stacks.base import Section


class CacheSettings(Section):
    """Redis-compatible cache (`floyo-infra:cache`)."""


TIER_DEFAULTS: dict[str, dict[str, Any]] = {"dev": {}, "prod": {}}
