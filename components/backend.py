"""Floyo's FastAPI backend on ECS Fargate: image repository, cluster, task, service, scaling."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, assume_role_policy, policy_json
from stacks.backend import BackendSettings

CONTAINER = "backend"
"""Name of the application container in the task definition."""

ECR_LIFECYCLE = {
    "rules": [
        {"rulePriority": 1, "description": "Drop untagged images after 14 days",
         "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
         "action": {"type": "expire"}},
        {"rulePriority": 2, "description": "Keep the 200 most recent images",
         "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 200},
         "action": {"type": "expire"}},
    ]
}


def secret_resource_arn(value_from: str) -> str:
    """IAM resource of an ECS `valueFrom`: a secret ARN without its `:json-key:stage:version` tail."""
    parts = value_from.split(":")
    if len(parts) > 7 and parts[2] == "secretsmanager":
        return ":".join(parts[:7])
    return value_from


def _secret_statements(arns: Sequence[str]) -> list[dict[str, Any]]:
    """Read access to exactly the named secrets and parameters, nothing else."""
    found = {
        "secretsmanager:GetSecretValue": sorted({a for a in arns if ":secretsmanager:" in a}),
        "ssm:GetParameters": sorted({a for a in arns if ":ssm:" in a}),
    }
    return [{"Effect": "Allow", "Action": action, "Resource": resources} for action, resources in found.items() if resources]


@dataclass(frozen=True)
class BackendServiceArgs:
    """Arguments of `BackendService`."""

    settings: BackendSettings
    """The stack's `backend` settings."""
    context: AwsContext
    """Account/region/partition."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets the tasks run in (no public IPs)."""
    security_group_id: pulumi.Input[str]
    """The service tier's security group."""
    target_group_arn: pulumi.Input[str]
    """Load balancer target group the tasks register with."""
    request_count_label: pulumi.Input[str]
    """`<lb arn suffix>/<target group arn suffix>`, for scaling on requests per target."""
    logs_key_arn: pulumi.Input[str]
    """KMS key for the container log group."""
    repository_key_arn: pulumi.Input[str]
    """KMS key for the ECR repository."""
    environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Plain environment from other components (endpoints, URLs without credentials). Default none."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Env var -> Secrets Manager/SSM ARN (`valueFrom`) from other components. Default none."""
    secret_key_arns: Sequence[pulumi.Input[str]] = field(default_factory=list)
    """KMS keys those secrets are encrypted with; the execution role may decrypt with them."""
    task_policy_statements: Sequence[pulumi.Input[dict[str, Any]]] = field(default_factory=list)
    """IAM statements the application itself needs (the task role). Default none."""
    sidecars: Sequence[pulumi.Input[dict[str, Any]]] = field(default_factory=list)
    """Extra container definitions (e.g. the OpenTelemetry collector). Default none."""
    protect: bool = False
    """Pulumi `protect` on the image repository. Default false; prod passes true."""


