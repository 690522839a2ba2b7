"""AWS Config: the recorder, its delivery channel to a KMS-encrypted bucket, and a conformance pack."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, assume_role_policy, policy_json
from components.secure_bucket import SecureBucket

CONFIG_ROLE_POLICY = "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
"""AWS managed policy letting Config read the configuration of supported resources."""

CONFORMANCE_RULES: dict[str, str] = {
    "cloudtrail-enabled": "CLOUD_TRAIL_ENABLED",
    "cloudtrail-log-file-validation": "CLOUD_TRAIL_LOG_FILE_VALIDATION_ENABLED",
    "cloudtrail-encrypted": "CLOUD_TRAIL_ENCRYPTION_ENABLED",
    "guardduty-enabled": "GUARDDUTY_ENABLED_CENTRALIZED",
    "securityhub-enabled": "SECURITYHUB_ENABLED",
    "s3-tls-only": "S3_BUCKET_SSL_REQUESTS_ONLY",
    "s3-public-access-blocked": "S3_BUCKET_LEVEL_PUBLIC_ACCESS_PROHIBITED",
    "rds-encrypted": "RDS_STORAGE_ENCRYPTED",
    "rds-deletion-protection": "RDS_CLUSTER_DELETION_PROTECTION_ENABLED",
    "log-groups-encrypted": "CLOUDWATCH_LOG_GROUP_ENCRYPTED",
    "root-no-access-key": "IAM_ROOT_ACCESS_KEY_CHECK",
    "root-mfa": "ROOT_ACCOUNT_MFA_ENABLED",
    "aurora-in-backup-plan": "AURORA_RESOURCES_PROTECTED_BY_BACKUP_PLAN",
}
"""Conformance pack rule name -> AWS managed Config rule identifier: what this account must keep true."""


def conformance_template() -> str:
    """The conformance pack's template (CloudFormation syntax, JSON is YAML), one managed rule each."""
    return json.dumps({"Resources": {
        "".join(part.title() for part in rule.split("-")): {
            "Type": "AWS::Config::ConfigRule",
            "Properties": {"ConfigRuleName": rule, "Source": {"Owner": "AWS", "SourceIdentifier": identifier}},
        } for rule, identifier in CONFORMANCE_RULES.items()
    }}, indent=1)


@dataclass(frozen=True)
class ConfigRecorderArgs:
    """Arguments of `ConfigRecorder`."""

    context: AwsContext
    """Account/region/partition."""
    bucket: SecureBucket
    """Where configuration snapshots and history go."""
    key_arn: pulumi.Input[str]
    """The bucket's KMS key: the delivery channel encrypts with it."""
    record_global_resources: bool = True
    """Record IAM (global) resources here; exactly one region of the account should. Default true."""


class ConfigRecorder(pulumi.ComponentResource):
    """The account's configuration history in this region.

    * a recorder of every supported resource type, through a role with AWS_ConfigRole plus writing to the
      bucket and encrypting with its key;
    * a delivery channel (created after the recorder: Config refuses a channel without one), daily snapshots;
    * the recorder started after the channel exists (Config refuses to start without a channel);
    * a conformance pack of `CONFORMANCE_RULES`, after recording started.
    """

    recorder: aws.cfg.Recorder
    started: aws.cfg.RecorderStatus

    def __init__(self, name: str, args: ConfigRecorderArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:audit:ConfigRecorder", name, None, opts)
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}-role", assume_role_policy=assume_role_policy("config.amazonaws.com", ctx),
                            opts=child)
        read = aws.iam.RolePolicyAttachment(f"{name}-read", role=role.name, policy_arn=CONFIG_ROLE_POLICY,
                                            opts=child)
        role_policy = aws.iam.RolePolicy(f"{name}-deliver", role=role.id, policy=policy_json([
            {"Effect": "Allow", "Action": "s3:GetBucketAcl", "Resource": args.bucket.arn},
            {"Effect": "Allow", "Action": "s3:PutObject",
             "Resource": pulumi.Output.concat(args.bucket.arn, "/AWSLogs/", ctx.account_id, "/Config/*")},
            {"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": args.key_arn},
        ]), opts=child)
        self.recorder = aws.cfg.Recorder(
            f"{name}-recorder", name="floyo-account", role_arn=role.arn,
            recording_group=aws.cfg.RecorderRecordingGroupArgs(
                all_supported=True, include_global_resource_types=args.record_global_resources),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[read], delete_before_replace=True))  # one per region
        channel = aws.cfg.DeliveryChannel(
            f"{name}-channel", name="floyo-account", s3_bucket_name=args.bucket.name, s3_kms_key_arn=args.key_arn,
            snapshot_delivery_properties=aws.cfg.DeliveryChannelSnapshotDeliveryPropertiesArgs(
                delivery_frequency="TwentyFour_Hours"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.recorder, role_policy, args.bucket.policy],
                                        delete_before_replace=True))
        self.started = aws.cfg.RecorderStatus(
            f"{name}-status", name=self.recorder.name, is_enabled=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[channel]))
        aws.cfg.ConformancePack(
            f"{name}-pack", name="floyo-baseline", template_body=conformance_template(),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.started], delete_before_replace=True))
        self.register_outputs({"recorder": self.recorder.name})
