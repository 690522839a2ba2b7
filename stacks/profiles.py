"""Environment profiles: per-tier defaults, layered under a stack's own config."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stacks import account, backend, cache, cdn, cost, database, db_access, monitoring, network, resilience, tenants
from stacks.base import Tier

SECTION_DEFAULTS: dict[str, Mapping[str, Mapping[str, Any]]] = {
    "network": network.TIER_DEFAULTS,
    "backend": backend.TIER_DEFAULTS,
    "cdn": cdn.TIER_DEFAULTS,
    "database": database.TIER_DEFAULTS,
    "db_access": db_access.TIER_DEFAULTS,
    "cache": cache.TIER_DEFAULTS,
    "monitoring": monitoring.TIER_DEFAULTS,
    "account": account.TIER_DEFAULTS,
    "tenant_defaults": tenants.TIER_DEFAULTS,
    "resilience": resilience.TIER_DEFAULTS,
    "cost": cost.TIER_DEFAULTS,
}
"""Section name -> tier -> that section's defaults for the tier."""


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`, merging nested mappings key by key."""
    merged: dict[str, Any] = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged


def with_profile(tier: Tier, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The stack's raw settings with its tier's defaults filled in underneath."""
    layered: dict[str, Any] = dict(raw)
    for section, by_tier in SECTION_DEFAULTS.items():
        given = raw.get(section, {})
        if isinstance(given, Mapping):
            layered[section] = deep_merge(by_tier.get(tier, {}), given)
    return layered
