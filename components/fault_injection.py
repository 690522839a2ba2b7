"""AWS FIS experiment templates for the platform's drills, their role and their encrypted log group.

Which actions, and why (docs/resilience.md has the long form):

* `ecs-stop-tasks`: `aws:ecs:stop-task` on a share of the backend service's tasks. It needs no change to
  the running service: the `aws:ecs:task-*` actions (CPU stress, network latency/blackhole) would need
  `enableFaultInjection` on the task definition, an SSM agent sidecar registering each task as a managed
  instance with its own IAM role, and ECS Exec turned off (FIS user guide, "Use the AWS FIS aws:ecs:task
  actions"), i.e. a new task definition and a rollout of prod for a drill.
* `aurora-failover`: `aws:rds:failover-db-cluster` on this stack's cluster (a reader is promoted).
* `cache-az-power`: `aws:elasticache:replicationgroup-interrupt-az-power` on the replication group's
  nodes in one AZ; when that AZ holds the primary, ElastiCache fails over to a replica. Declared only when
  the cache has replicas (Multi-AZ with automatic failover): the action needs Multi-AZ.
* `az-network-disruption`: Fargate has no AZ-impairment action, so the app and data subnets of one AZ
  are cut off with `aws:network:disrupt-connectivity` (FIS swaps in a deny-all network ACL it tags
  `managedByFIS`), the service's tasks in that AZ are stopped with `aws:ecs:stop-task` filtered on their
  `AvailabilityZone`, as the aws-samples/fis-template-library AZ-impairment templates do, and, as AWS's
  "AZ Availability: Power Interruption" scenario does, the Aurora cluster fails over when its writer is
  in that AZ (`aws:rds:failover-db-cluster`, target parameter `writerAvailabilityZoneIdentifiers`) and
  the cache's nodes there lose power. Swapping a subnet's network ACL does not make Aurora fail over
  (the scenario adds the failover action for that reason): without it the writer would stay in the
  cut-off AZ and every write would fail for the whole disruption.

Targets, per FIS's rules for each type (FIS user guide, "Targets for AWS FIS"): ARNs for the subnets and
for the cluster of `aurora-failover`; the service's `cluster`/`service` parameters (and a PascalCase
`AvailabilityZone` filter) for tasks; for the replication group, and the cluster when the AZ parameter
selects its writer, the tag `FIS_TARGET_TAG` this program sets on them: FIS refuses ARNs for
`aws:elasticache:replicationgroup` and refuses ARNs together with target parameters. Every template stops
on the user-facing paging alarms and logs to a KMS-encrypted log group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, policy_json
from stacks.resilience import EXPERIMENT_TAG, FIS_TARGET_TAG, FaultInjectionSettings, fis_target

MAX_STOP_CONDITIONS = 5
"""Stop conditions per experiment template (FIS quota "Stop conditions per experiment template", not
adjustable; AWS FIS user guide, Quotas and limitations)."""


@dataclass(frozen=True)
class FaultInjectionArgs:
    """Arguments of `FaultInjection`."""

    settings: FaultInjectionSettings
    """The stack's `resilience.fault_injection` settings."""
    context: AwsContext
    """Account/region/partition, for the ARNs the role is scoped to."""
    logs_key_arn: pulumi.Input[str]
    """KMS key of the experiments' log group."""
    ecs_cluster_name: pulumi.Input[str]
    """The backend's ECS cluster."""
    ecs_service_name: pulumi.Input[str]
    """The backend's ECS service, whose tasks the ECS drills stop."""
    db_cluster_arn: pulumi.Input[str]
    """The Aurora cluster `aurora-failover` fails over."""
    cache_arn: pulumi.Input[str]
    """The ElastiCache replication group `cache-az-power` interrupts (IAM scope; FIS finds it by its
    `FIS_TARGET_TAG`, which components/redis.py sets)."""
    cache_multi_az: bool
    """The cache has replicas with Multi-AZ and automatic failover; without, no cache action is declared
    (interrupt-az-power needs Multi-AZ, and a single node has nothing to fail over to)."""
    vpc_id: pulumi.Input[str]
    """VPC of the subnets (FIS creates its deny-all network ACL in it)."""
    zone_name: pulumi.Input[str]
    """Name of the AZ the zonal drills impair (e.g. eu-west-1a)."""
    zone_subnet_ids: Sequence[pulumi.Input[str]]
    """The app and data subnets in that AZ, which `az-network-disruption` cuts off."""
    stop_alarm_arns: Sequence[pulumi.Input[str]]
    """The paging alarms every template stops on; at most `MAX_STOP_CONDITIONS`."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra tags on each template. Default none."""


