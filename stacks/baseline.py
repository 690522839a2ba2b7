"""Settings of the account baseline project (`baseline/`, namespace `floyo-baseline:`).

One stack per AWS account and region, named `<account>-<region short>` (`main-use1`: the account dev
and prod share, in us-east-1). Same conventions as the app's settings: frozen sections that forbid
unknown keys, per-tier defaults (`TIER_DEFAULTS`), prod guardrails, one clear error per bad stack file.
The tier is the strictest tier of the stacks the account hosts: an account hosting prod is `prod`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pulumi
from pydantic import Field, ValidationError, field_validator

from stacks.aws_cron import cron_problem
from stacks.aws_facts import botocore_version, is_region, region_summary, regions
from stacks.base import BASELINE_PROJECT, Section, Tier, check_retention, prod_keeps_audit_logs, prod_refuses
from stacks.consistency import FLAT_KEY, config_problems
from stacks.errors import Problem, SettingsError
from stacks.loader import parse_value, problems_of
from stacks.profiles import deep_merge


class RepositorySettings(Section):
    """The shared image repository (`floyo-baseline:image_repository`)."""

    name: str = Field(
        default="floyo-backend", pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$", max_length=256,
        description="ECR repository name every app stack's `backend.image` points at. Default floyo-backend. "
        "Changing it replaces the repository (and its images).")
    pull_account_ids: list[str] = Field(
        default_factory=list,
        description="Other AWS accounts (12 digits) whose stacks pull from it. Default none (same account).")
    untagged_expiry_days: int = Field(
        default=14, ge=1, le=3650, description="Days before an untagged image expires. Default 14.")

    @field_validator("pull_account_ids")
    @classmethod
    def _accounts(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not (len(a) == 12 and a.isdigit())]
        if bad:
            raise ValueError(f"not 12-digit AWS account IDs: {bad}")
        return value


class AuditSettings(Section):
    """CloudTrail, its bucket and its log group (`floyo-baseline:audit`)."""

    trail_log_retention_days: int = Field(
        default=365, description="Days CloudWatch Logs keeps the trail's events. Default: dev 90, prod 365; "
        "prod needs at least 365 (audit logs).")
    object_retention_days: int = Field(
        default=365, ge=1, le=36500,
        description="Object Lock default retention of each trail log file, in days (GOVERNANCE mode in dev, "
        "COMPLIANCE in prod: nobody, root included, can delete a file before then). Default: dev 30, prod 365; "
        "prod needs at least 365.")
    expire_after_days: int = Field(
        default=2555, ge=1, le=36500,
        description="Days after which trail log files are deleted by the bucket lifecycle (>= "
        "object_retention_days). Default: dev 365, prod 2555 (7 years).")

    @field_validator("trail_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_retention(value)

    _prod_trail_logs = prod_keeps_audit_logs("trail_log_retention_days")
    _prod_objects = prod_refuses(
        "object_retention_days", lambda v: v < 365, "prod locks audit log files at least 365 days")


class DetectionSettings(Section):
    """GuardDuty, Security Hub, Config (`floyo-baseline:detection`)."""

    guardduty_publishing_frequency: str = Field(
        default="FIFTEEN_MINUTES", pattern=r"^(FIFTEEN_MINUTES|ONE_HOUR|SIX_HOURS)$",
        description="How often GuardDuty sends updated findings to EventBridge: FIFTEEN_MINUTES, ONE_HOUR or "
        "SIX_HOURS. Default: dev SIX_HOURS, prod FIFTEEN_MINUTES.")
    record_global_resources: bool = Field(
        default=True,
        description="AWS Config records IAM (global) resources in this stack's region. Exactly one region per "
        "account should: keep it true in the home-region stack only. Default true.")


class BackupSettings(Section):
    """AWS Backup of the Aurora clusters (`floyo-baseline:backup`)."""

    copy_region: str = Field(
        default="us-west-2",
        description="Region of the second vault every daily recovery point is copied to; must differ from the "
        "stack's aws:region. Default us-west-2.")
    daily_retention_days: int = Field(
        default=35, ge=1, le=36500, description="Days a daily recovery point (and its copy) is kept. "
        "Default: dev 7, prod 35.")
    monthly_retention_days: int = Field(
        default=365, ge=1, le=36500, description="Days a monthly recovery point is kept. Default: dev 90, prod 365.")
    continuous_retention_days: int = Field(
        default=35, ge=1, le=35, description="Point-in-time restore window of the continuous backup, 1-35 days "
        "(AWS Backup's limit). Default: dev 7, prod 35.")
    lock_min_retention_days: int = Field(
        default=7, ge=1, le=36500,
        description="Vault Lock: shortest retention a recovery point in the vaults may have (every rule's "
        "retention must be at least this). Default: dev 1, prod 7.")
    lock_max_retention_days: int = Field(
        default=3650, ge=1, le=36500,
        description="Vault Lock: longest retention a recovery point may have. Default 3650.")
    lock_changeable_for_days: int = Field(
        default=3, ge=3, le=36500,
        description="prod only (COMPLIANCE mode): days the Vault Lock can still be changed or removed after "
        "the first `pulumi up`; after that it is IMMUTABLE, even for root and AWS. Minimum 3. dev uses "
        "GOVERNANCE mode (no grace period, removable with the right IAM permission). Default 3.")
    restore_test_schedule: str = Field(
        default="cron(0 5 ? * SAT *)",
        description="When the restore test restores the latest Aurora recovery point: an AWS cron expression "
        "`cron(Minutes Hours Day-of-month Month Day-of-week Year)`, UTC, one of the two day fields `?` "
        "(a restore testing plan takes cron only, no rate). Default Saturdays 05:00.")
    restore_validation_hours: int = Field(
        default=1, ge=1, le=168,
        description="Hours the restored cluster is kept for validation before AWS Backup deletes it. Default 1.")

    @field_validator("copy_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not is_region(value):
            raise ValueError(f"not an AWS region (botocore {botocore_version()} knows: {region_summary()})")
        return value

    @field_validator("restore_test_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        # CreateRestoreTestingPlan, ScheduleExpression: "A CRON expression in specified timezone"
        # (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RestoreTestingPlanForCreate.html)
        problem = cron_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class CostSettings(Section):
    """Account-level cost controls (`floyo-baseline:cost`)."""

    allocation_tags: list[str] = Field(
        default_factory=lambda: ["project", "stack"],
        description="User-defined tags activated for cost allocation (budgets filter on `stack`). A tag can be "
        "activated only once AWS Billing has seen it on a resource (up to 24 h after first use). "
        "Default project, stack.")

    activate_allocation_tags: bool = Field(
        default=False,
        description="Activate `allocation_tags` for cost allocation. Off for an account's first `pulumi up`: AWS "
        "Billing lists a tag only after it has seen it on a resource (up to 24 h), and until then the provider's "
        "read-back after activation fails (terraform-provider-aws internal/service/ce/cost_allocation_tag.go, "
        "findCostAllocationTagByTagKey: empty result on a new resource is an error), which stops the whole "
        "update. Turn on once `aws ce list-cost-allocation-tags --tag-keys project stack` lists them "
        "(docs/first-deploy.md). Default false.")
    service_monitor_arn: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:ce::[0-9]{12}:anomalymonitor/[0-9a-f-]{36}$",
        description="ARN of the account's existing AWS-services cost-anomaly monitor (DIMENSIONAL/SERVICE). AWS "
        "allows one per account and creates one (`Default-Services-Monitor`) for new Cost Explorer users, so "
        "creating a second fails: name it here and the stack uses it instead of creating one. Find it with "
        "`aws ce get-anomaly-monitors --query \"AnomalyMonitors[?MonitorDimension=='SERVICE'].MonitorArn\"`. "
        "Default none: the stack creates `floyo-account-services`.")

    @field_validator("allocation_tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        if "stack" not in value:
            raise ValueError("must include `stack`: each app stack's budget filters on it")
        if len(set(value)) != len(value):
            raise ValueError("lists a tag twice")
        return value


class BaselineSettings(Section):
    """Everything a baseline stack can set, one section per `floyo-baseline:<section>` key."""

    tier: Tier = Field(description="`prod` if the account hosts a prod stack (COMPLIANCE-mode locks, longer "
                       "retention), else `dev`. Required.")
    image_repository: RepositorySettings = Field(default_factory=RepositorySettings,
                                                 description="The shared ECR repository.")
    audit: AuditSettings = Field(default_factory=AuditSettings, description="CloudTrail.")
    detection: DetectionSettings = Field(default_factory=DetectionSettings,
                                         description="GuardDuty, Security Hub, Config.")
    backup: BackupSettings = Field(default_factory=BackupSettings, description="AWS Backup.")
    cost: CostSettings = Field(default_factory=CostSettings, description="Cost allocation tags.")


TIER_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "audit": {
        "dev": {"trail_log_retention_days": 90, "object_retention_days": 30, "expire_after_days": 365},
        "prod": {"trail_log_retention_days": 365, "object_retention_days": 365, "expire_after_days": 2555},
    },
    "detection": {
        "dev": {"guardduty_publishing_frequency": "SIX_HOURS"},
        "prod": {"guardduty_publishing_frequency": "FIFTEEN_MINUTES"},
    },
    "backup": {
        "dev": {"daily_retention_days": 7, "monthly_retention_days": 90, "continuous_retention_days": 7,
                "lock_min_retention_days": 1},
        "prod": {"daily_retention_days": 35, "monthly_retention_days": 365, "continuous_retention_days": 35,
                 "lock_min_retention_days": 7},
    },
}
"""Section -> tier -> defaults; `baseline/Pulumi.<stack>.yaml` only holds what differs."""


def _cross_checks(settings: BaselineSettings, region: str) -> list[Problem]:
    """Checks spanning keys: what AWS would refuse at deploy time, refused here first."""
    key = f"{BASELINE_PROJECT}:"
    b, a = settings.backup, settings.audit
    problems: list[Problem] = []
    if is_region(region) and is_region(b.copy_region) and regions()[b.copy_region] != regions()[region]:
        problems.append(Problem(key + "backup.copy_region", repr(b.copy_region),
                                f"is in partition {regions()[b.copy_region]}, aws:region ({region}) in "
                                f"{regions()[region]}: AWS Backup copies only within a partition"))
    if b.copy_region == region:
        problems.append(Problem(key + "backup.copy_region", repr(b.copy_region),
                                f"must differ from aws:region ({region}): the copy guards against losing the region"))
    retentions = {"daily_retention_days": b.daily_retention_days, "monthly_retention_days": b.monthly_retention_days,
                  "continuous_retention_days": b.continuous_retention_days}
    for name, days in retentions.items():
        if not b.lock_min_retention_days <= days <= b.lock_max_retention_days:
            problems.append(Problem(
                f"{key}backup.{name}", str(days),
                f"Vault Lock refuses recovery points kept outside lock_min_retention_days..lock_max_retention_days "
                f"({b.lock_min_retention_days}..{b.lock_max_retention_days}); every backup job would fail"))
    if a.expire_after_days < a.object_retention_days:
        problems.append(Problem(
            key + "audit.expire_after_days", str(a.expire_after_days),
            f"must be >= audit.object_retention_days ({a.object_retention_days}): a locked file can't expire"))
    return problems


def load_baseline_settings(stack: str, config: Mapping[str, Any], secret_keys: Collection[str] = (),
                           secure_paths: Collection[str] = ()) -> BaselineSettings:
    """Validate a baseline stack's config; raises one `SettingsError` listing every bad key.

    The same config-level checks as the app's (stacks/consistency.py): namespaces, flat keys, the region, the
    stack tag (`baseline-<stack>`). The baseline has no secret settings, so a `secure:` value of its own
    namespace (`secure_paths`) is refused: it would land in plain text."""
    prefix = BASELINE_PROJECT + ":"
    raw = {k[len(prefix):]: parse_value(v) for k, v in config.items()
           if k.startswith(prefix) and not FLAT_KEY.search(k[len(prefix):])}  # flat keys: config_problems
    early = config_problems(config, BASELINE_PROJECT, BaselineSettings.model_fields, f"baseline-{stack}")
    early += [Problem(path, "a secret (`secure:`) value", "the baseline has no secret settings, so the value "
                      "would be stored and shown in plain text") for path in secure_paths if path.startswith(prefix)]
    tier: Tier = "prod" if raw.get("tier") == "prod" else "dev"
    layered = dict(raw)
    for section, by_tier in TIER_DEFAULTS.items():
        given = raw.get(section, {})
        if isinstance(given, Mapping):
            layered[section] = deep_merge(by_tier[tier], given)
    try:
        settings = BaselineSettings.model_validate(layered, context={"tier": tier})
    except ValidationError as exc:
        secret_sections = {k[len(prefix):].split(".")[0] for k in secret_keys if k.startswith(prefix)}
        raise SettingsError(stack, early + problems_of(exc, secret_sections, BaselineSettings, BASELINE_PROJECT),
                            BASELINE_PROJECT) from None
    problems = early + _cross_checks(settings, str(config.get("aws:region", "us-east-1")))
    if problems:
        raise SettingsError(stack, problems, BASELINE_PROJECT)
    return settings


def baseline_settings_from_pulumi() -> BaselineSettings:
    """Load the running baseline stack's settings from Pulumi's config."""
    cfg = pulumi.runtime.config
    values: dict[str, Any] = dict(cfg.get_config_env())
    values.update(cfg.CONFIG.get())
    return load_baseline_settings(pulumi.get_stack(), values, {k for k in values if cfg.is_config_secret(k)})
