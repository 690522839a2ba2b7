"""What every policy shares: the policy classes, the pack's config (exceptions), and small readers.

Each policy is a `pulumi_policy` ResourceValidationPolicy or StackValidationPolicy whose `validate` is
wrapped so that a violation on a resource that an accepted exception covers is not reported (the
exception is checked for staleness by the `exceptions-are-current` policy instead; nothing is skipped
silently).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

CONFIG_FILE = Path(__file__).resolve().parent.parent / "config.yaml"
"""The pack's config: production stacks, Cloudflare plan per stack, accepted exceptions."""

MANDATORY = EnforcementLevel.MANDATORY
ADVISORY = EnforcementLevel.ADVISORY
LOW, MEDIUM, HIGH, CRITICAL = Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL


# --- config ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AcceptedException:
    """A violation the team accepted: which policy, on which resources (`type::name` globs), and why."""

    policy: str
    resources: tuple[str, ...]
    reason: str
    stacks: tuple[str, ...] = ()
    """Stacks it applies to; empty = every stack."""

    def applies_to(self, stack: str) -> bool:
        return not self.stacks or stack in self.stacks

    def covers(self, policy: str, urn: str) -> str | None:
        """The pattern that matches `urn` for `policy`, or None."""
        if policy != self.policy or not self.applies_to(stack_of(urn)):
            return None
        key = f"{type_of(urn)}::{name_of(urn)}"
        return next((p for p in self.resources if fnmatch.fnmatchcase(key, p)), None)


@dataclass(frozen=True)
class PackConfig:
    """Everything the pack reads from `policy/config.yaml`."""

    production_stacks: tuple[str, ...] = ("prod",)
    cloudflare_plan: Mapping[str, str] = field(default_factory=dict)
    exceptions: tuple[AcceptedException, ...] = ()

    def is_production(self, stack: str) -> bool:
        return stack in self.production_stacks

    def excepted(self, policy: str, urn: str) -> AcceptedException | None:
        return next((e for e in self.exceptions if e.covers(policy, urn)), None)


class PackConfigError(ValueError):
    """`policy/config.yaml` is malformed."""


def parse_config(raw: Any, source: str = str(CONFIG_FILE)) -> PackConfig:
    """Validate the YAML document; every exception needs a policy, resources and a reason."""
    if not isinstance(raw, Mapping):
        raise PackConfigError(f"{source}: expected a mapping at the top level")
    unknown = set(raw) - {"production_stacks", "cloudflare_plan", "exceptions"}
    if unknown:
        raise PackConfigError(f"{source}: unknown keys {sorted(unknown)}")
    found: list[AcceptedException] = []
    for i, entry in enumerate(raw.get("exceptions") or []):
        where = f"{source}: exceptions[{i}]"
        if not isinstance(entry, Mapping) or set(entry) - {"policy", "resources", "reason", "stacks"}:
            raise PackConfigError(f"{where}: expected keys policy, resources, reason (and optional stacks)")
        reason = str(entry.get("reason") or "").strip()
        resources = entry.get("resources") or []
        if not entry.get("policy") or not reason or not isinstance(resources, list) or not resources:
            raise PackConfigError(f"{where}: policy, a non-empty resources list and a reason are required")
        found.append(AcceptedException(str(entry["policy"]), tuple(str(r) for r in resources), reason,
                                       tuple(str(s) for s in entry.get("stacks") or ())))
    return PackConfig(tuple(raw.get("production_stacks") or ("prod",)),
                      dict(raw.get("cloudflare_plan") or {}), tuple(found))


@cache
def _config_file() -> PackConfig:
    return parse_config(yaml.safe_load(CONFIG_FILE.read_text()))


_overrides: list[PackConfig] = []


def pack_config() -> PackConfig:
    """The pack's config: `policy/config.yaml`, unless a test runs under `config_override`."""
    return _overrides[-1] if _overrides else _config_file()


@contextmanager
def config_override(config: PackConfig) -> Iterator[None]:
    """Run policies with `config` instead of the file (tests: exceptions, production stacks)."""
    _overrides.append(config)
    try:
        yield
    finally:
        _overrides.pop()


# --- URNs -------------------------------------------------------------------------------------------
def stack_of(urn: str) -> str:
    """`urn:pulumi:dev::floyo-infra::a$b::name` -> `dev`."""
    return urn.split("::")[0].removeprefix("urn:pulumi:")


def type_of(urn: str) -> str:
    return urn.split("::")[2].split("$")[-1] if urn.count("::") >= 3 else ""


def name_of(urn: str) -> str:
    return urn.split("::", 3)[-1]


# --- policy classes ---------------------------------------------------------------------------------
ResourceCheck = Callable[[ResourceValidationArgs, ReportViolation], None]
StackCheck = Callable[[StackValidationArgs, ReportViolation], None]


def _filtered(name: str, report: ReportViolation, default_urn: str | None = None) -> ReportViolation:
    def report_unless_excepted(message: str, urn: str | None = None) -> None:
        target = urn or default_urn
        if target and pack_config().excepted(name, target):
            return
        report(message, urn)
    return report_unless_excepted