class BackendService(pulumi.ComponentResource):
    """The backend as a Fargate service behind the load balancer.

    * ECR repository: immutable tags, scan on push, KMS-encrypted, lifecycle policy;
    * ECS cluster with Container Insights (enhanced);
    * task definition: the image pinned by digest, read-only root file system with a
      scratch `/tmp`, secrets injected by ECS from Secrets Manager/SSM, logs to an
      encrypted group with retention, a container health check on `/health`;
    * service in private subnets, no public IP, spread over AZs, circuit breaker with
      rollback, health-check grace period, rebalanced across AZs;
    * target-tracking autoscaling on CPU and on requests per target;
    * an execution role that can pull this repository, write this log group and read
      only the named secrets, and a task role holding only what the app declares.
    """

    repository: aws.ecr.Repository
    cluster: aws.ecs.Cluster
    service: aws.ecs.Service
    task_definition: aws.ecs.TaskDefinition
    log_group: aws.cloudwatch.LogGroup
    task_role: aws.iam.Role
    cluster_name: pulumi.Output[str]
    service_name: pulumi.Output[str]

    def __init__(self, name: str, args: BackendServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:backend:BackendService", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=args.repository_key_arn)],
            force_delete=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-repo-lifecycle", repository=self.repository.name,
            policy=pulumi.Output.json_dumps(ECR_LIFECYCLE), opts=child,
        )
        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enhanced")],
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/floyo/{pulumi.get_stack()}/backend",
            retention_in_days=s.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        secrets: dict[str, pulumi.Input[str]] = {**s.secrets, **args.secrets}
        execution_role = self._execution_role(name, args, secrets)
        self.task_role = aws.iam.Role(
            f"{name}-task", assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com", args.context), opts=child,
        )
        if args.task_policy_statements:
            aws.iam.RolePolicy(
                f"{name}-task", role=self.task_role.id,
                policy=policy_json(list(args.task_policy_statements)), opts=child,
            )
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"floyo-{pulumi.get_stack()}-backend",
            cpu=str(s.cpu),
            memory=str(s.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=s.cpu_architecture),
            execution_role_arn=execution_role.arn,
            task_role_arn=self.task_role.arn,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],
            container_definitions=pulumi.Output.json_dumps(
                [self._container(args, secrets), *args.sidecars]
            ),
            opts=child,
        )
        self.service = aws.ecs.Service(
            f"{name}-service",
            cluster=self.cluster.arn,
            task_definition=self.task_definition.arn,
            desired_count=s.min_tasks,
            launch_type="FARGATE",
            platform_version="LATEST",
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            enable_execute_command=False,
            availability_zone_rebalancing="ENABLED",
            health_check_grace_period_seconds=s.health_check.grace_period_seconds,
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(enable=True, rollback=True),
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids), security_groups=[args.security_group_id], assign_public_ip=False),
            load_balancers=[aws.ecs.ServiceLoadBalancerArgs(
                target_group_arn=args.target_group_arn, container_name=CONTAINER, container_port=s.container_port)],
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCount"]),
        )
        self.cluster_name = self.cluster.name
        self.service_name = self.service.name
        self._autoscaling(name, args)
        self.register_outputs({
            "cluster_name": self.cluster_name, "service_name": self.service_name,
            "log_group": self.log_group.name, "repository_url": self.repository.repository_url,
        })

    def _container(self, args: BackendServiceArgs, secrets: Mapping[str, pulumi.Input[str]]) -> dict[str, Any]:
        s = args.settings
        environment: dict[str, pulumi.Input[str]] = {
            **s.environment,
            "APP_VERSION": s.app_version,
            "PORT": str(s.container_port),
            **{f"FEATURE_{flag.upper()}": "true" if on else "false" for flag, on in s.feature_flags.items()},
            **args.environment,
        }
        probe = (f"python -c \"import urllib.request; urllib.request.urlopen("
                 f"'http://127.0.0.1:{s.container_port}{s.health_check.path}', timeout=4)\" || exit 1")
        return {
            "name": CONTAINER,
            "image": s.image,
            "essential": True,
            "readonlyRootFilesystem": True,
            "stopTimeout": 60,
            "linuxParameters": {"initProcessEnabled": True},
            "portMappings": [{"name": "http", "containerPort": s.container_port, "protocol": "tcp"}],
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())],
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
            "healthCheck": {"command": ["CMD-SHELL", probe], "interval": 15, "timeout": 5,
                            "retries": 3, "startPeriod": 30},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": self.log_group.name, "awslogs-region": args.context.region,
                "awslogs-stream-prefix": CONTAINER, "mode": "non-blocking", "max-buffer-size": "25m"}},
        }

    def _execution_role(
        self, name: str, args: BackendServiceArgs, secrets: Mapping[str, pulumi.Input[str]]
    ) -> aws.iam.Role:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-execution", assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com", args.context), opts=child
        )
        statements: list[Any] = [
            {"Sid": "PullToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Sid": "PullImages", "Effect": "Allow",
             "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
             "Resource": self.repository.arn},
            {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": pulumi.Output.concat(self.log_group.arn, ":*")},
            {"Sid": "DecryptImages", "Effect": "Allow", "Action": "kms:Decrypt",
             "Resource": [args.repository_key_arn, *args.secret_key_arns]},
        ]
        refs = [pulumi.Output.from_input(v).apply(secret_resource_arn) for v in secrets.values()]
        policy = pulumi.Output.all(*refs).apply(lambda arns: statements + _secret_statements(arns))
        aws.iam.RolePolicy(f"{name}-execution", role=role.id, policy=policy_json(policy), opts=child)
        return role

    def _autoscaling(self, name: str, args: BackendServiceArgs) -> None:
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", self.cluster.name, "/", self.service.name),
            min_capacity=s.min_tasks,
            max_capacity=s.max_tasks,
            opts=child,
        )
        policies: list[tuple[str, str, float, pulumi.Input[str] | None]] = [
            ("cpu", "ECSServiceAverageCPUUtilization", float(s.cpu_target_percent), None),
            ("requests", "ALBRequestCountPerTarget", float(s.requests_per_target), args.request_count_label),
        ]
        for suffix, metric, value, label in policies:
            aws.appautoscaling.Policy(
                f"{name}-scale-{suffix}",
                policy_type="TargetTrackingScaling",
                service_namespace=target.service_namespace,
                scalable_dimension=target.scalable_dimension,
                resource_id=target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=value,
                    scale_in_cooldown=300,
                    scale_out_cooldown=60,
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=metric, resource_label=label),
                ),
                opts=child,
            )
