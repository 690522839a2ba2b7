"""A private, KMS-encrypted, versioned S3 bucket for audit data, optionally under Object Lock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.aws_context import policy_json

LockMode = Literal["GOVERNANCE", "COMPLIANCE"]


@dataclass(frozen=True)
class SecureBucketArgs:
    """Arguments of `SecureBucket`."""

    bucket_prefix: str
    """Prefix of the bucket's name (S3 appends a unique suffix, so a replacement can coexist), <= 37 chars."""
    key_arn: pulumi.Input[str]
    """Customer-managed KMS key for SSE-KMS (with an S3 Bucket Key, fewer KMS calls)."""
    expire_after_days: int | None
    """Days after which current objects are deleted; None keeps current objects (configuration such as a
    trust bundle). Noncurrent versions go 30 days after they became so either way."""
    lock_mode: LockMode | None = None
    """Object Lock default retention mode: GOVERNANCE (removable with s3:BypassGovernanceRetention) or
    COMPLIANCE (nobody can shorten or remove it). Object Lock can only be turned on when the bucket is
    created: changing None to a mode REPLACES the bucket. Default None (no lock)."""
    lock_days: int = 0
    """Object Lock default retention in days; required with `lock_mode`."""
    service_statements: Callable[[pulumi.Output[str]], Sequence[pulumi.Input[dict[str, Any]]]] = (
        lambda arn: [])
    """Extra bucket-policy statements (service principals writing here), given the bucket ARN. Default none."""
    protect: bool = False
    """Pulumi `protect` on the bucket. Default false; prod passes true."""


class SecureBucket(pulumi.ComponentResource):
    """An S3 bucket nothing public can reach.

    * Object Ownership "bucket owner enforced" (ACLs off), all four public-access blocks on;
    * SSE-KMS with the given key and a bucket key; versioning on (Object Lock needs it);
    * a lifecycle: current objects expire after `expire_after_days` (unless None), noncurrent versions 30 days later,
      incomplete multipart uploads after 7 days;
    * a policy that denies any request without TLS, plus the service statements given;
    * optionally Object Lock with a default retention (set at creation, see `lock_mode`);
    * `force_destroy` off: a bucket with objects refuses deletion.

    `policy` is exposed: a service that checks the bucket policy when it is attached (CloudTrail)
    must depend on it.
    """

    bucket: aws.s3.Bucket
    policy: aws.s3.BucketPolicy
    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: SecureBucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:storage:SecureBucket", name, None, opts)
        if args.lock_mode and args.lock_days < 1:
            raise ValueError("lock_days must be >= 1 with a lock_mode")
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = aws.s3.Bucket(
            f"{name}-bucket", bucket_prefix=args.bucket_prefix, force_destroy=False,
            object_lock_enabled=args.lock_mode is not None,  # ForceNew: only at creation
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.name, self.arn = self.bucket.bucket, self.bucket.arn
        ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=self.bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=child)
        block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access", bucket=self.bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse", bucket=self.bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="aws:kms", kms_master_key_id=args.key_arn),
                bucket_key_enabled=True)],
            opts=child)
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle", bucket=self.bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire", status="Enabled", filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.expire_after_days)
                if args.expire_after_days is not None else None,
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=30),
                abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                    days_after_initiation=7),
            )],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]))
        if args.lock_mode:
            aws.s3.BucketObjectLockConfiguration(
                f"{name}-object-lock", bucket=self.bucket.id,
                rule=aws.s3.BucketObjectLockConfigurationRuleArgs(
                    default_retention=aws.s3.BucketObjectLockConfigurationRuleDefaultRetentionArgs(
                        mode=args.lock_mode, days=args.lock_days)),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[versioning]))
        arn = self.bucket.arn
        self.policy = aws.s3.BucketPolicy(
            f"{name}-policy", bucket=self.bucket.id,
            policy=policy_json([
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [arn, pulumi.Output.concat(arn, "/*")],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
                *args.service_statements(arn),
            ]),
            # S3 refuses a policy while "block public policy" is being applied, and checks ownership first
            opts=pulumi.ResourceOptions(parent=self, depends_on=[block, ownership]))
        self.register_outputs({"name": self.name, "arn": self.arn})
