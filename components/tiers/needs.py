"""`BackendNeeds`: what a tier hands the backend service (env, secret references, IAM, sidecars)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

Statement = pulumi.Input[dict[str, Any]]


@dataclass(frozen=True)
class BackendNeeds:
    """What one tier gives the backend's task definitions; `merge` joins the tiers' needs.

    Every field defaults to empty. Names must be set by one tier only: `merge` refuses a name given twice
    (a later tier would otherwise silently override an earlier one)."""

    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain env of the service's app container (no credentials in it)."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret references (`<arn>:<key>::`) of the app container."""
    task_statements: Sequence[Statement] = ()
    """IAM statements of the service's task role."""
    sidecars: Sequence[pulumi.Input[dict[str, Any]]] = ()
    """Container definitions started beside the app container."""
    migrate_statements: Sequence[Statement] = ()
    """IAM statements of the one-off `migrate` task's role."""
    migrate_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """What the migrate task's env changes (its database user)."""
    migrate_secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret references of the migrate task."""
    rollback_secrets: Sequence[pulumi.Input[str]] = ()
    """Secret references only the previous task definition (the ECS rollback target) still uses."""

    def names(self) -> list[str]:
        """Every env and secret name of the app container: what `stacks.program_env.claim` checks."""
        return [*self.environment, *self.secrets]

    @staticmethod
    def merge(*needs: BackendNeeds) -> BackendNeeds:
        """All tiers' needs, in the order given. Raises on a name that two tiers set (a programming error)."""
        return BackendNeeds(
            environment=_joined("environment", [n.environment for n in needs]),
            secrets=_joined("secrets", [n.secrets for n in needs]),
            task_statements=tuple(s for n in needs for s in n.task_statements),
            sidecars=tuple(s for n in needs for s in n.sidecars),
            migrate_statements=tuple(s for n in needs for s in n.migrate_statements),
            migrate_environment=_joined("migrate_environment", [n.migrate_environment for n in needs]),
            migrate_secrets=_joined("migrate_secrets", [n.migrate_secrets for n in needs]),
            rollback_secrets=tuple(s for n in needs for s in n.rollback_secrets),
        )


def _joined(what: str, parts: Sequence[Mapping[str, pulumi.Input[str]]]) -> dict[str, pulumi.Input[str]]:
    joined: dict[str, pulumi.Input[str]] = {}
    for part in parts:
        twice = sorted(set(joined) & set(part))
        if twice:
            raise RuntimeError(f"two tiers set the backend's {what} {twice}; each name belongs to one tier")
        joined.update(part)
    return joined