class FaultInjection(pulumi.ComponentResource):
    """The drills' experiment templates (one per name in `EXPERIMENTS`), their role and log group.

    Cost: templates are free; an experiment costs per action-minute (FIS pricing) plus what it does
    (a failover drops connections for ~30 s; replaced tasks are billed as usual).
    """

    templates: dict[str, aws.fis.ExperimentTemplate]
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup

    def __init__(self, name: str, args: FaultInjectionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:resilience:FaultInjection", name, None, opts)
        if not 1 <= len(args.stop_alarm_arns) <= MAX_STOP_CONDITIONS:
            raise ValueError(f"FaultInjection needs 1-{MAX_STOP_CONDITIONS} stop alarms, got {len(args.stop_alarm_arns)}")
        stack = pulumi.get_stack()
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings
        # Under /aws/vendedlogs/ so the log delivery policy below covers it (CloudWatch Logs user guide,
        # "Enabling logging from AWS services": resource policies are limited to 10 per region).
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/aws/vendedlogs/fis/floyo-{stack}", retention_in_days=s.log_retention_days,
            kms_key_id=args.logs_key_arn, opts=child,
        )
        delivery_policy = aws.cloudwatch.LogResourcePolicy(
            f"{name}-log-delivery",
            policy_name=f"floyo-{stack}-fis-log-delivery",
            policy_document=policy_json([{
                "Sid": "FisLogDelivery", "Effect": "Allow",
                "Principal": {"Service": "delivery.logs.amazonaws.com"},
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": pulumi.Output.concat(self.log_group.arn, ":log-stream:*"),
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": args.context.account_id},
                    "ArnLike": {"aws:SourceArn": pulumi.Output.concat(
                        "arn:", args.context.partition, ":logs:", args.context.region, ":",
                        args.context.account_id, ":*")},
                },
            }]),
            opts=child,
        )
        self.role = aws.iam.Role(
            f"{name}-role",
            description=f"floyo {stack}: AWS FIS experiments on this stack's resources",
            assume_role_policy=_fis_trust(args.context),
            opts=child,
        )
        role_policy = aws.iam.RolePolicy(
            f"{name}-role", role=self.role.id, policy=policy_json(fis_statements(args)), opts=child)
        ready = pulumi.ResourceOptions(parent=self, depends_on=[role_policy, delivery_policy])
        self.templates = {
            key: aws.fis.ExperimentTemplate(
                f"{name}-{key}",
                description=description,
                role_arn=self.role.arn,
                stop_conditions=[
                    aws.fis.ExperimentTemplateStopConditionArgs(source="aws:cloudwatch:alarm", value=arn)
                    for arn in args.stop_alarm_arns
                ],
                targets=targets,
                actions=actions,
                log_configuration=aws.fis.ExperimentTemplateLogConfigurationArgs(
                    log_schema_version=2,
                    cloudwatch_logs_configuration=aws.fis.ExperimentTemplateLogConfigurationCloudwatchLogsConfigurationArgs(
                        # FIS wants the group's ARN with the `:*` suffix (aws-samples templates, CreateExperimentTemplate)
                        log_group_arn=pulumi.Output.concat(self.log_group.arn, ":*")),
                ),
                experiment_options=aws.fis.ExperimentTemplateExperimentOptionsArgs(
                    account_targeting="single-account", empty_target_resolution_mode=empty_mode(key)),
                tags={"Name": f"floyo-{stack}-{key}", "floyo:stack": stack, EXPERIMENT_TAG: key, **args.tags},
                opts=ready,
            )
            for key, (description, targets, actions) in _experiments(args).items()
        }
        self.register_outputs({"templates": {k: t.id for k, t in self.templates.items()}})