class FloyoResourcePolicy(ResourceValidationPolicy):
    """A per-resource policy. `check` is the raw rule; `validate` applies the accepted exceptions."""

    def __init__(self, name: str, description: str, check: ResourceCheck, enforcement_level: EnforcementLevel,
                 severity: Severity, controls: Iterable[str] = ()) -> None:
        self.check = check
        super().__init__(name, description, lambda args, report: check(args, _filtered(name, report, args.urn)),
                         enforcement_level=enforcement_level, severity=severity, tags=list(controls))


class FloyoStackPolicy(StackValidationPolicy):
    """A policy over the whole stack. `check` is the raw rule; `validate` applies the accepted exceptions."""

    def __init__(self, name: str, description: str, check: StackCheck, enforcement_level: EnforcementLevel,
                 severity: Severity, controls: Iterable[str] = ()) -> None:
        self.check = check
        super().__init__(name, description, lambda args, report: check(args, _filtered(name, report)),
                         enforcement_level=enforcement_level, severity=severity, tags=list(controls))


# --- reading resources --------------------------------------------------------------------------------
def of_type(resources: Iterable[PolicyResource], *tokens: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in tokens]


def by_urn(resources: Iterable[PolicyResource]) -> dict[str, PolicyResource]:
    return {r.urn: r for r in resources}


def referenced(resource: PolicyResource, key: str, candidates: Iterable[PolicyResource]) -> list[PolicyResource]:
    """The candidates `resource.props[key]` points at: by property dependency (what a real preview knows
    even when IDs are unknown), else by matching the value against each candidate's `id`/`arn`/`name`."""
    pool = list(candidates)
    urns = {r.urn for r in resource.property_dependencies.get(key, [])} if resource.property_dependencies else set()
    hits = [c for c in pool if c.urn in urns]
    if hits:
        return hits
    values = set(strings(known(resource.props, key)))
    return [c for c in pool if values & {str(v) for k in ("id", "arn", "name") if (v := known(c.props, k))}]


def has(props: Mapping[str, Any], key: str) -> bool:
    """`key` is set, known or not (`in` on the SDK's proxy would read the value and raise if unknown)."""
    return key in list(props)


def known(props: Mapping[str, Any], key: str) -> Any:
    """`props[key]`, or None when absent or unknown during a preview (an ID not yet assigned)."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def strings(value: Any) -> list[str]:
    """A string or a list of strings as a list (anything else: empty)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Sequence):
        return [v for v in value if isinstance(v, str)]
    return []


def parse_json(value: Any) -> Any:
    """A JSON document given as a string (IAM policies, container definitions), or the value itself."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def label(resource: PolicyResource | ResourceValidationArgs) -> str:
    """How a message names a resource: its logical name and type."""
    return f"{resource.name} ({resource.resource_type})"


# --- IAM ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Statement:
    """One Allow statement of an IAM policy document."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Mapping[str, Any]
    source: str

    def allows(self, action: str, resource: str) -> bool:
        return (any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in self.actions)
                and any(fnmatch.fnmatchcase(resource, r) for r in self.resources))


def allow_statements(document: Any, source: str) -> Iterator[Statement]:
    doc = parse_json(document)
    if not isinstance(doc, Mapping):
        return
    raw = doc.get("Statement", [])
    for st in raw if isinstance(raw, list) else [raw]:
        if isinstance(st, Mapping) and st.get("Effect") == "Allow" and "NotAction" not in st:
            yield Statement(tuple(strings(st.get("Action"))), tuple(strings(st.get("Resource"))),
                            st.get("Condition") or {}, source)


MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    # AWS managed policies a role may attach, as AWS publishes them (IAM console, "Policy versions").
    "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy": [{
        "Effect": "Allow", "Resource": "*",
        "Action": ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer",
                   "ecr:BatchGetImage", "logs:CreateLogStream", "logs:PutLogEvents"]}],
}


def role_statements(role: PolicyResource, resources: list[PolicyResource]) -> list[Statement]:
    """Every Allow statement the role holds: inline policies, RolePolicy resources, known managed policies."""
    found: list[Statement] = []
    for inline in role.props.get("inlinePolicies") or []:
        if isinstance(inline, Mapping):
            found += allow_statements(inline.get("policy"), f"{role.name} inline {inline.get('name')}")
    for policy in of_type(resources, "aws:iam/rolePolicy:RolePolicy"):
        if role in referenced(policy, "role", [role]):
            found += allow_statements(policy.props.get("policy"), policy.name)
    for attachment in of_type(resources, "aws:iam/rolePolicyAttachment:RolePolicyAttachment"):
        if role in referenced(attachment, "role", [role]):
            arn = str(attachment.props.get("policyArn", ""))
            managed = MANAGED_POLICIES.get(arn.replace(":aws-us-gov:", ":aws:").replace(":aws-cn:", ":aws:"))
            if managed is not None:
                found += allow_statements({"Statement": managed}, arn)
            for policy in of_type(resources, "aws:iam/policy:Policy"):
                if policy in referenced(attachment, "policyArn", [policy]):
                    found += allow_statements(policy.props.get("policy"), policy.name)
    return found


def missing_grants(statements: list[Statement], action: str, resource: str) -> bool:
    return not any(s.allows(action, resource) for s in statements)


def role_by_arn(resource: PolicyResource, key: str, resources: list[PolicyResource]) -> PolicyResource | None:
    roles = referenced(resource, key, of_type(resources, "aws:iam/role:Role"))
    return roles[0] if roles else None
