"""AWS Backup of the Aurora clusters: locked vaults in two regions, a plan, restore tests, audit reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, assume_role_policy
from components.kms_key import KmsKey, KmsKeyArgs
from components.secure_bucket import SecureBucket
from stacks.account import aurora_backup_tag
from stacks.baseline import BackupSettings

REPORTS_PREFIX = "backup-reports"
"""Key prefix of Backup Audit Manager's reports in the audit bucket."""

BACKUP_POLICIES = [
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup",
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores",
]
"""AWS managed policies of the role AWS Backup assumes: take and copy recovery points, restore them
(restore tests also delete the restored cluster with it)."""



def _tag_condition(lock_mode: str) -> dict[str, str]:
    """Clusters of the vault's own tier only: a COMPLIANCE (prod) vault never selects a dev cluster."""
    key, value = aurora_backup_tag("prod" if lock_mode == "COMPLIANCE" else "dev")
    return {"key": f"aws:ResourceTag/{key}", "value": value}


@dataclass(frozen=True)
class BackupsArgs:
    """Arguments of `Backups`."""

    settings: BackupSettings
    """The baseline's `backup` settings."""
    context: AwsContext
    """Account/region/partition."""
    lock_mode: Literal["GOVERNANCE", "COMPLIANCE"]
    """Vault Lock mode: GOVERNANCE in dev accounts (removable by IAM), COMPLIANCE in prod (immutable once
    `lock_changeable_for_days` have passed)."""
    reports_bucket: SecureBucket
    """Where Backup Audit Manager writes its reports (under `backup-reports/`)."""
    config_started: pulumi.Resource
    """AWS Config recording: the audit frameworks evaluate Config's records, so they come after it."""
    protect: bool = False
    """Pulumi `protect` on the keys and vaults. Default false; prod passes true."""


