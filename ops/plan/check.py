"""Run the CrossGuard pack (policy/) against the offline plan, the way `pulumi preview --policy-pack` would.

The adapter turns each `PlannedResource` into what the policy SDK hands a policy: `ResourceValidationArgs`
(type, inputs under their wire names, URN, name, options, no provider) for resource policies, and
`PolicyResource`s (state = the mocks' answer, parent, dependencies, property dependencies) for stack
policies. Unknown values become the SDK's unknown sentinels behind its unknown-checking proxy, so a policy
that reads one is reported as "cannot run during preview", as in a real preview.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from ops.plan.planner import UNKNOWN, Plan, PlannedResource, plan_config
from ops.stackfile import ROOT, StackConfig, load_stack
from policy.floyo_policies import POLICIES
from policy.floyo_policies.replacement import LIVE_VALUES_KEY
from stacks.base import PROJECT

LIVE_LOOKUPS = ("aws:index/getAvailabilityZones:getAvailabilityZones", "aws:ec2/getAmi:getAmi")
"""Data sources whose answer can shift between runs (unless pinned by zone ID)."""


@dataclass(frozen=True)
class Finding:
    """One violation (or a policy that could not run) as the engine would print it."""

    policy: str
    level: str
    severity: str
    message: str
    urn: str | None = None

    @property
    def resource(self) -> str:
        return self.urn.split("::")[-1] if self.urn else "(stack)"


@dataclass
class CheckResult:
    stack: str
    findings: list[Finding] = field(default_factory=list)
    not_applicable: dict[str, str] = field(default_factory=dict)

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "mandatory"]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.level != "mandatory"]

    def as_json(self) -> dict[str, Any]:
        return {"stack": self.stack, "mandatory": len(self.mandatory), "advisory": len(self.advisory),
                "findings": [asdict(f) for f in self.findings], "not_applicable": self.not_applicable}


def _with_sentinels(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _with_sentinels(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_sentinels(v) for v in value]
    return UNKNOWN_STRING_VALUE if value == UNKNOWN else value


def _props(values: dict[str, Any]) -> Any:
    return unknown_checking_proxy(_with_sentinels(values))


def _options(r: PlannedResource) -> PolicyResourceOptions:
    return PolicyResourceOptions(r.protect, list(r.ignore_changes), r.delete_before_replace, [],
                                 PolicyCustomTimeouts(0, 0, 0), [], r.parent or None)


def resource_args(r: PlannedResource, config: dict[str, Any] | None = None) -> ResourceValidationArgs:
    """What `Analyze` hands a resource policy: the inputs."""
    return ResourceValidationArgs(r.type, _props(r.inputs), r.urn, r.name, _options(r), None, config or {})


def stack_resources(plan: Plan) -> list[PolicyResource]:
    """What `AnalyzeStack` hands a stack policy: each resource's state, linked to parent and dependencies."""
    made = {r.urn: PolicyResource(r.type, _props({**r.outputs, "id": r.id} if r.custom else r.outputs), r.urn,
                                  r.name, _options(r), None, None, [], {}) for r in plan.resources}
    for r in plan.resources:
        res = made[r.urn]
        res.parent = made.get(r.parent)
        res.dependencies = [made[d] for d in r.dependencies if d in made]
        res.property_dependencies = {k: [made[u] for u in v if u in made] for k, v in r.property_dependencies.items()}
    return list(made.values())


def live_lookup_values(plan: Plan, pinned: Iterable[str]) -> dict[str, str]:
    """Every string a live data source returned that the stack's settings do not pin: value -> data source."""
    pinned_text = "\n".join(pinned)
    found: dict[str, str] = {}

    def walk(value: Any, token: str) -> None:
        if isinstance(value, dict):
            for v in value.values():
                walk(v, token)
        elif isinstance(value, list):
            for v in value:
                walk(v, token)
        elif isinstance(value, str) and value not in pinned_text:
            found.setdefault(value, token)

    for lookup in plan.lookups:
        if lookup.token in LIVE_LOOKUPS and not lookup.args.get("zoneIds"):
            for key in ("names", "zoneIds", "id", "imageId"):
                walk(lookup.result.get(key), lookup.token)
    return found


