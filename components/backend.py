"""Floyo's FastAPI backend on ECS Fargate: cluster, task, service, scaling (images: components/image_repository.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, assume_role_policy, policy_json
from components.guardduty_agent import agent_pull_statement
from components.load_balancer import TrafficShift
from components.request_scaling import requests_per_task
from stacks.backend import BackendSettings, ecr_image
from stacks.program_env import feature_environment

_Predefined = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs
_Customized = aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs

CONTAINER = "backend"
"""Name of the application container in the task definition."""
MIGRATE_CONTAINER = "migrate"
"""Name of the container (and log stream prefix) of the one-off migrate task."""

STEADY_STATE_MINUTES = 30
"""How long `pulumi up` waits for the service to reach steady state before failing, on top of the
strategy's traffic shifting and bake time (the provider's default is 20m; a rollout of 12 tasks with
a 60 s grace period and 120 s draining fits in 30m)."""


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


def backend_log_group_name() -> str:
    """The backend's log group, `/floyo/<stack>/backend` (also where the tracing collector's own logs go)."""
    return f"/floyo/{pulumi.get_stack()}/backend"


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
    load_balancer_arn_suffix: pulumi.Input[str]
    """`app/<name>/<id>` of the load balancer, for scaling on requests per task."""
    target_group_arn_suffix: pulumi.Input[str]
    """`targetgroup/<name>/<id>` of `target_group_arn` (with a gradual strategy the traffic shift's
    alternate group is read too), for scaling on requests per task."""
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
    traffic_shift: TrafficShift | None = None
    """The load balancer's second target group, listener rules and ECS role; required when
    `backend.deployment.strategy` is gradual. Default none (ROLLING)."""
    rollback_alarm_names: Sequence[str] = field(default_factory=list)
    """CloudWatch alarm names that roll a deployment back when they fire (deterministic names, so the
    service needn't wait for alarms that themselves name the service). Default none."""
    migrate_task_statements: Sequence[pulumi.Input[dict[str, Any]]] | None = None
    """IAM statements of the one-off `migrate` task's own task role (its `rds-db:connect` as `migrator`:
    no password exists); with them a `migrate` task definition is declared. Default none."""
    migrate_environment: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Env of the migrate task over the service's `DATABASE_*` (e.g. `DATABASE_USER=migrator`). Default none."""
    rollback_secrets: Sequence[pulumi.Input[str]] = ()
    """Secret references (`<arn>:<key>::`) the task definition no longer uses but the previous one (the ECS
    rollback target) still does: the service's execution role keeps reading them, since the role is shared by
    both revisions (`database.legacy_password_logins: retire`). Default none."""
    migrate_secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret references of the migrate task: only while migrating off password logins, the `migrator` login's
    `DATABASE_URL` (`database.legacy_password_logins: keep`). Default none."""


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
    * target-tracking autoscaling on CPU and on requests per task (over both target groups when gradual);
    * an execution role that can pull the image's repository (parsed from `backend.image`), write this log group and read
      only the named secrets, and a task role holding only what the app declares;
    * the rollout strategy from `backend.deployment` (ROLLING, or CANARY/LINEAR/BLUE_GREEN through the
      load balancer's two target groups), with the named alarms rolling a deployment back;
    * a `migrate` task definition: the same image digest, `backend.migrate_command`, the `migrator`
      login's DATABASE_URL (never the app's), its own execution role and log stream prefix. Nothing
      runs it on its own: `python -m ops migrate STACK` does, before the service update.
    """

    cluster: aws.ecs.Cluster
    service: aws.ecs.Service
    task_definition: aws.ecs.TaskDefinition
    migrate_task_definition: aws.ecs.TaskDefinition | None
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
            name=backend_log_group_name(),
            retention_in_days=s.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        secrets: dict[str, pulumi.Input[str]] = {**s.secrets, **args.secrets}
        readable = {**secrets, **{f"rollback-{i}": ref for i, ref in enumerate(args.rollback_secrets)}}
        execution_role, execution_policy = self._execution_role(name, args, readable)
        self.task_role = aws.iam.Role(
            f"{name}-task", assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com", args.context), opts=child,
        )
        # the task role's grants (rds-db:connect, elasticache:Connect: the backend's only credentials) exist
        # before a task starts, like the execution role's (the service's depends_on below)
        task_policy = aws.iam.RolePolicy(
            f"{name}-task", role=self.task_role.id,
            policy=policy_json(list(args.task_policy_statements)), opts=child,
        ) if args.task_policy_statements else None
        self.task_definition = self._task_definition(
            f"{name}-task", f"floyo-{pulumi.get_stack()}-backend", args, execution_role,
            pulumi.Output.json_dumps([self._container(args, secrets), *args.sidecars]),
            task_role_arn=self.task_role.arn,
        )
        if s.deployment.gradual and args.traffic_shift is None:
            raise ValueError(f"backend.deployment.strategy {s.deployment.strategy} needs the load balancer's traffic_shift")
        shift = args.traffic_shift
        shift_dependencies: list[pulumi.Resource] = (
            [shift.production_rule, shift.test_rule, shift.role_attachment] if shift and s.deployment.gradual else [])
        timeout = f"{STEADY_STATE_MINUTES + s.deployment.rollout_minutes()}m"
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
            deployment_configuration=_deployment_configuration(s),
            alarms=aws.ecs.ServiceAlarmsArgs(
                alarm_names=list(args.rollback_alarm_names), enable=True, rollback=True,
            ) if args.rollback_alarm_names else None,
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=list(args.subnet_ids), security_groups=[args.security_group_id], assign_public_ip=False),
            load_balancers=[self._load_balancer(args)],
            wait_for_steady_state=True,
            opts=pulumi.ResourceOptions(
                # desiredCount: autoscaling's. loadBalancers (gradual): ECS swaps the two target groups on
                # every release; once DescribeServices reports the swapped pair (as #45678 observed), the
                # provider's Read stores it and its Update resends `load_balancer` as it differs from the program
                # (terraform-provider-aws internal/service/ecs/service.go, resourceServiceRead and
                # resourceServiceUpdate's d.HasChange("load_balancer")), so the next release would register
                # in the serving group (#45678). The bridge drops ignored attributes from the provider's
                # diff (pulumi-terraform-bridge pkg/tfshim/sdk-v2/instance_diff.go processIgnoreChanges),
                # so the block is not sent. `backend.deployment.resend_load_balancers` sends it once.
                parent=self, ignore_changes=["desiredCount", *(
                    ["loadBalancers"] if s.deployment.ecs_owns_traffic_shift else [])],
                # the listener (and rules) before the service (ECS needs the target group in use); the
                # execution role's policy, the task role's and the traffic role's before it and kept until it
                # is gone (the provider docs' delete race)
                depends_on=[*args.service_depends_on, execution_policy, *([task_policy] if task_policy else []),
                            *shift_dependencies],
                custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout),
            ),
        )
        self.cluster_name = self.cluster.name
        self.service_name = self.service.name
        self.migrate_task_definition = (
            self._migrate_task(name, args) if args.migrate_task_statements is not None else None)
        self._autoscaling(name, args)
        self.register_outputs({
            "cluster_name": self.cluster_name, "service_name": self.service_name,
            "log_group": self.log_group.name,
        })

    def _load_balancer(self, args: BackendServiceArgs) -> aws.ecs.ServiceLoadBalancerArgs:
        shift = args.traffic_shift if args.settings.deployment.gradual else None
        return aws.ecs.ServiceLoadBalancerArgs(
            target_group_arn=args.target_group_arn, container_name=CONTAINER,
            container_port=args.settings.container_port,
            advanced_configuration=aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
                alternate_target_group_arn=shift.alternate_target_group.arn,
                production_listener_rule=shift.production_rule.arn,
                test_listener_rule=shift.test_rule.arn,
                role_arn=shift.role.arn,
            ) if shift else None,
        )

    def _migrate_task(self, name: str, args: BackendServiceArgs) -> aws.ecs.TaskDefinition:
        """The one-off migration task: same image digest, the database env as `migrator` (an IAM token from its
        own task role, no secret), no port, no sidecar."""
        s = args.settings
        assert args.migrate_task_statements is not None
        child = pulumi.ResourceOptions(parent=self)
        secrets: dict[str, pulumi.Input[str]] = dict(args.migrate_secrets)
        environment: dict[str, pulumi.Input[str]] = {
            **s.environment, "APP_VERSION": s.app_version,
            **{k: v for k, v in args.environment.items() if k.startswith("DATABASE_")},
            **args.migrate_environment,
        }
        role, policy = self._execution_role(f"{name}-migrate", args, secrets)
        task_role = aws.iam.Role(
            f"{name}-migrate-task", assume_role_policy=assume_role_policy("ecs-tasks.amazonaws.com", args.context),
            opts=child,
        )
        task_policy = aws.iam.RolePolicy(
            f"{name}-migrate-task", role=task_role.id, policy=policy_json(list(args.migrate_task_statements)),
            opts=child,
        )
        container = {
            "name": MIGRATE_CONTAINER,
            "image": s.image,
            "essential": True,
            "command": list(s.migrate_command),
            "readonlyRootFilesystem": True,
            "linuxParameters": {"initProcessEnabled": True},
            "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
            "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(secrets.items())],
            "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": self.log_group.name, "awslogs-region": args.context.region,
                "awslogs-stream-prefix": MIGRATE_CONTAINER}},
        }
        # the role may pull and read the secret before `ops migrate` can start a task
        return self._task_definition(
            f"{name}-migrate", f"floyo-{pulumi.get_stack()}-backend-migrate", args, role,
            pulumi.Output.json_dumps([container]), task_role_arn=task_role.arn, depends_on=[policy, task_policy],
        )

    def _task_definition(
        self, resource_name: str, family: str, args: BackendServiceArgs, execution_role: aws.iam.Role,
        containers: pulumi.Output[str], task_role_arn: pulumi.Input[str] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> aws.ecs.TaskDefinition:
        """A Fargate task definition of the backend's size and architecture, with a scratch `/tmp`."""
        s = args.settings
        return aws.ecs.TaskDefinition(
            resource_name,
            family=family,
            cpu=str(s.cpu),
            memory=str(s.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=s.cpu_architecture),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role_arn,
            volumes=[aws.ecs.TaskDefinitionVolumeArgs(name="tmp")],
            container_definitions=containers,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )

    def _container(self, args: BackendServiceArgs, secrets: Mapping[str, pulumi.Input[str]]) -> dict[str, Any]:
        s = args.settings
        environment: dict[str, pulumi.Input[str]] = {
            **s.environment,
            "APP_VERSION": s.app_version,
            "PORT": str(s.container_port),
            **feature_environment(s.feature_flags),
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
        """A task execution role: pull `backend.image`, write the log group, read exactly `secrets`."""
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
        if args.secret_key_arns and secrets:
            statements.append({"Sid": "DecryptSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                               "Resource": list(args.secret_key_arns)})
        refs = [pulumi.Output.from_input(v).apply(secret_resource_arn) for v in secrets.values()]
        policy = pulumi.Output.all(*refs).apply(lambda arns: statements + _secret_statements(arns))
        role_policy = aws.iam.RolePolicy(f"{name}-execution", role=role.id, policy=policy_json(policy), opts=child)
        return role, role_policy

    def _autoscaling(self, name: str, args: BackendServiceArgs) -> None:
        """CPU and requests-per-task tracking. ROLLING registers in one target group: the predefined
        `ALBRequestCountPerTarget` of it. A gradual strategy alternates two groups: metric math over both
        (`components/request_scaling.py`), so scaling keeps reading the serving one after a release."""
        s = args.settings
        shift = args.traffic_shift if s.deployment.gradual else None
        requests = requests_per_task(
            load_balancer=args.load_balancer_arn_suffix,
            target_groups=[args.target_group_arn_suffix, shift.alternate_target_group.arn_suffix],
            cluster_name=self.cluster.name, service_name=self.service.name,
        ) if shift else None
        label = None if shift else pulumi.Output.concat(args.load_balancer_arn_suffix, "/", args.target_group_arn_suffix)
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
        policies: list[tuple[str, float, _Predefined | None, _Customized | None]] = [
            ("cpu", float(s.cpu_target_percent), _Predefined(predefined_metric_type="ECSServiceAverageCPUUtilization"),
             None),
            ("requests", float(s.requests_per_target), None if requests else _Predefined(
                predefined_metric_type="ALBRequestCountPerTarget", resource_label=label), requests),
        ]
        for suffix, value, predefined, customized in policies:
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
                    predefined_metric_specification=predefined,
                    customized_metric_specification=customized,
                ),
                opts=child,
            )


def _deployment_configuration(s: BackendSettings) -> aws.ecs.ServiceDeploymentConfigurationArgs:
    """`deployment_configuration` from `backend.deployment` (bake times are strings in the provider)."""
    d = s.deployment
    return aws.ecs.ServiceDeploymentConfigurationArgs(
        strategy=d.strategy,
        bake_time_in_minutes=str(d.bake_time_minutes) if d.gradual else None,
        canary_configuration=aws.ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
            canary_percent=d.canary_percent, canary_bake_time_in_minutes=str(d.canary_interval_minutes),
        ) if d.strategy == "CANARY" else None,
        linear_configuration=aws.ecs.ServiceDeploymentConfigurationLinearConfigurationArgs(
            step_percent=d.linear_step_percent, step_bake_time_in_minutes=str(d.linear_interval_minutes),
        ) if d.strategy == "LINEAR" else None,
    )
