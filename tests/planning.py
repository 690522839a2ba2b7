"""Helpers for tests: plan a stack (optionally with config changes) and query the result."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

from ops.plan import Plan, PlannedResource, plan_config
from ops.stackfile import StackConfig, read_stack_config
from stacks import StackSettings, load_settings
from stacks.profiles import deep_merge

PREFIX = "floyo-infra:"


def with_changes(stack: str, changes: Mapping[str, Any] | None = None, drop: tuple[str, ...] = ()) -> StackConfig:
    """The stack's config with `changes` ({"backend": {...}} or {"tier": "prod"}) merged in."""
    base = read_stack_config(stack)
    values = {k: v for k, v in base.values.items() if k.removeprefix(PREFIX) not in drop}
    for key, change in (changes or {}).items():
        full = PREFIX + key
        if isinstance(change, Mapping) and full in values:
            values[full] = json.dumps(deep_merge(json.loads(values[full]), change))
        else:
            values[full] = change if isinstance(change, str) else json.dumps(change)
    return StackConfig(stack, values, list(base.secret_keys))


def settings_for(config: StackConfig) -> StackSettings:
    return load_settings(config.stack, config.values, config.secret_keys)


@cache
def stack_plan(stack: str) -> Plan:
    """The (cached) plan of a committed stack file."""
    return plan_config(read_stack_config(stack))


def plan_with(stack: str, changes: Mapping[str, Any]) -> Plan:
    return plan_config(with_changes(stack, changes))


def one(plan: Plan, token: str, name: str | None = None) -> PlannedResource:
    """The single resource of `token` (and `name`), failing loudly otherwise."""
    found = [r for r in plan.of_type(token) if name is None or r.name == name]
    assert len(found) == 1, f"expected one {token} {name or ''}, found {[r.name for r in found]}"
    return found[0]


def container_definitions(plan: Plan, task: str = "backend-task") -> list[dict[str, Any]]:
    """Containers of the service's task definition (or of `task`, e.g. `backend-migrate`)."""
    return json.loads(one(plan, "aws:ecs/taskDefinition:TaskDefinition", task).inputs["containerDefinitions"])
