"""Floyo's FastAPI backend on ECS Fargate: cluster, task, service, scaling (images: components/image_repository.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, assume_role_policy, policy_json
from components.guardduty_agent import agent_pull_statement
from stacks.backend import BackendSettings, ecr_image

CONTAINER = "backend"
"""Name of the application container in the task definition."""

STEADY_STATE_TIMEOUT = "30m"
"""How long `pulumi up` waits for the service to reach steady state before failing (the provider's
default is 20m; a rollout of 12 tasks with a 60 s grace period and 120 s draining fits in 30m)."""


def _container_dependencies(sidecars: Sequence[pulumi.Input[dict[str, Any]]]) -> list[dict[str, str]]:
    """`dependsOn` of the app container: each sidecar must have started first (START). An essential
    sidecar with a health check must be HEALTHY; a non-essential one (the collector) only START, since
    waiting on its health would let a broken sidecar keep the app from starting."""
    found = []
    for sidecar in sidecars:
        if not isinstance(sidecar, dict):
            continue
        healthy = bool(sidecar.get("essential", True)) and "healthCheck" in sidecar
        found.append({"containerName": str(sidecar["name"]), "condition": "HEALTHY" if healthy else "START"})
    return found


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
    service_depends_on: Sequence[pulumi.Resource] = field(default_factory=list)
    """What the ECS service must wait for: the HTTPS listener forwarding to `target_group_arn` (and
    any listener rule it relies on); ECS refuses a target group no listener uses. Default none."""
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


class BackendService(pulumi.ComponentResource):
    """The backend as a Fargate service behind the load balancer.

    * ECS cluster with Container Insights (enhanced);
    * task definition: the image pinned by digest (from the shared, account-level ECR
      repository, see `components/image_repository.py`), read-only root file system with a
      scratch `/tmp`, secrets injected by ECS from Secrets Manager/SSM, logs to an
      encrypted group with retention, a container health check on `/health`;
    * service in private subnets, no public IP, spread over AZs, circuit breaker with
      rollback, health-check grace period, rebalanced across AZs; `pulumi up` waits for
      steady state, so a rollout that fails (and rolls back) fails the deploy;
    * the app container starts after its sidecars (the collector) have started;
    * target-tracking autoscaling on CPU and on requests per target;
    * an execution role that can pull the image's repository (parsed from `backend.image`), write this log group and read
      only the named secrets, and a task role holding only what the app declares.
    """

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
        execution_role, execution_policy = self._execution_role(name, args, secrets)
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
            wait_for_steady_state=True,
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=["desiredCount"],
                # the listener before the service (ECS needs the target group in use); the execution
                # role's policy before it, and kept until it is gone (the provider docs' delete race)
                depends_on=[*args.service_depends_on, execution_policy],
                custom_timeouts=pulumi.CustomTimeouts(create=STEADY_STATE_TIMEOUT, update=STEADY_STATE_TIMEOUT),
            ),
        )
        self.cluster_name = self.cluster.name
        self.service_name = self.service.name
        self._autoscaling(name, args)
        self.register_outputs({
            "cluster_name": self.cluster_name, "service_name": self.service_name,
            "log_group": self.log_group.name,
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
            "dependsOn": _container_dependencies(args.sidecars),
            "healthCheck": {"command": ["CMD-SHELL", probe], "interval": 15, "timeout": 5,
                            "retries": 3, "startPeriod": 30},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": self.log_group.name, "awslogs-region": args.context.region,
                "awslogs-stream-prefix": CONTAINER, "mode": "non-blocking", "max-buffer-size": "25m"}},
        }

    def _execution_role(
        self, name: str, args: BackendServiceArgs, secrets: Mapping[str, pulumi.Input[str]]
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        child = pulumi.ResourceOptions(parent=self)
        image = ecr_image(args.settings.image)
        role = aws.iam.Role(
            f"{name}-execution", assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com", args.context), opts=child
        )
        statements: list[Any] = [
            # GetAuthorizationToken has no resource-level permission: "*" is the only resource it takes
            {"Sid": "PullToken", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            # the repository `backend.image` names (ECR decrypts KMS-encrypted layers via its own grant,
            # so no kms:Decrypt is needed for the pull)
            {"Sid": "PullImage", "Effect": "Allow",
             "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
             "Resource": image.repository_arn},
            agent_pull_statement(args.context.region),  # the account's GuardDuty adds its agent sidecar
            {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
             "Resource": pulumi.Output.concat(self.log_group.arn, ":*")},
        ]
        if args.secret_key_arns:
            statements.append({"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                               "Resource": list(args.secret_key_arns)})
        refs = [pulumi.Output.from_input(v).apply(secret_resource_arn) for v in secrets.values()]
        policy = pulumi.Output.all(*refs).apply(lambda arns: statements + _secret_statements(arns))
        role_policy = aws.iam.RolePolicy(f"{name}-execution", role=role.id, policy=policy_json(policy), opts=child)
        return role, role_policy

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