class Backups(pulumi.ComponentResource):
    """Backups of every Aurora cluster tagged `aurora_backup_tag(<the vault's tier>)`, with proof that they restore.

    * a vault with its own KMS key here, and a copy vault with its own key in `copy_region`, both under
      Vault Lock (min/max retention; COMPLIANCE mode with a grace period in prod);
    * a plan: daily snapshots copied to the second region, monthly snapshots, and continuous backup
      (point-in-time restore within `continuous_retention_days`);
    * a selection of Aurora clusters carrying the tag of this tier (an app cluster of the same tier does,
      components/postgres.py; a COMPLIANCE vault never selects a dev cluster);
    * a restore-testing plan restoring the latest Aurora recovery point on `restore_test_schedule`, which
      AWS Backup deletes after `restore_validation_hours`;
    * Backup Audit Manager frameworks (protection, encryption, retention, lock, cross-region copy) and
      report plans (control compliance, backup jobs) into the reports bucket.
    Job failures alert through the app's EventBridge rules (components/account_alerts.py).
    """

    vault: aws.backup.Vault
    copy_vault: aws.backup.Vault
    plan: aws.backup.Plan

    def __init__(self, name: str, args: BackupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:backup:Backups", name, None, opts)
        s, ctx = args.settings, args.context
        child = pulumi.ResourceOptions(parent=self)
        self.vault = self._vault(f"{name}-vault", "floyo-account", None, args)
        self.copy_vault = self._vault(f"{name}-copy-vault", "floyo-account-copy", s.copy_region, args)
        role = aws.iam.Role(f"{name}-role", assume_role_policy=assume_role_policy("backup.amazonaws.com", ctx),
                            opts=child)
        attached = [aws.iam.RolePolicyAttachment(f"{name}-role-{i}", role=role.name, policy_arn=arn, opts=child)
                    for i, arn in enumerate(BACKUP_POLICIES)]
        self.plan = aws.backup.Plan(f"{name}-plan", name="floyo-aurora", rules=[
            aws.backup.PlanRuleArgs(
                rule_name="daily", target_vault_name=self.vault.name, schedule="cron(0 3 * * ? *)",
                start_window=60, completion_window=360,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=s.daily_retention_days),
                copy_actions=[aws.backup.PlanRuleCopyActionArgs(
                    destination_vault_arn=self.copy_vault.arn,
                    lifecycle=aws.backup.PlanRuleCopyActionLifecycleArgs(delete_after=s.daily_retention_days))]),
            aws.backup.PlanRuleArgs(
                rule_name="monthly", target_vault_name=self.vault.name, schedule="cron(0 4 1 * ? *)",
                start_window=60, completion_window=360,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=s.monthly_retention_days)),
            aws.backup.PlanRuleArgs(
                rule_name="continuous", target_vault_name=self.vault.name, schedule="cron(0 2 * * ? *)",
                enable_continuous_backup=True,
                lifecycle=aws.backup.PlanRuleLifecycleArgs(delete_after=s.continuous_retention_days)),
        ], opts=child)
        aws.backup.Selection(
            f"{name}-aurora", name="floyo-aurora", plan_id=self.plan.id, iam_role_arn=role.arn,
            resources=[pulumi.Output.concat("arn:", ctx.partition, ":rds:", ctx.region, ":", ctx.account_id,
                                            ":cluster:*")],
            conditions=[aws.backup.SelectionConditionArgs(
                string_equals=[aws.backup.SelectionConditionStringEqualArgs(**_tag_condition(args.lock_mode))])],
            opts=pulumi.ResourceOptions(parent=self, depends_on=attached, delete_before_replace=True))
        self._restore_tests(name, args, role, attached)
        self._audit(name, args)
        self.register_outputs({"vault": self.vault.arn, "copy_vault": self.copy_vault.arn})

    def _vault(self, name: str, vault_name: str, region: str | None, args: BackupsArgs) -> aws.backup.Vault:
        s = args.settings
        key = KmsKey(f"{name}-key", KmsKeyArgs(
            context=args.context, description=f"floyo account: backup vault {vault_name}",
            alias=f"floyo-{vault_name}", region=region, protect=args.protect), opts=pulumi.ResourceOptions(parent=self))
        vault = aws.backup.Vault(
            name, name=vault_name, kms_key_arn=key.arn, force_destroy=False, region=region,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, delete_before_replace=True))
        aws.backup.VaultLockConfiguration(
            f"{name}-lock", backup_vault_name=vault.name, region=region,
            min_retention_days=s.lock_min_retention_days, max_retention_days=s.lock_max_retention_days,
            # set: COMPLIANCE mode, immutable after these days; unset: GOVERNANCE mode
            changeable_for_days=s.lock_changeable_for_days if args.lock_mode == "COMPLIANCE" else None,
            # every argument forces replacement; created first, the new lock would be deleted with the old one
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, delete_before_replace=True))
        return vault

    def _restore_tests(self, name: str, args: BackupsArgs, role: aws.iam.Role,
                       attached: list[aws.iam.RolePolicyAttachment]) -> None:
        s = args.settings
        plan = aws.backup.RestoreTestingPlan(
            f"{name}-restore-test", name="floyo_aurora_restore_test",  # letters, digits, underscores only
            schedule_expression=s.restore_test_schedule, start_window_hours=4,
            recovery_point_selection=aws.backup.RestoreTestingPlanRecoveryPointSelectionArgs(
                algorithm="LATEST_WITHIN_WINDOW", include_vaults=[self.vault.arn],
                recovery_point_types=["SNAPSHOT"], selection_window_days=7),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True))  # fixed name
        aws.backup.RestoreTestingSelection(
            f"{name}-restore-test-aurora", name="floyo_aurora", restore_testing_plan_name=plan.name,
            protected_resource_type="Aurora", iam_role_arn=role.arn,
            protected_resource_conditions=aws.backup.RestoreTestingSelectionProtectedResourceConditionsArgs(
                string_equals=[aws.backup.RestoreTestingSelectionProtectedResourceConditionsStringEqualArgs(
                    **_tag_condition(args.lock_mode))]),
            validation_window_hours=s.restore_validation_hours,
            opts=pulumi.ResourceOptions(parent=self, depends_on=attached, delete_before_replace=True))

    def _audit(self, name: str, args: BackupsArgs) -> None:
        s, ctx = args.settings, args.context
        after_config = pulumi.ResourceOptions(parent=self, depends_on=[args.config_started], delete_before_replace=True)
        rds = aws.backup.FrameworkControlScopeArgs(compliance_resource_types=["RDS"])

        def control(control_name: str, scoped: bool = True, **params: str) -> aws.backup.FrameworkControlArgs:
            return aws.backup.FrameworkControlArgs(
                name=control_name, scope=rds if scoped else None,
                input_parameters=[aws.backup.FrameworkControlInputParameterArgs(name=k, value=v)
                                  for k, v in params.items()] or None)

        framework = aws.backup.Framework(
            f"{name}-framework", name="floyo_aurora_backups",
            description="Aurora is backed up daily, encrypted, locked, kept and copied to a second region",
            controls=[
                control("BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN"),
                control("BACKUP_RECOVERY_POINT_ENCRYPTED"),
                control("BACKUP_RECOVERY_POINT_MANUAL_DELETION_DISABLED"),
                control("BACKUP_PLAN_MIN_FREQUENCY_AND_MIN_RETENTION_CHECK", scoped=False,
                        requiredFrequencyUnit="days", requiredFrequencyValue="1",
                        requiredRetentionDays=str(s.daily_retention_days)),
                control("BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK",
                        requiredRetentionDays=str(s.daily_retention_days)),
                control("BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK"),
                control("BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION", crossRegionList=s.copy_region),
                control("BACKUP_LAST_RECOVERY_POINT_CREATED", recoveryPointAgeUnit="days", recoveryPointAgeValue="1"),
            ],
            opts=after_config)
        channel = aws.backup.ReportPlanReportDeliveryChannelArgs(
            s3_bucket_name=args.reports_bucket.name, s3_key_prefix=REPORTS_PREFIX, formats=["CSV", "JSON"])
        aws.backup.ReportPlan(
            f"{name}-compliance-report", name="floyo_backup_compliance", report_delivery_channel=channel,
            report_setting=aws.backup.ReportPlanReportSettingArgs(
                report_template="CONTROL_COMPLIANCE_REPORT", framework_arns=[framework.arn], number_of_frameworks=1),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.reports_bucket.policy], delete_before_replace=True))
        aws.backup.ReportPlan(
            f"{name}-jobs-report", name="floyo_backup_jobs", report_delivery_channel=channel,
            report_setting=aws.backup.ReportPlanReportSettingArgs(
                report_template="BACKUP_JOB_REPORT", regions=[ctx.region, s.copy_region]),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.reports_bucket.policy], delete_before_replace=True))


def reports_key_statement(role_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Key-policy statement letting Backup Audit Manager's service-linked role encrypt the reports it writes.
    The role must exist first (a policy naming a missing principal is refused): pass the created role's ARN."""
    return {"Sid": "BackupReportsEncrypt", "Effect": "Allow", "Principal": {"AWS": role_arn},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": "*"}


def reports_bucket_statement(role_arn: pulumi.Input[str], bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Bucket-policy statement letting that role write reports under `backup-reports/`."""
    return {"Sid": "BackupReportsWrite", "Effect": "Allow", "Principal": {"AWS": role_arn}, "Action": "s3:PutObject",
            "Resource": pulumi.Output.concat(bucket_arn, "/", REPORTS_PREFIX, "/*"),
            "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
