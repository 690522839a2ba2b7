"""The public Application Load Balancer: HTTPS listener, redirect, target group, access logs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, assume_role_policy, policy_json
from stacks.backend import BackendSettings

TEST_TRAFFIC_HEADER = "X-Floyo-Release-Test"
"""Requests carrying this header (value `1`) reach the new revision while a gradual release is shifting
traffic (ECS points the test listener rule at it before production traffic). Both revisions are the
same, authenticated app: the header selects a version, not a privilege."""

ECS_LOAD_BALANCER_POLICY = "AmazonECSInfrastructureRolePolicyForLoadBalancers"
"""AWS managed policy for the role ECS assumes to move traffic between the two target groups
(ModifyListener/ModifyRule, Register/DeregisterTargets, Describe*). Kept managed: AWS updates its action
list as ECS's traffic shifting evolves; a hand-written list that missed an action would fail a release
half-way through a shift."""


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
    zonal_shift: bool = False
    """The ALB attribute `zonal_shift.config.enabled`: lets ARC (zonal shift, autoshift) move traffic away
    from one AZ. An attribute change in place, no replacement. With it the client keepalive is 300 s (else
    ELB's default 3600 s), so a shift is not held back by hour-long connections. Default false; prod's
    autoshift sets it."""
    trust_store_arn: pulumi.Input[str] | None = None
    """With it, the HTTPS listener verifies client certificates against this trust store (mutual TLS
    `verify`: the origin lock, docs/origin-lock.md); without it, mutual TLS is `off`. Default none."""
    listener_depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before the HTTPS listener is created or changed: with a trust store, Cloudflare's
    per-hostname certificate associations, so verify never precedes the certificate. Default none."""


@dataclass(frozen=True)
class TrafficShift:
    """What a gradual ECS deployment (CANARY, LINEAR, BLUE_GREEN) needs from the load balancer:
    the service's `load_balancers[].advanced_configuration`."""

    alternate_target_group: aws.lb.TargetGroup
    """The second target group; ECS registers the new revision here, then swaps roles."""
    production_rule: aws.lb.ListenerRule
    """Listener rule forwarding all production traffic; ECS rewrites its weights."""
    test_rule: aws.lb.ListenerRule
    """Listener rule for requests with `TEST_TRAFFIC_HEADER: 1`; ECS points it at the new revision first."""
    role: aws.iam.Role
    """Role ECS assumes to modify the rules and target groups."""
    role_attachment: aws.iam.RolePolicyAttachment
    """Its policy; the service must wait for it (and keep it until the service is gone)."""


def verify_clients(trust_store_arn: pulumi.Input[str] | None) -> aws.lb.ListenerMutualAuthenticationArgs:
    """The HTTPS listener's mutual TLS: `verify` against the trust store, or explicitly `off`. Expired client
    certificates are refused (`ignore_client_certificate_expiry` false: the expiry alarms warn first), and the
    listener does not advertise its CA names. Health checks are unaffected: target health checks go from the
    load balancer to the tasks, and the public checks go through Cloudflare, which presents the certificate.

    Never left out: `mutual_authentication` is Optional+Computed (MaxItems 1) in terraform-provider-aws
    internal/service/elbv2/listener.go, so an absent block keeps whatever the listener last had; only
    `mode = "off"` makes expandMutualAuthenticationAttributes send Mode off and turn verification off.
    (`passthrough` would forward the client certificate to the targets in headers: nothing here reads them.)"""
    if trust_store_arn is None:
        return aws.lb.ListenerMutualAuthenticationArgs(mode="off")
    return aws.lb.ListenerMutualAuthenticationArgs(
        mode="verify", trust_store_arn=trust_store_arn, ignore_client_certificate_expiry=False,
        advertise_trust_store_ca_names="off")


class LoadBalancer(pulumi.ComponentResource):
    """An internet-facing ALB that only speaks HTTPS to clients.

    * HTTPS listener with a TLS 1.2+ policy, forwarding to an IP target group whose
      health check probes the backend's `/health` with explicit thresholds;
    * with `trust_store_arn`: mutual TLS `verify` on the HTTPS listener (the origin lock);
    * HTTP listener that only redirects to HTTPS (301);
    * idle timeout and deregistration delay long enough for WebSockets;
    * invalid headers dropped; deletion protection from settings (on in prod);
    * access logs to a private bucket. ALB log delivery supports only SSE-S3, so this
      one bucket uses S3-managed keys rather than a customer-managed KMS key;
    * for a gradual `backend.deployment` (CANARY, LINEAR, BLUE_GREEN): a second target group with
      the same health check and WebSocket-friendly settings, a production listener rule forwarding
      all paths to the two groups by weight (100/0; ECS shifts the weights, so Pulumi ignores
      them after creation), a test listener rule on `X-Floyo-Release-Test: 1`, and the role ECS
      assumes to modify them.
    """

    lb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    https_listener: aws.lb.Listener
    traffic_shift: TrafficShift | None
    """Set when `backend.deployment.strategy` is gradual; None for ROLLING."""
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
            enable_zonal_shift=args.zonal_shift,
            # A shift moves new connections only; the default client keepalive (3600 s) could hold clients in
            # the impaired AZ for up to an hour (ELB user guide, "Zonal shift for your Application Load Balancer",
            # and ARC's "Limit the time that clients stay connected to your endpoints"); 300 s is our choice.
            client_keep_alive=300 if args.zonal_shift else None,
            enable_deletion_protection=s.deletion_protection,
            access_logs=aws.lb.LoadBalancerAccessLogsArgs(bucket=bucket.bucket, prefix="alb", enabled=True),
            # ELB checks it may write to the bucket when access logs are turned on ("Access Denied for bucket")
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy]),
        )
        self.target_group = self._target_group(f"{name}-tg", args)
        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.lb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=s.tls_policy,
            certificate_arn=args.certificate_arn,
            default_actions=[aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=self.target_group.arn)],
            mutual_authentication=verify_clients(args.trust_store_arn),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.listener_depends_on)),
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
        self.traffic_shift = self._traffic_shift(name, args) if s.deployment.gradual else None
        self.arn_suffix = self.lb.arn_suffix
        self.target_group_arn_suffix = self.target_group.arn_suffix
        self.dns_name = self.lb.dns_name
        self.access_log_bucket = bucket.bucket
        self.register_outputs({"dns_name": self.dns_name, "arn_suffix": self.arn_suffix,
                               "access_log_bucket": self.access_log_bucket})

    def _target_group(self, resource_name: str, args: LoadBalancerArgs) -> aws.lb.TargetGroup:
        """An IP target group probing `/health`, draining slowly enough for WebSockets."""
        s = args.settings
        hc = s.health_check
        return aws.lb.TargetGroup(
            resource_name,
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
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _traffic_shift(self, name: str, args: LoadBalancerArgs) -> TrafficShift:
        child = pulumi.ResourceOptions(parent=self)
        alternate = self._target_group(f"{name}-tg-alt", args)
        weighted = [aws.lb.ListenerRuleActionArgs(
            type="forward",
            forward=aws.lb.ListenerRuleActionForwardArgs(target_groups=[
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=self.target_group.arn, weight=100),
                aws.lb.ListenerRuleActionForwardTargetGroupArgs(arn=alternate.arn, weight=0),
            ]),
        )]
        # ECS rewrites the weights during every release: Pulumi must not put them back (unless
        # `backend.deployment.resend_load_balancers` asks for it once). A replaced target group would
        # leave these rules forwarding to the old one: ops/diff/danger.py flags every target group and rule
        # replacement, and docs/releases.md says what to do.
        owned = args.settings.deployment.ecs_owns_traffic_shift
        shifted = pulumi.ResourceOptions(parent=self, ignore_changes=["actions"] if owned else None)
        test_rule, production_rule = (
            aws.lb.ListenerRule(f"{name}-{label}", listener_arn=self.https_listener.arn, priority=priority,
                                actions=weighted, conditions=[condition], opts=shifted)
            for label, priority, condition in (
                ("test-traffic", 10, aws.lb.ListenerRuleConditionArgs(
                    http_header=aws.lb.ListenerRuleConditionHttpHeaderArgs(
                        http_header_name=TEST_TRAFFIC_HEADER, values=["1"]))),
                ("production", 100, aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=["/*"]))),
            )
        )
        role = aws.iam.Role(
            f"{name}-ecs-traffic", assume_role_policy=assume_role_policy("ecs.amazonaws.com", args.context),
            description="ECS shifts traffic between the backend's two target groups", opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-ecs-traffic", role=role.name,
            policy_arn=pulumi.Output.concat("arn:", args.context.partition, ":iam::aws:policy/", ECS_LOAD_BALANCER_POLICY),
            opts=child,
        )
        return TrafficShift(alternate, production_rule, test_rule, role, attachment)

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