def _level(policy: Policy) -> str:
    return (policy.enforcement_level or EnforcementLevel.ADVISORY).value


def run_policies(plan: Plan, policies: Iterable[Policy] = POLICIES, pinned: Iterable[str] = ()) -> CheckResult:
    """Every policy over the plan, as a real preview would run them (resource policies per resource, then
    stack policies once)."""
    result = CheckResult(plan.stack)
    stack = stack_resources(plan)
    live = live_lookup_values(plan, pinned)

    def run(policy: Policy, call: Callable[[Callable[[str, str | None], None]], object], urn: str | None) -> None:
        def report(message: str, at: str | None = None) -> None:
            result.findings.append(Finding(policy.name, _level(policy), (policy.severity.value if policy.severity
                                                                         else "medium"), message, at or urn))
        try:
            call(report)
        except _NotApplicableError as exc:
            result.not_applicable.setdefault(policy.name, exc.reason or "")
        except UnknownValueError as exc:
            result.findings.append(Finding(policy.name, "advisory", "low",
                                           f"can't run policy during preview: {exc.message}", urn))

    for policy in policies:
        config = {LIVE_VALUES_KEY: live}
        if isinstance(policy, ResourceValidationPolicy):
            for r in plan.resources:
                args = resource_args(r, config)
                run(policy, lambda report, a=args, p=policy: p.validate(a, report), r.urn)
        elif isinstance(policy, StackValidationPolicy):
            args = StackValidationArgs(stack, config)
            run(policy, lambda report, a=args, p=policy: p.validate(a, report), None)
    return result


def check_plan(plan: Plan, config: StackConfig) -> CheckResult:
    """Run the pack over `plan`; values written in `config` count as pinned, not looked up."""
    return run_policies(plan, pinned=[str(v) for v in config.values.values()])


def check_stack(stack: str, stack_dir: Path | None = None) -> CheckResult:
    config, _ = load_stack(stack, stack_dir or ROOT, PROJECT)  # the one loader: a bad file is refused before planning
    return check_plan(plan_config(config), config)


def summary(result: CheckResult, details: bool = True) -> str:
    """One line of counts; `details` adds the command that lists them (the app's stacks only: `ops check`
    reads the app project's stack files)."""
    counts = f"policy: {len(result.mandatory)} mandatory, {len(result.advisory)} advisory"
    return f"{counts} (python -m ops check {result.stack})" if details else counts


def render(result: CheckResult, markdown: bool = False) -> str:
    """A short report: every MANDATORY violation in full, then a table of ADVISORY findings."""
    lines: list[str] = []
    title = f"Policy check of `{result.stack}`" if markdown else f"policy check of {result.stack}"
    lines.append(f"### {title}" if markdown else title)
    lines.append(summary(result))
    if result.mandatory:
        lines.append("")
        lines.append("**MANDATORY violations (block the deploy):**" if markdown else "MANDATORY violations:")
        lines += [f"- `{f.policy}` on `{f.resource}`: {f.message}" if markdown else f"  [{f.policy}] {f.resource}: {f.message}"
                  for f in result.mandatory]
    if result.advisory:
        lines.append("")
        if markdown:
            lines += ["| policy | resource | finding |", "| --- | --- | --- |"]
            lines += [f"| `{f.policy}` | `{f.resource}` | {f.message.replace('|', '/')} |" for f in result.advisory]
        else:
            width = max(len(f.policy) for f in result.advisory)
            lines.append(f"  {'ADVISORY'.ljust(width)}  resource: finding")
            lines += [f"  {f.policy.ljust(width)}  {f.resource}: {f.message}" for f in result.advisory]
    return "\n".join(lines)


def main_check(stack: str, as_json: bool, fmt: str, stack_dir: Path | None = None) -> int:
    """`python -m ops check`: 0 clean, 3 with a MANDATORY violation."""
    result = check_stack(stack, stack_dir)
    print(json.dumps(result.as_json(), indent=2) if as_json else render(result, markdown=fmt == "markdown"))
    return 3 if result.mandatory else 0