def empty_mode(experiment: str) -> str:
    """`emptyTargetResolutionMode` of an experiment (a template-wide option, not a per-target one: FIS
    API, ExperimentTemplateExperimentOptions). `skip` for `az-network-disruption`: the writer, the cache's
    nodes and the tasks are in the drill AZ only some of the time (a failover moves the writer; dev runs
    one task in one of its AZs), so with `fail` the drill would fail whenever one of them is elsewhere.
    Its subnet target always resolves, and `ops drill` reports each action's state, a skipped one
    included. `fail` elsewhere: those drills mean nothing on an empty target."""
    return "skip" if experiment == "az-network-disruption" else "fail"


def _fis_trust(context: AwsContext) -> pulumi.Output[str]:
    """FIS may assume the role for experiments in this account only (FIS user guide, "IAM roles for AWS FIS
    experiments": aws:SourceAccount and aws:SourceArn against the confused deputy)."""
    return policy_json([{
        "Effect": "Allow", "Principal": {"Service": "fis.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": context.account_id},
            "ArnLike": {"aws:SourceArn": pulumi.Output.concat(
                "arn:", context.partition, ":fis:", context.region, ":", context.account_id, ":experiment/*")},
        },
    }])


def _duration(minutes: int) -> str:
    return f"PT{minutes}M"


