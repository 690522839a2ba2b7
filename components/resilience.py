"""The resilience tier: fault-injection drills, reader autoscaling and zonal autoshift, wired to the
resources they act on (docs/resilience.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.alarm_catalogue import AlarmSpec
from components.aws_context import AwsContext
from components.fault_injection import MAX_STOP_CONDITIONS, FaultInjection, FaultInjectionArgs
from components.reader_autoscaling import ReaderAutoscaling, ReaderAutoscalingArgs
from components.zonal_autoshift import ZonalAutoshift, ZonalAutoshiftArgs
from stacks.resilience import ResilienceSettings

STOP_TIERS = ("backend", "edge")
"""Stop conditions are what users see (the load balancer's errors and latency, the synthetic check), not
the component a drill breaks on purpose: a failover *should* raise the database's own alarms."""


def stop_alarm_keys(specs: Sequence[AlarmSpec], stack_region: str) -> list[str]:
    """The user-facing alarms in the stack's region a drill stops on, at most `MAX_STOP_CONDITIONS`: those the
    catalogue marks `stops_drills` first (the 5xx rates: the most direct sign a drill hurts users; since the SLO
    burn alerts joined the service-down composite they are tickets, but a drill must stop on them within
    minutes), then members of the service-down composite, then page-severity alarms. Metric alarms only: the SLO
    burn alerts are composites. (The Route 53 health-check alarm lives in us-east-1, which an experiment in
    another region cannot read.)"""
    local = [s for s in specs if s.tier in STOP_TIERS and s.region in (None, stack_region)]
    first = [s for s in local if s.stops_drills]
    ranked = first + [s for s in local if s.service_down] + [s for s in local if s.severity == "page"]
    return list(dict.fromkeys(s.key for s in ranked))[:MAX_STOP_CONDITIONS]


@dataclass(frozen=True)
class ResilienceArgs:
    """Arguments of `Resilience`."""

    settings: ResilienceSettings
    """The stack's `resilience` settings."""
    context: AwsContext
    """Account/region/partition."""
    logs_key_arn: pulumi.Input[str]
    """KMS key of the experiments' log group."""
    stop_alarm_arns: Sequence[pulumi.Input[str]]
    """ARNs of the alarms of `stop_alarm_keys`: stop conditions, and autoshift's outcome/blocking alarms."""
    ecs_cluster_name: pulumi.Input[str]
    ecs_service_name: pulumi.Input[str]
    db_cluster_arn: pulumi.Input[str]
    db_cluster_identifier: pulumi.Input[str]
    fixed_readers: Sequence[pulumi.Resource]
    """The declared reader instances (the autoscaling minimum is their count)."""
    cache_arn: pulumi.Input[str]
    cache_multi_az: bool
    """The cache has replicas with Multi-AZ (its drills are declared only then)."""
    vpc_id: pulumi.Input[str]
    zone_name: pulumi.Input[str]
    """AZ name of `resilience.fault_injection.zone_index`."""
    zone_subnet_ids: Sequence[pulumi.Input[str]]
    """The private and isolated subnets of that AZ."""
    load_balancer_arn: pulumi.Input[str]


class Resilience(pulumi.ComponentResource):
    """What the `resilience` settings turn on; each part is skipped when its `enabled` is false."""

    fault_injection: FaultInjection | None
    reader_autoscaling: ReaderAutoscaling | None
    zonal_autoshift: ZonalAutoshift | None

    def __init__(self, name: str, args: ResilienceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:resilience:Resilience", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.fault_injection = FaultInjection(f"{name}-fis", FaultInjectionArgs(
            settings=s.fault_injection, context=args.context, logs_key_arn=args.logs_key_arn,
            ecs_cluster_name=args.ecs_cluster_name, ecs_service_name=args.ecs_service_name,
            db_cluster_arn=args.db_cluster_arn, cache_arn=args.cache_arn, cache_multi_az=args.cache_multi_az,
            vpc_id=args.vpc_id,
            zone_name=args.zone_name, zone_subnet_ids=args.zone_subnet_ids, stop_alarm_arns=args.stop_alarm_arns,
        ), opts=child) if s.fault_injection.enabled else None
        self.reader_autoscaling = ReaderAutoscaling(f"{name}-readers", ReaderAutoscalingArgs(
            settings=s.reader_autoscaling, cluster_identifier=args.db_cluster_identifier,
            readers=args.fixed_readers,
        ), opts=child) if s.reader_autoscaling.enabled else None
        self.zonal_autoshift = ZonalAutoshift(f"{name}-autoshift", ZonalAutoshiftArgs(
            settings=s.zonal_autoshift, load_balancer_arn=args.load_balancer_arn,
            outcome_alarm_arns=args.stop_alarm_arns,
        ), opts=child) if s.zonal_autoshift.enabled else None
        self.register_outputs({})
