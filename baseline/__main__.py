"""Floyo's account baseline: what exists once per AWS account and region (settings: Pulumi.<stack>.yaml)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository's shared packages

import pulumi
import pulumi_aws as aws

from components.audit_trail import AuditTrail, AuditTrailArgs
from components.aws_context import aws_context
from components.backups import Backups, BackupsArgs, reports_bucket_statement, reports_key_statement
from components.config_recorder import ConfigRecorder, ConfigRecorderArgs
from components.cost_monitoring import CostMonitoring, CostMonitoringArgs
from components.image_repository import ImageRepository, ImageRepositoryArgs
from components.kms_key import KmsKey, KmsKeyArgs
from components.secure_bucket import SecureBucket, SecureBucketArgs
from components.threat_detection import ThreatDetection, ThreatDetectionArgs
from stacks.baseline import baseline_settings_from_pulumi

settings = baseline_settings_from_pulumi()  # raises SettingsError before any resource is declared
prod = settings.tier == "prod"
lock_mode = "COMPLIANCE" if prod else "GOVERNANCE"
ctx = aws_context()

# --- the shared image repository (bootstrap: this first, then push an image, then the app stacks) -----
images_key = KmsKey("images", KmsKeyArgs(
    context=ctx, description="floyo account: backend images (ECR)", alias="floyo-account-images", protect=True))
images = ImageRepository("images", ImageRepositoryArgs(
    repository_name=settings.image_repository.name, key_arn=images_key.arn,
    pull_account_ids=settings.image_repository.pull_account_ids,
    untagged_expiry_days=settings.image_repository.untagged_expiry_days, protect=True,
))

# --- audit ---------------------------------------------------------------------------------------------
trail = AuditTrail("trail", AuditTrailArgs(settings=settings.audit, context=ctx, lock_mode=lock_mode, protect=prod))
reports_role = aws.iam.ServiceLinkedRole("backup-reports", aws_service_name="reports.backup.amazonaws.com")
audit_key = KmsKey("audit", KmsKeyArgs(
    context=ctx, description="floyo account: AWS Config history, backup reports", alias="floyo-account-audit",
    service_statements=[reports_key_statement(reports_role.arn)], protect=prod))
audit_bucket = SecureBucket("audit", SecureBucketArgs(
    bucket_prefix="floyo-account-audit-", key_arn=audit_key.arn, expire_after_days=settings.audit.expire_after_days,
    service_statements=lambda arn: [reports_bucket_statement(reports_role.arn, arn)],
    protect=prod))
config = ConfigRecorder("config", ConfigRecorderArgs(
    context=ctx, bucket=audit_bucket, key_arn=audit_key.arn,
    record_global_resources=settings.detection.record_global_resources))

# --- detection -------------------------------------------------------------------------------------------
detection = ThreatDetection("detection", ThreatDetectionArgs(settings=settings.detection, context=ctx))

# --- backups ---------------------------------------------------------------------------------------------
backups = Backups("backup", BackupsArgs(
    settings=settings.backup, context=ctx, lock_mode=lock_mode, reports_bucket=audit_bucket,
    config_started=config.started, protect=prod))

# --- cost ------------------------------------------------------------------------------------------------
cost = CostMonitoring("cost", CostMonitoringArgs(
    allocation_tags=settings.cost.allocation_tags, activate_allocation_tags=settings.cost.activate_allocation_tags,
    service_monitor_arn=settings.cost.service_monitor_arn))

# --- outputs (app stacks read these through a StackReference) --------------------------------------------
pulumi.export("image_repository_url", images.url)
pulumi.export("image_repository_arn", images.arn)
pulumi.export("anomaly_monitor_arn", cost.monitor_arn)
pulumi.export("backup_vault_arn", backups.vault.arn)
pulumi.export("backup_copy_vault_arn", backups.copy_vault.arn)
pulumi.export("trail_arn", trail.trail.arn)
pulumi.export("trail_bucket", trail.bucket.name)
pulumi.export("guardduty_detector_id", detection.detector.id)
