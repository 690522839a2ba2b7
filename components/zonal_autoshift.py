"""ARC zonal autoshift on the load balancer, with practice runs outside the release windows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.resilience import ZonalAutoshiftSettings


@dataclass(frozen=True)
class ZonalAutoshiftArgs:
    """Arguments of `ZonalAutoshift`."""

    settings: ZonalAutoshiftSettings
    """The stack's `resilience.zonal_autoshift` settings."""
    load_balancer_arn: pulumi.Input[str]
    """The ALB, with its `zonal_shift.config.enabled` attribute on (LoadBalancerArgs.zonal_shift)."""
    outcome_alarm_arns: Sequence[pulumi.Input[str]]
    """Alarms ARC watches during a practice run; one in ALARM ends it as failed. Also its blocking
    alarms: a practice run does not start while the service already pages."""


class ZonalAutoshift(pulumi.ComponentResource):
    """Lets AWS shift the ALB's traffic away from an AZ it sees impaired, and rehearse it weekly.

    A practice run shifts traffic away from one AZ for about 30 minutes (ARC developer guide, "Practice
    runs for zonal autoshift"), so the other AZs must carry the load: the backend runs at least one task
    per AZ beyond that (`backend.min_tasks`). The ALB keeps cross-zone load balancing on (its default):
    with it on, a zonal shift removes the AZ's ALB node from DNS *and* stops routing to targets in that
    AZ (ELB user guide, "Zonal shift for your Application Load Balancer"). A practice run during a
    gradual ECS deployment would overlap its bake time and could trip its rollback alarms; the blocked
    windows keep practice runs out of the release windows. Creating the configuration creates the
    service-linked role AWSServiceRoleForZonalAutoshiftPracticeRun in a new account.
    """

    configuration: aws.arczonalshift.ZonalAutoshiftConfiguration

    def __init__(self, name: str, args: ZonalAutoshiftArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:edge:ZonalAutoshift", name, None, opts)
        s = args.settings
        self.configuration = aws.arczonalshift.ZonalAutoshiftConfiguration(
            f"{name}-config",
            resource_arn=args.load_balancer_arn,
            zonal_autoshift_status="ENABLED",
            outcome_alarms=[aws.arczonalshift.ZonalAutoshiftConfigurationOutcomeAlarmArgs(
                alarm_identifier=arn, type="CLOUDWATCH") for arn in args.outcome_alarm_arns],
            blocking_alarms=[aws.arczonalshift.ZonalAutoshiftConfigurationBlockingAlarmArgs(
                alarm_identifier=arn, type="CLOUDWATCH") for arn in args.outcome_alarm_arns],
            blocked_windows=list(s.blocked_windows) or None,
            blocked_dates=list(s.blocked_dates) or None,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"resource_arn": self.configuration.resource_arn})
