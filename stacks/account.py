"""How an app stack relates to its account's baseline (`floyo-infra:account`).

The baseline project (`baseline/`) owns what exists once per account and region. An app stack reads
its outputs through a `StackReference`; the baseline never reads an app stack. Account-wide events
(GuardDuty, Security Hub, AWS Backup, root use, IAM changes) and cost anomalies are routed by exactly
one app stack per account, the one with `receives_account_events` (prod), to its own alert topics.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from stacks.base import BASELINE_PROJECT, Section

AURORA_BACKUP_TAG_KEY = "floyo-backup"


def aurora_backup_tag(tier: str) -> tuple[str, str]:
    """Tag (key, value) that puts an Aurora cluster of a `tier` app stack into the backup selection and restore
    tests of a `tier` baseline, and only of one: a prod baseline's vaults carry a COMPLIANCE Vault Lock (recovery
    points immutable once the grace period ends), so a dev cluster must never be selected into them. A dev
    cluster in an account whose baseline is prod is in no AWS Backup plan (Aurora's own automated backups,
    `database.backup_retention_days`, still cover it); a dev-tier baseline (GOVERNANCE) selects dev clusters."""
    return AURORA_BACKUP_TAG_KEY, f"aurora-{tier}"


AURORA_BACKUP_TAG = aurora_backup_tag("prod")
"""The prod tag (kept for readers of the constant); app stacks and the baseline call `aurora_backup_tag(tier)`."""

_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHORT_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


def baseline_stack_reference(baseline_stack: str, organization: str) -> str:
    """The StackReference name of `account.baseline_stack`: a bare stack name is qualified with the running
    stack's organization and the baseline project, so one default works on Pulumi Cloud (the organization
    is yours) and on a DIY backend (`organization`), whichever `pulumi login` chose."""
    return baseline_stack if "/" in baseline_stack else f"{organization}/{BASELINE_PROJECT}/{baseline_stack}"


class AccountSettings(Section):
    """The account baseline this stack belongs to, and what account-level alerts it receives."""

    baseline_stack: str = Field(
        default="main-use1",
        description="The account's baseline stack, read through a StackReference when `receives_account_events` "
        "is on: a stack name of the `floyo-baseline` project in this stack's own organization (resolved with "
        "`pulumi.get_organization()`: your Pulumi Cloud organization, or `organization` on a DIY backend), or a "
        "fully qualified `<org>/<project>/<stack>`. Default main-use1.")
    receives_account_events: bool = Field(
        default=True,
        description="This stack routes the account's security, backup and cost-anomaly events to its alert "
        "topics. Exactly one app stack per account should. Default: dev false, prod true.")
    guardduty_min_severity: float = Field(
        default=7.0, ge=1.0, le=8.9,
        description="GuardDuty findings at or above this severity page (4 medium, 7 high). Default 7.")
    monthly_budget_usd: float | None = Field(
        default=None, gt=0, le=1_000_000,
        description="This stack's monthly cost budget in USD (resources tagged `stack=<this stack>`): a ticket "
        "at 80% and 100% actual and at 100% forecast. Default: the committed estimate "
        "(ops/cost/estimates/<stack>.json, `python -m ops cost STACK --write`) times `cost.budget_margin`.")
    anomaly_threshold_usd: float = Field(
        default=100, gt=0, le=1_000_000,
        description="Cost anomalies with a total impact at or above this many USD open a ticket (only with "
        "receives_account_events). Default: dev 50, prod 100.")

    @field_validator("baseline_stack")
    @classmethod
    def _qualified(cls, value: str) -> str:
        if not (_STACK_NAME.match(value) or _SHORT_NAME.match(value)):
            raise ValueError("must be a stack name (main-use1) or <organization>/<project>/<stack>, "
                             "e.g. acme/floyo-baseline/main-use1")
        return value


TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {"receives_account_events": False, "anomaly_threshold_usd": 50},
    "prod": {"receives_account_events": True, "anomaly_threshold_usd": 100},
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
