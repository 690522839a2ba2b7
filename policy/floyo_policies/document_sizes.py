"""Documents the program builds, within AWS's hard size limits: on the planned resources themselves.

The settings-level estimates (stacks/doc_limits.py) refuse the operator's input before anything is declared;
these policies measure what was actually declared, so a component that grows a document is caught too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import ReportViolation, StackValidationArgs

from ._core import MANDATORY, MEDIUM, FloyoStackPolicy, known, of_type, parse_json, referenced

TASK_DEFINITION_MAX_BYTES = 64 * 1024
"""ECS service quotas, "Task definition size": 64 KiB, not adjustable
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html)."""
MANAGED_POLICY_MAX = 6_144
"""IAM quotas, "Managed policy size": 6,144 characters, whitespace not counted
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
ROLE_INLINE_MAX = 10_240
"""IAM quotas, "Role policy size": all inline policies of a role together, 10,240 characters, whitespace not
counted (same page)."""
TRUST_POLICY_MAX = 2_048
"""IAM quotas, "Role trust policy length": 2,048 characters by default (adjustable to 4,096; same page)."""
DASHBOARD_METRICS_MAX = 2_500
"""CloudWatch quotas, "Dashboard": up to 2,500 metrics per dashboard across its widgets
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch_limits.html)."""


def _chars(document: Any) -> int | None:
    """Characters of a policy document as IAM counts them (whitespace excluded), or None when not known yet."""
    doc = parse_json(document)
    if not isinstance(doc, Mapping):
        return None
    return len(json.dumps(doc, separators=(",", ":")))


def _task_definition_bytes(props: Mapping[str, Any]) -> tuple[int, int]:
    """(container definitions, whole task definition) in bytes: every field is measured (family, volumes, roles,
    proxy and placement configuration as JSON), not only the container definitions. Tags are left out: they
    are stored apart from the definition (RegisterTaskDefinition's `tags` are resource tags)."""
    containers = known(props, "containerDefinitions")
    size = len(containers.encode()) if isinstance(containers, str) else 0
    rest = {k: _plain(known(props, k)) for k in props if k not in ("containerDefinitions", "tags", "tagsAll")}
    return size, size + len(json.dumps(rest, separators=(",", ":"), default=str).encode())


def _plain(value: Any) -> Any:
    """The policy SDK's read-only proxies as plain dicts and lists, for JSON (a value unknown during a preview
    as None: reading it would raise, and the SDK would then skip the whole policy)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(known(value, k)) for k in value}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value


def _sizes(args: StackValidationArgs, report: ReportViolation) -> None:
    for task in of_type(args.resources, "aws:ecs/taskDefinition:TaskDefinition"):
        containers, size = _task_definition_bytes(task.props)
        if size > TASK_DEFINITION_MAX_BYTES:
            report(f"task definition {task.name}: {size} bytes ({containers} of them container definitions); ECS "
                   f"allows {TASK_DEFINITION_MAX_BYTES} (64 KiB) for the whole task definition", task.urn)
    for policy in of_type(args.resources, "aws:iam/policy:Policy"):
        chars = _chars(known(policy.props, "policy"))
        if chars is not None and chars > MANAGED_POLICY_MAX:
            report(f"managed policy {policy.name}: {chars} characters; IAM allows {MANAGED_POLICY_MAX}", policy.urn)
    roles = of_type(args.resources, "aws:iam/role:Role")
    inline: dict[str, int] = defaultdict(int)
    for role in roles:
        for item in known(role.props, "inlinePolicies") or []:
            if isinstance(item, Mapping):
                inline[role.urn] += _chars(known(item, "policy")) or 0
        trust = _chars(known(role.props, "assumeRolePolicy"))
        if trust is not None and trust > TRUST_POLICY_MAX:
            report(f"role {role.name}: trust policy of {trust} characters; IAM allows {TRUST_POLICY_MAX} by default",
                   role.urn)
    for policy in of_type(args.resources, "aws:iam/rolePolicy:RolePolicy"):
        owner = referenced(policy, "role", roles)
        if owner:
            inline[owner[0].urn] += _chars(known(policy.props, "policy")) or 0
    for urn, chars in inline.items():
        if chars > ROLE_INLINE_MAX:
            report(f"role {urn.split('::')[-1]}: inline policies of {chars} characters together; IAM allows "
                   f"{ROLE_INLINE_MAX} per role", urn)
    for dashboard in of_type(args.resources, "aws:cloudwatch/dashboard:Dashboard"):
        body = parse_json(known(dashboard.props, "dashboardBody"))
        widgets = body.get("widgets", []) if isinstance(body, Mapping) else []
        count = sum(len((w.get("properties") or {}).get("metrics") or []) for w in widgets if isinstance(w, Mapping))
        if count > DASHBOARD_METRICS_MAX:
            report(f"dashboard {dashboard.name}: {count} metrics; CloudWatch allows {DASHBOARD_METRICS_MAX} per "
                   "dashboard", dashboard.urn)


document_sizes = FloyoStackPolicy(
    "derived-document-sizes",
    "Task definitions within 64 KiB; IAM managed policies within 6,144 characters, a role's inline policies "
    "within 10,240 and its trust policy within 2,048; dashboards within 2,500 metrics.",
    _sizes, MANDATORY, MEDIUM,
    ["ECS quota: task definition size", "IAM quotas: policy sizes", "CloudWatch quota: metrics per dashboard"])

POLICIES = [document_sizes]
