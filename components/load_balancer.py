"""The public Application Load Balancer: HTTPS listener, redirect, target group, access logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, policy_json
from stacks.backend import BackendSettings


@dataclass(frozen=True)
class LoadBalancerArgs:
    """Arguments of `LoadBalancer`."""

    settings: BackendSettings
    """The stack's `backend` settings (health check, timeouts, TLS policy, protection)."""
    context: AwsContext
    """Account/region/partition (for the access-log bucket policy)."""
    vpc_id: pulumi.Input[str]
    """VPC of the target group."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Public subnets, one per AZ."""
    security_group_id: pulumi.Input[str]
    """The load balancer tier's security group."""
    certificate_arn: pulumi.Input[str]
    """Issued ACM certificate for the HTTPS listener."""
    protect: bool = False
    """Pulumi `protect` on the access-log bucket. Default false; prod passes true."""


class LoadBalancer(pulumi.ComponentResource):
    """An internet-facing ALB that only speaks HTTPS to clients.

    * HTTPS listener with a TLS 1.2+ policy, forwarding to an IP target group whose
      health check probes the backend's `/health` with explicit thresholds;
    * HTTP listener that only redirects to HTTPS (301);
    * idle timeout and deregistration delay long enough for WebSockets;
    * invalid headers dropped; deletion protection from settings (on in prod);
    * access logs to a private bucket. ALB log delivery supports only SSE-S3, so this
      one bucket uses S3-managed keys rather than a customer-managed KMS key.
    """

    lb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    https_listener: aws.lb.Listener
    arn_suffix: pulumi.Output[str]
    target_group_arn_suffix: pulumi.Output[str]
    dns_name: pulumi.Output[str]
    access_log_bucket: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:backend:LoadBalancer", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        bucket, bucket_policy = self._access_log_bucket(name, args)
        self.lb = aws.lb.LoadBalancer(
            f"{name}-alb",
            load_balancer_type="application",
            internal=False,
            ip_address_type="ipv4",
            subnets=list(args.subnet_ids),
            security_groups=[args.security_group_id],
            idle_timeout=s.idle_timeout_seconds,
            drop_invalid_header_fields=True,
            desync_mitigation_mode="defensive",
            enable_http2=True,
            enable_deletion_protection=s.deletion_protection,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket.bucket, prefix="alb", enabled=True),
            # ELB checks it may write to the bucket when access logs are turned on ("Access Denied for bucket")
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy]),
        )
        hc = s.health_check
        self.target_group = aws.lb.TargetGroup(
            f"{name}-tg",
            port=s.container_port,
            protocol="HTTP",
            protocol_version="HTTP1",
            target_type="ip",
            vpc_id=args.vpc_id,
            deregistration_delay=s.deregistration_delay_seconds,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                enabled=True,
                path=hc.path,
                port="traffic-port",
                protocol="HTTP",
                matcher="200",
                interval=hc.interval_seconds,
                timeout=hc.timeout_seconds,
                healthy_threshold=hc.healthy_threshold,
                unhealthy_threshold=hc.unhealthy_threshold,
            ),
            opts=child,
        )
        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.lb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=s.tls_policy,
            certificate_arn=args.certificate_arn,
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)],
            opts=child,
        )
        aws.lb.Listener(
            f"{name}-http-redirect",
            load_balancer_arn=self.lb.arn,
            port=80,
            protocol="HTTP",
            default_actions=[aws.lb.ListenerDefaultActionArgs(
                type="redirect",
                redirect=aws.lb.ListenerDefaultActionRedirectArgs(protocol="HTTPS", port="443", status_code="HTTP_301"),
            )],
            opts=child,
        )
        self.arn_suffix = self.lb.arn_suffix
        self.target_group_arn_suffix = self.target_group.arn_suffix
        self.dns_name = self.lb.dns_name
        self.access_log_bucket = bucket.bucket
        self.register_outputs({"dns_name": self.dns_name, "arn_suffix": self.arn_suffix,
                               "access_log_bucket": self.access_log_bucket})

    def _access_log_bucket(self, name: str, args: LoadBalancerArgs) -> tuple[aws.s3.Bucket, aws.s3.BucketPolicy]:
        child = pulumi.ResourceOptions(parent=self)
        bucket = aws.s3.Bucket(
            f"{name}-access-logs", bucket_prefix=f"floyo-{pulumi.get_stack()}-alb-logs-", force_destroy=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-access-logs", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-access-logs", bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"), opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-access-logs", bucket=bucket.id,
            rules=[aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"),
            )],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-access-logs", bucket=bucket.id,
            rules=[aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-access-logs", status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="alb/"),
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.settings.access_log_retention_days),
            )],
            opts=child,
        )
        ctx = args.context
        elb_account = aws.elb.get_service_account_output(opts=pulumi.InvokeOutputOptions(parent=self))
        objects = pulumi.Output.concat(bucket.arn, "/alb/AWSLogs/", ctx.account_id, "/*")
        policy = aws.s3.BucketPolicy(
            f"{name}-access-logs",
            bucket=bucket.id,
            policy=policy_json([
                {"Sid": "ElbAccountDelivers", "Effect": "Allow", "Principal": {"AWS": elb_account.arn},
                 "Action": "s3:PutObject", "Resource": objects},
                {"Sid": "LogDeliveryService", "Effect": "Allow",
                 "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": objects},
                {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
            ]),
            opts=child,
        )
        return bucket, policy
