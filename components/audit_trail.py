"""CloudTrail: a multi-region trail to a locked S3 bucket and to CloudWatch Logs, under its own KMS key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, assume_role_policy, policy_json
from components.kms_key import KmsKey, KmsKeyArgs, logs_statement
from components.secure_bucket import LockMode, SecureBucket, SecureBucketArgs
from stacks.baseline import AuditSettings

TRAIL_NAME = "floyo-account-trail"
"""Fixed, so its ARN (which the key and bucket policies name in aws:SourceArn) is known before it exists."""


def trail_arn(ctx: AwsContext) -> pulumi.Output[str]:
    return pulumi.Output.concat("arn:", ctx.partition, ":cloudtrail:", ctx.region, ":", ctx.account_id,
                                ":trail/", TRAIL_NAME)


def cloudtrail_key_statements(ctx: AwsContext) -> list[dict[str, Any]]:
    """What CloudTrail needs on the key ("Configure AWS KMS key policies for CloudTrail"): encrypt log files
    for this account's trails, describe the key, and decrypt (the bucket's S3 Bucket Key), each only on behalf
    of this trail (aws:SourceArn)."""
    source = {"aws:SourceArn": trail_arn(ctx)}
    return [
        {"Sid": "CloudTrailEncryptLogs", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*",
         "Condition": {"StringEquals": source, "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                       pulumi.Output.concat("arn:", ctx.partition, ":cloudtrail:*:", ctx.account_id, ":trail/*")}}},
        {"Sid": "CloudTrailDescribeKey", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:DescribeKey", "Resource": "*", "Condition": {"StringEquals": source}},
        # The trail bucket has an S3 Bucket Key (components/secure_bucket.py, bucket_key_enabled): "If you are
        # using an existing S3 bucket with an S3 Bucket Key, kms:Decrypt permissions are required to create or
        # update a trail with SSE-KMS encryption enabled" (docs.aws.amazon.com/awscloudtrail/latest/userguide/
        # create-kms-key-policy-for-cloudtrail.html, "Required KMS key policy elements for trails").
        {"Sid": "CloudTrailDecryptForBucketKey", "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": source}},
    ]


def cloudtrail_bucket_statements(ctx: AwsContext, bucket_arn: pulumi.Output[str]) -> list[dict[str, Any]]:
    """Bucket-policy statements CloudTrail checks when the trail is created (ACL check, then writes)."""
    source = {"aws:SourceArn": trail_arn(ctx)}
    return [
        {"Sid": "CloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": bucket_arn, "Condition": {"StringEquals": source}},
        {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject",
         "Resource": pulumi.Output.concat(bucket_arn, "/AWSLogs/", ctx.account_id, "/*"),
         "Condition": {"StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]


@dataclass(frozen=True)
class AuditTrailArgs:
    """Arguments of `AuditTrail`."""

    settings: AuditSettings
    """The baseline's `audit` settings (retention, Object Lock days)."""
    context: AwsContext
    """Account/region/partition."""
    lock_mode: LockMode
    """Object Lock mode of the log bucket: GOVERNANCE in dev accounts, COMPLIANCE in prod."""
    protect: bool = False
    """Pulumi `protect` on the key, bucket and log group. Default false; prod passes true."""


class AuditTrail(pulumi.ComponentResource):
    """One multi-region trail of every management event in the account.

    * log file validation (signed digest files), global service events (IAM, STS) included;
    * encrypted with its own KMS key; the key policy lets only this trail use it (aws:SourceArn);
    * delivered to a `SecureBucket` under Object Lock (see `lock_mode`) and to a KMS-encrypted log
      group, written through a role that may only write that group's streams;
    * created after its bucket policy and role policy: CloudTrail checks both when the trail is created.
    """

    trail: aws.cloudtrail.Trail
    bucket: SecureBucket
    log_group: aws.cloudwatch.LogGroup
    key: KmsKey

    def __init__(self, name: str, args: AuditTrailArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:audit:AuditTrail", name, None, opts)
        s, ctx = args.settings, args.context
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        self.key = KmsKey(f"{name}-key", KmsKeyArgs(
            context=ctx, description="floyo account: CloudTrail logs", alias="floyo-account-trail",
            service_statements=[*cloudtrail_key_statements(ctx), logs_statement(ctx)], protect=args.protect,
        ), opts=child)
        self.bucket = SecureBucket(f"{name}-logs", SecureBucketArgs(
            bucket_prefix="floyo-account-trail-", key_arn=self.key.arn, expire_after_days=s.expire_after_days,
            lock_mode=args.lock_mode, lock_days=s.object_retention_days,
            service_statements=lambda arn: cloudtrail_bucket_statements(ctx, arn), protect=args.protect,
        ), opts=child)
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-events", name="/floyo/account/cloudtrail", retention_in_days=s.trail_log_retention_days,
            kms_key_id=self.key.arn, opts=kept)
        role = aws.iam.Role(f"{name}-to-logs", assume_role_policy=assume_role_policy("cloudtrail.amazonaws.com", ctx),
                            opts=child)
        role_policy = aws.iam.RolePolicy(f"{name}-to-logs", role=role.id, policy=policy_json([{
            "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": pulumi.Output.concat(self.log_group.arn, ":log-stream:*")}]), opts=child)
        self.trail = aws.cloudtrail.Trail(
            f"{name}-trail", name=TRAIL_NAME,
            s3_bucket_name=self.bucket.name,
            kms_key_id=self.key.arn,
            is_multi_region_trail=True,
            include_global_service_events=True,
            enable_log_file_validation=True,
            enable_logging=True,
            cloud_watch_logs_group_arn=pulumi.Output.concat(self.log_group.arn, ":*"),
            cloud_watch_logs_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.bucket.policy, role_policy],
                                        delete_before_replace=True),  # fixed name
        )
        self.register_outputs({"trail_arn": self.trail.arn, "bucket": self.bucket.name})
