"""A CloudWatch Synthetics canary calling the API through Cloudflare: the release gate's signal."""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, assume_role_policy, policy_json
from stacks.synthetics import SyntheticsSettings

SCRIPT = Path(__file__).with_name("canary_script.js")
"""The canary's code (Node.js; `exports.handler`)."""
HANDLER = "canary.handler"
"""Node.js Synthetics runtimes load the handler from `nodejs/node_modules/<file>.js`."""
ZIP_ENTRY = "nodejs/node_modules/canary.js"
MAX_NAME = 21
"""Longest canary name the provider accepts (terraform-provider-aws synthetics/canary.go: 1-21, [0-9a-z_-])."""
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
"""Every zip entry's timestamp: the same script gives the same bytes, so the same path and no diff."""


def canary_name_for(stack: str) -> str:
    """`floyo-<stack>-api` where it fits the provider's 21 characters (`^[0-9a-z_-]{1,21}$`); a longer stack
    name is cut and suffixed with a hash of the whole name, so every stack name the settings accept gets a
    stable canary name that no other stack shares."""
    full = f"floyo-{stack}-api"
    if len(full) <= MAX_NAME:
        return full
    return f"{stack[:MAX_NAME - 7]}-{hashlib.sha256(stack.encode()).hexdigest()[:6]}"


def package(script: bytes, directory: Path | None = None) -> Path:
    """Zip the script deterministically; the file is named by its content hash, so a changed script is
    a changed `zip_file` (the provider diffs the path, not the bytes) and an unchanged one is no diff."""
    info = zipfile.ZipInfo(ZIP_ENTRY, date_time=FIXED_TIME)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    target_dir = directory or Path(tempfile.gettempdir()) / "floyo-synthetics"
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / f"canary-{hashlib.sha256(script).hexdigest()[:16]}.zip"
    if not path.exists():
        partial = path.with_suffix(".tmp")
        with zipfile.ZipFile(partial, "w") as archive:
            archive.writestr(info, script)
        partial.replace(path)
    return path


def schedule_expression(minutes: int) -> str:
    """Synthetics' rate expression (`rate(1 minute)` is singular)."""
    return f"rate({minutes} minute{'s' if minutes != 1 else ''})"


@dataclass(frozen=True)
class SyntheticCheckArgs:
    """Arguments of `SyntheticCheck`."""

    settings: SyntheticsSettings
    """`monitoring.synthetics`."""
    context: AwsContext
    """Account/region/partition (IAM resources)."""
    host: str
    """Public API host, reached through Cloudflare (`cdn.api_host`)."""
    health_path: str
    """Path of the health endpoint (`cdn.health_check.path`)."""
    key_arn: pulumi.Input[str]
    """Customer-managed KMS key for the artifacts (the key policy delegates to IAM; the canary's role
    gets GenerateDataKey/Decrypt through S3 only)."""
    protect: bool = False
    """Pulumi `protect` on the artifacts bucket. Default false; prod passes true."""


