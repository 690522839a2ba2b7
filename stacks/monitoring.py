"""Monitoring settings: alert routing, alarm thresholds, tracing."""

from __future__ import annotations

from typing import Any

from stacks.base import Section


class MonitoringSettings(Section):
    """Alarms, dashboards and tracing (`floyo-infra:monitoring`)."""


TIER_DEFAULTS: dict[str, dict[str, Any]] = {"dev": {}, "prod": {}}