def _experiments(args: FaultInjectionArgs) -> dict[str, tuple[str, list[Any], list[Any]]]:
    """Experiment name -> (description, targets, actions)."""
    s = args.settings
    stack = pulumi.get_stack()
    tasks = {"cluster": args.ecs_cluster_name, "service": args.ecs_service_name}
    target = aws.fis.ExperimentTemplateTargetArgs
    action = aws.fis.ExperimentTemplateActionArgs
    act_target = aws.fis.ExperimentTemplateActionTargetArgs
    param = aws.fis.ExperimentTemplateActionParameterArgs
    tag = aws.fis.ExperimentTemplateTargetResourceTagArgs
    power = [param(key="duration", value=_duration(s.disruption_minutes))]
    # FIS refuses ARNs for this type ("Tags are required"; aws-samples/fis-template-library
    # elasticache-az-power-interruption selects by tag) and needs the AZ parameter.
    cache_target = target(name="cache", resource_type="aws:elasticache:replicationgroup", selection_mode="ALL",
                          resource_tags=[tag(key=FIS_TARGET_TAG, value=fis_target(stack, "cache"))],
                          parameters={"availabilityZoneIdentifier": args.zone_name})
    cache_power = action(name="interrupt-az-power", action_id="aws:elasticache:replicationgroup-interrupt-az-power",
                         parameters=power, target=act_target(key="ReplicationGroups", value="cache"))
    experiments: dict[str, tuple[str, list[Any], list[Any]]] = {
        "ecs-stop-tasks": (
            f"Stop {s.stop_task_percent}% of the backend's tasks; the service replaces them",
            [target(name="backend-tasks", resource_type="aws:ecs:task", selection_mode=f"PERCENT({s.stop_task_percent})",
                    parameters=tasks)],
            [action(name="stop-tasks", action_id="aws:ecs:stop-task", target=act_target(key="Tasks", value="backend-tasks"))],
        ),
        "aurora-failover": (
            "Fail over the Aurora cluster: a reader becomes the writer",
            [target(name="cluster", resource_type="aws:rds:cluster", selection_mode="ALL",
                    resource_arns=[args.db_cluster_arn])],
            [action(name="failover", action_id="aws:rds:failover-db-cluster",
                    target=act_target(key="Clusters", value="cluster"))],
        ),
    }
    if args.cache_multi_az:
        experiments["cache-az-power"] = (
            f"Cut power to the cache's nodes in {s.disruption_minutes} min in the drill AZ (fails over the primary there)",
            [cache_target], [cache_power],
        )
    experiments["az-network-disruption"] = (
        f"Cut one AZ's app and data subnets off for {s.disruption_minutes} min; stop its tasks, fail over a writer "
        "there" + (", cut its cache nodes' power" if args.cache_multi_az else ""),
        [
            target(name="zone-subnets", resource_type="aws:ec2:subnet", selection_mode="ALL",
                   resource_arns=[_subnet_arn(args.context, sid) for sid in args.zone_subnet_ids]),
            # Filter paths are PascalCase (FIS targets guide, "Resource filters"; AWS's "AZ: Application
            # Slowdown" scenario filters aws:ecs:task on "AvailabilityZone").
            target(name="zone-tasks", resource_type="aws:ecs:task", selection_mode="ALL", parameters=tasks,
                   filters=[aws.fis.ExperimentTemplateTargetFilterArgs(
                       path="AvailabilityZone", values=[args.zone_name])]),
            # The writer only if it is in the drill AZ (target parameter writerAvailabilityZoneIdentifiers,
            # FIS targets guide "Resource parameters"); by tag, as FIS refuses ARNs with parameters.
            target(name="zone-writer", resource_type="aws:rds:cluster", selection_mode="ALL",
                   resource_tags=[tag(key=FIS_TARGET_TAG, value=fis_target(stack, "db"))],
                   parameters={"writerAvailabilityZoneIdentifiers": args.zone_name}),
            *([cache_target] if args.cache_multi_az else []),
        ],
        [
            action(name="disrupt-subnets", action_id="aws:network:disrupt-connectivity",
                   parameters=[param(key="duration", value=_duration(s.disruption_minutes)),
                               param(key="scope", value="all")],
                   target=act_target(key="Subnets", value="zone-subnets")),
            action(name="stop-zone-tasks", action_id="aws:ecs:stop-task",
                   target=act_target(key="Tasks", value="zone-tasks")),
            action(name="failover-zone-writer", action_id="aws:rds:failover-db-cluster",
                   target=act_target(key="Clusters", value="zone-writer")),
            *([cache_power] if args.cache_multi_az else []),
        ],
    )
    return experiments