class SyntheticCheck(pulumi.ComponentResource):
    """`floyo-<stack>-api`: every `interval_minutes` from the stack's region, three steps through
    Cloudflare: GET /health (200), GET `api_path` (2xx), a WebSocket upgrade on `websocket_path` (101).

    * the script (`canary_script.js`) is zipped deterministically by the program and passed as
      `zip_file`; the runtime version is pinned in settings;
    * artifacts go to a private bucket encrypted with the CMK (SSE-KMS, also `artifact_config`),
      TLS-only, expiring after `artifact_retention_days`;
    * its role writes only that bucket, its own Lambda log groups (`/aws/lambda/cwsyn-<name>-*`)
      and `CloudWatchSynthetics` metrics.

    Cost: one canary run is billed per run (every 5 minutes: ~8,640 runs a month) plus the Lambda.
    """

    canary: aws.synthetics.Canary
    canary_name: pulumi.Output[str]
    bucket: aws.s3.Bucket

    def __init__(self, name: str, args: SyntheticCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:monitoring:SyntheticCheck", name, None, opts)
        s = args.settings
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        canary_name = canary_name_for(pulumi.get_stack())
        self.bucket, bucket_ready = self._bucket(name, args)
        role = aws.iam.Role(f"{name}-role", assume_role_policy=assume_role_policy("lambda.amazonaws.com", ctx),
                            opts=child)
        lambda_logs = pulumi.Output.concat("arn:", ctx.partition, ":logs:", ctx.region, ":", ctx.account_id,
                                           ":log-group:/aws/lambda/cwsyn-", canary_name, "-*")
        role_policy = aws.iam.RolePolicy(f"{name}-role", role=role.id, policy=policy_json([
            {"Sid": "WriteArtifacts", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"],
             "Resource": pulumi.Output.concat(self.bucket.arn, "/canary/*")},
            {"Sid": "FindBucket", "Effect": "Allow", "Action": "s3:GetBucketLocation", "Resource": self.bucket.arn},
            # ListAllMyBuckets takes no resource ARN; the runtime calls it before uploading
            {"Sid": "ListBuckets", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
            {"Sid": "EncryptArtifacts", "Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
             "Resource": args.key_arn,
             "Condition": {"StringEquals": {"kms:ViaService": pulumi.Output.concat("s3.", ctx.region, ".amazonaws.com")}}},
            {"Sid": "WriteLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": [lambda_logs, pulumi.Output.concat(lambda_logs, ":*")]},
            # PutMetricData takes no resource ARN; the namespace condition narrows it
            {"Sid": "PublishMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
             "Condition": {"StringEquals": {"cloudwatch:namespace": "CloudWatchSynthetics"}}},
        ]), opts=child)
        self.canary = aws.synthetics.Canary(
            f"{name}-canary",
            name=canary_name,
            runtime_version=s.runtime_version,
            handler=HANDLER,
            zip_file=str(package(SCRIPT.read_bytes())),
            execution_role_arn=role.arn,
            artifact_s3_location=pulumi.Output.concat("s3://", self.bucket.bucket, "/canary/"),
            artifact_config=aws.synthetics.CanaryArtifactConfigArgs(
                s3_encryption=aws.synthetics.CanaryArtifactConfigS3EncryptionArgs(
                    encryption_mode="SSE_KMS", kms_key_arn=args.key_arn)),
            schedule=aws.synthetics.CanaryScheduleArgs(expression=schedule_expression(s.interval_minutes)),
            run_config=aws.synthetics.CanaryRunConfigArgs(
                timeout_in_seconds=s.timeout_seconds,
                environment_variables={"API_HOST": args.host, "HEALTH_PATH": args.health_path,
                                       "API_PATH": s.api_path, "WEBSOCKET_PATH": s.websocket_path},
            ),
            success_retention_period=s.artifact_retention_days,
            failure_retention_period=s.artifact_retention_days,
            start_canary=True,
            delete_lambda=True,
            # the role may write before the first run; the bucket is private and encrypted first
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role_policy, *bucket_ready]),
        )
        self.canary_name = self.canary.name
        self.register_outputs({"canary_name": self.canary_name, "bucket": self.bucket.bucket})

    def _bucket(self, name: str, args: SyntheticCheckArgs) -> tuple[aws.s3.Bucket, list[pulumi.Resource]]:
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-artifacts", bucket_prefix=f"floyo-{pulumi.get_stack()}-canary-", force_destroy=not args.protect,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        ready: list[pulumi.Resource] = [
            aws.s3.BucketPublicAccessBlock(
                f"{name}-artifacts", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
                ignore_public_acls=True, restrict_public_buckets=True, opts=child),
            aws.s3.BucketOwnershipControls(
                f"{name}-artifacts", bucket=bucket.id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=child),
            aws.s3.BucketServerSideEncryptionConfiguration(
                f"{name}-artifacts", bucket=bucket.id,
                rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    bucket_key_enabled=True,
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=args.key_arn),
                )], opts=child),
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-artifacts", bucket=bucket.id,
                rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-canary-artifacts", status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                        days=args.settings.artifact_retention_days),
                )], opts=child),
            aws.s3.BucketPolicy(
                f"{name}-artifacts", bucket=bucket.id,
                policy=policy_json([{
                    "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                    "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]),
                opts=child),
        ]
        return bucket, ready
