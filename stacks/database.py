"""Database settings: Aurora PostgreSQL, RDS Proxy and the database's objects."""

from __future__ import annotations

from typing import Any

from stacks.base import Section


class DatabaseSettings(Section):
    """Aurora PostgreSQL cluster and its pool (`floyo-infra:database`)."""


TIER_DEFAULTS: dict[str, dict[str, Any]] = {"dev": {}, "prod": {}}
