"""Aurora Auto Scaling of the readers: an Application Auto Scaling target on `rds:cluster:ReadReplicaCount`
and a target-tracking policy on reader CPU or connections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.resilience import ReaderAutoscalingSettings

METRICS = {"cpu": "RDSReaderAverageCPUUtilization", "connections": "RDSReaderAverageDatabaseConnections"}
"""Predefined metrics of `rds:cluster:ReadReplicaCount` (Application Auto Scaling API reference,
PredefinedMetricSpecification)."""



@dataclass(frozen=True)
class ReaderAutoscalingArgs:
    """Arguments of `ReaderAutoscaling`."""

    settings: ReaderAutoscalingSettings
    """The stack's `resilience.reader_autoscaling` settings."""
    cluster_identifier: pulumi.Input[str]
    """The Aurora cluster whose readers scale."""
    readers: Sequence[pulumi.Resource]
    """The readers the program declares (`database.reader_count`): registration waits for them (Aurora scales
    a cluster only once a reader is available), and their number is the target's minimum, since they count
    towards ReadReplicaCount and Aurora Auto Scaling only removes readers it added."""


class ReaderAutoscaling(pulumi.ComponentResource):
    """Readers between `database.reader_count` and `max_readers`, tracking the average reader metric.

    Added readers take the writer's instance class, promotion tier 15 (last to be promoted) and sit
    behind the proxy's READ_ONLY endpoint like the fixed ones. They are not in Pulumi's state: destroying
    the cluster fails with InvalidDBClusterStateFault while they exist (`python -m ops readers STACK
    scale-in` removes them first; docs/resilience.md). Registering the target creates the service-linked
    role AWSServiceRoleForApplicationAutoScaling_RDSCluster in a new account (the deployer needs
    iam:CreateServiceLinkedRole for it).

    Cost: each added reader is billed like a fixed one, per instance-hour, while it exists.
    """

    target: aws.appautoscaling.Target
    policy: aws.appautoscaling.Policy

    def __init__(self, name: str, args: ReaderAutoscalingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:data:ReaderAutoscaling", name, None, opts)
        s = args.settings
        self.target = aws.appautoscaling.Target(
            f"{name}-target",
            service_namespace="rds",
            scalable_dimension="rds:cluster:ReadReplicaCount",
            resource_id=pulumi.Output.concat("cluster:", args.cluster_identifier),
            min_capacity=len(args.readers),
            max_capacity=s.max_readers,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(args.readers)),
        )
        self.policy = aws.appautoscaling.Policy(
            f"{name}-policy",
            policy_type="TargetTrackingScaling",
            service_namespace=self.target.service_namespace,
            scalable_dimension=self.target.scalable_dimension,
            resource_id=self.target.resource_id,
            target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type=METRICS[s.metric]),
                target_value=s.target_value,
                scale_in_cooldown=s.scale_in_cooldown_seconds,
                scale_out_cooldown=s.scale_out_cooldown_seconds,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"resource_id": self.target.resource_id})
