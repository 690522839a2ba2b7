"""Documents the program derives from settings, checked against AWS's hard limits before anything is declared.

The plan-level check of the same limits on the declared resources is the policy pack's
(`policy/floyo_policies/document_sizes.py`); this one runs in `load_settings`, so an operator adding
thousands of feature flags or secrets hears it from every command, before a plan.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from stacks.base import PROJECT
from stacks.errors import Problem
from stacks.program_env import feature_environment, feature_variable

if TYPE_CHECKING:
    from stacks.consistency import Context
    from stacks.settings import StackSettings

TASK_DEFINITION_MAX_BYTES = 64 * 1024
"""ECS service quotas, "Task definition size": 64 KiB, not adjustable
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html)."""
TASK_DEFINITION_ALLOWANCE = 8 * 1024
"""Bytes kept for what the settings do not size: image, ports, log and health-check configuration, the
variables the program sets (DATABASE_*, REDIS_*, OTEL_*), the sidecars. The dev plan's whole container
definition list is under 4 KiB without user variables, so 8 KiB is a margin, not a measurement."""
ROLE_INLINE_POLICY_MAX = 10_240
"""IAM quotas, "Role policy size": the aggregate of a role's inline policies, at most 10,240 characters,
whitespace not counted (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
EXECUTION_POLICY_ALLOWANCE = 1_500
"""Characters of the execution role's policy besides the secret ARNs (log, image pull and KMS statements)."""
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
"""What backend.environment accepts as a variable name (stacks/backend.py)."""


def feature_flag_names(settings: StackSettings, ctx: Context) -> list[Problem]:
    """Each flag becomes `FEATURE_<NAME upper-cased>` (components/backend.py): a name backend.environment
    would accept, and no two flags on the same variable (`new_editor` and `NEW_EDITOR`)."""
    flags = settings.backend.feature_flags
    problems: list[Problem] = []
    bad = sorted(f for f in flags if not ENV_NAME.match(feature_variable(f)))
    if bad:
        problems.append(Problem(
            f"{PROJECT}:backend.feature_flags", f"names {bad}",
            "each flag becomes the variable FEATURE_<NAME>, so a name may hold only letters, digits and "
            "underscores (e.g. new_editor)"))
    seen: dict[str, list[str]] = {}
    for flag in flags:
        seen.setdefault(feature_variable(flag), []).append(flag)
    clashes = sorted(sorted(names) for names in seen.values() if len(names) > 1)
    if clashes:
        problems.append(Problem(
            f"{PROJECT}:backend.feature_flags", f"names {clashes}",
            "these flags become the same variable FEATURE_<NAME upper-cased>: keep one of each"))
    return problems


def task_definition_size(settings: StackSettings, ctx: Context) -> list[Problem]:
    """The container definitions' environment and secrets fit ECS's 64 KiB task definition."""
    b = settings.backend
    environment = {**b.environment, "APP_VERSION": b.app_version, **feature_environment(b.feature_flags)}
    size = len(json.dumps([{"name": k, "value": v} for k, v in environment.items()]))
    size += len(json.dumps([{"name": k, "valueFrom": v} for k, v in b.secrets.items()]))
    room = TASK_DEFINITION_MAX_BYTES - TASK_DEFINITION_ALLOWANCE
    if size <= room:
        return []
    return [Problem(
        f"{PROJECT}:backend", f"{len(environment)} variables and {len(b.secrets)} secrets ({size} bytes)",
        f"the task definition would exceed ECS's hard limit of {TASK_DEFINITION_MAX_BYTES} bytes (64 KiB; "
        f"{room} are left for variables after {TASK_DEFINITION_ALLOWANCE} for the rest): remove feature flags "
        "or variables, or move configuration into the app")]


def execution_policy_size(settings: StackSettings, ctx: Context) -> list[Problem]:
    """The execution role's inline policy names every secret ARN; it stays within the role's 10,240 characters."""
    arns = settings.backend.secrets.values()
    size = EXECUTION_POLICY_ALLOWANCE + sum(len(a) + 3 for a in arns)  # quotes and comma
    if size <= ROLE_INLINE_POLICY_MAX:
        return []
    return [Problem(
        f"{PROJECT}:backend.secrets", f"{len(arns)} secret ARNs (~{size} characters of policy)",
        f"the execution role's inline policy lists each ARN and IAM allows {ROLE_INLINE_POLICY_MAX} characters "
        "per role: group values into fewer secrets (one JSON secret holds many keys)")]


DOCUMENT_CHECKS = [feature_flag_names, task_definition_size, execution_policy_size]
"""Derived-document checks, run with the other settings-level checks."""
