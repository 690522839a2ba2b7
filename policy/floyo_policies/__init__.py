"""Floyo's policies, by family. `POLICIES` is what the pack serves and what `python -m ops check` runs."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from pulumi_policy import Policy, ReportViolation, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.policy import _NotApplicableError

from . import (
    baseline,
    budget,
    cache,
    document_sizes,
    network,
    ordering,
    origin_lock,
    permissions,
    quotas,
    replacement,
    tenancy,
)
from ._core import (
    ADVISORY,
    MEDIUM,
    AcceptedException,
    FloyoResourcePolicy,
    FloyoStackPolicy,
    PackConfig,
    PackConfigError,
    config_override,
    pack_config,
    parse_config,
    stack_of,
)

FAMILIES: dict[str, Sequence[FloyoResourcePolicy | FloyoStackPolicy]] = {
    "quotas and hard limits": [*quotas.POLICIES, *document_sizes.POLICIES],
    "permissions match use": permissions.POLICIES,
    "network paths": network.POLICIES,
    "ordering AWS needs": ordering.POLICIES,
    "replacement safety": replacement.POLICIES,
    "security baseline": [*baseline.POLICIES, *cache.POLICIES],
    "budget gate": budget.POLICIES,
    "tenant isolation": tenancy.POLICIES,
    "origin lock": origin_lock.POLICIES,
}


def raw_violations(policy: FloyoResourcePolicy | FloyoStackPolicy, args: StackValidationArgs) -> list[tuple[str, str | None]]:
    """What `policy` reports on the stack with no exception applied: [(message, urn)]."""
    found: list[tuple[str, str | None]] = []
    if isinstance(policy, FloyoStackPolicy):
        with contextlib.suppress(_NotApplicableError):
            policy.check(args, lambda message, urn=None: found.append((message, urn)))
        return found
    for r in args.resources:
        resource_args = ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, r.opts, r.provider,
                                               args.get_config(), args.stack_tags)
        with contextlib.suppress(_NotApplicableError):
            policy.check(resource_args, lambda message, _urn=None, urn=r.urn: found.append((message, urn)))
    return found


def _exceptions_current(args: StackValidationArgs, report: ReportViolation) -> None:
    """An accepted exception that covers no violation any more is stale: say so, so it gets removed."""
    if not args.resources:
        args.not_applicable("empty stack")
    stack = stack_of(args.resources[0].urn)
    by_name = {p.name: p for family in FAMILIES.values() for p in family}
    for exception in pack_config().exceptions:
        if not exception.applies_to(stack):
            continue
        policy = by_name.get(exception.policy)
        if policy is None:
            report(f"exception for unknown policy {exception.policy!r} (resources {', '.join(exception.resources)})", None)
            continue
        hit = {exception.covers(policy.name, urn) for _, urn in raw_violations(policy, args) if urn}
        for pattern in exception.resources:
            if pattern not in hit:
                report(f"stale exception: {policy.name} on {pattern} matches no violation in stack {stack}; "
                       f"remove it from policy/config.yaml (reason was: {exception.reason})", None)


exceptions_current = FloyoStackPolicy(
    "exceptions-are-current",
    "Every accepted exception in policy/config.yaml still covers a violation; a stale one is reported.",
    _exceptions_current, ADVISORY, MEDIUM, ["policy/config.yaml"])

POLICIES: list[Policy] = [*(p for family in FAMILIES.values() for p in family), exceptions_current]

__all__ = ["FAMILIES", "POLICIES", "AcceptedException", "PackConfig", "PackConfigError", "config_override", "pack_config",
           "parse_config", "raw_violations"]