def _arn(context: AwsContext, service: str, resource: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat(
        "arn:", context.partition, ":", service, ":", context.region, ":", context.account_id, ":", resource)


def _subnet_arn(context: AwsContext, subnet_id: pulumi.Input[str]) -> pulumi.Output[str]:
    return _arn(context, "ec2", pulumi.Output.concat("subnet/", subnet_id))


def fis_statements(args: FaultInjectionArgs) -> list[dict[str, Any]]:
    """The experiment role's permissions: exactly the calls the four experiments make, on this stack's
    resources. Taken from the AWS managed policies AWSFaultInjectionSimulatorECSAccess, ...RDSAccess,
    ...NetworkAccess and the ElastiCache action's listed permissions (FIS actions reference), narrowed
    from `*` to the ARNs this program declares."""
    ctx = args.context
    tasks_arn = _arn(ctx, "ecs", pulumi.Output.concat("task/", args.ecs_cluster_name, "/*"))
    cluster_arn = _arn(ctx, "ecs", pulumi.Output.concat("cluster/", args.ecs_cluster_name))
    fis_tag = {"managedByFIS": "true"}
    acl_arn = _arn(ctx, "ec2", "network-acl/*")
    return [
        {"Sid": "EcsStopServiceTasks", "Effect": "Allow", "Action": ["ecs:DescribeTasks", "ecs:StopTask"],
         "Resource": tasks_arn},
        # ListTasks is authorised on container instances; the cluster condition narrows it to ours.
        {"Sid": "EcsListServiceTasks", "Effect": "Allow", "Action": "ecs:ListTasks", "Resource": "*",
         "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}}},
        {"Sid": "AuroraFailover", "Effect": "Allow", "Action": "rds:FailoverDBCluster", "Resource": args.db_cluster_arn},
        # FIS resolves targets by tag and may list clusters and replication groups rather than describe ours by
        # identifier (a list call is authorised on `cluster:*` / `replicationgroup:*`): read-only, this account
        # and region only (docs/resilience.md, "What could not be verified").
        {"Sid": "ResolveClustersAndCaches", "Effect": "Allow",
         "Action": ["rds:DescribeDBClusters", "elasticache:DescribeReplicationGroups"],
         "Resource": [_arn(ctx, "rds", "cluster:*"), _arn(ctx, "elasticache", "replicationgroup:*")]},
        # writerAvailabilityZoneIdentifiers: the writer's AZ is an instance attribute (DescribeDBInstances,
        # which AWSFaultInjectionSimulatorRDSAccess grants); read-only, on this account's and region's instances.
        {"Sid": "AuroraWriterZone", "Effect": "Allow", "Action": "rds:DescribeDBInstances",
         "Resource": _arn(ctx, "rds", "db:*")},
        {"Sid": "CacheAzPower", "Effect": "Allow",
         "Action": "elasticache:InterruptClusterAzPower", "Resource": args.cache_arn},
        # Every FIS managed policy grants it: FIS resolves targets through the Resource Groups Tagging API.
        {"Sid": "ResolveTargets", "Effect": "Allow", "Action": "tag:GetResources", "Resource": "*"},
        {"Sid": "NetworkDescribe", "Effect": "Allow",
         "Action": ["ec2:DescribeNetworkAcls", "ec2:DescribeSubnets", "ec2:DescribeVpcs", "ec2:DescribeManagedPrefixLists"],
         "Resource": "*"},  # Describe* calls take no resource ARN
        {"Sid": "NetworkCreateFisAcl", "Effect": "Allow", "Action": "ec2:CreateNetworkAcl",
         "Resource": acl_arn, "Condition": {"StringEquals": {f"aws:RequestTag/{k}": v for k, v in fis_tag.items()}}},
        {"Sid": "NetworkCreateAclInVpc", "Effect": "Allow", "Action": "ec2:CreateNetworkAcl",
         "Resource": _arn(ctx, "ec2", pulumi.Output.concat("vpc/", args.vpc_id))},
        {"Sid": "NetworkTagFisAcl", "Effect": "Allow", "Action": "ec2:CreateTags", "Resource": acl_arn,
         "Condition": {"StringEquals": {"ec2:CreateAction": "CreateNetworkAcl",
                                        **{f"aws:RequestTag/{k}": v for k, v in fis_tag.items()}}}},
        {"Sid": "NetworkEditFisAcl", "Effect": "Allow",
         "Action": ["ec2:CreateNetworkAclEntry", "ec2:DeleteNetworkAcl"], "Resource": acl_arn,
         "Condition": {"StringEquals": {f"ec2:ResourceTag/{k}": v for k, v in fis_tag.items()}}},
        {"Sid": "NetworkSwapAcl", "Effect": "Allow", "Action": "ec2:ReplaceNetworkAclAssociation",
         "Resource": [acl_arn, *[_subnet_arn(ctx, sid) for sid in args.zone_subnet_ids]]},
        {"Sid": "NetworkPrefixLists", "Effect": "Allow", "Action": "ec2:GetManagedPrefixListEntries",
         "Resource": _arn(ctx, "ec2", "prefix-list/*")},
        # Vended-log delivery to the encrypted group: these calls have no resource-level permissions
        # (Service Authorization Reference, CloudWatch Logs) and are what FIS's experiment logging needs.
        {"Sid": "ExperimentLogDelivery", "Effect": "Allow",
         "Action": ["logs:CreateLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
                    "logs:DescribeLogGroups"],
         "Resource": "*"},
    ]
