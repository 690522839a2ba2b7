"""The backend's tier: tracing (which it hands the service) and the arguments of the service itself."""

from __future__ import annotations

from components.alarm_catalogue import ROLLBACK_ALARM_KEYS
from components.alarms import alarm_name
from components.aws_context import AwsContext
from components.backend import BackendServiceArgs, backend_log_group_name
from components.telemetry import Telemetry, TelemetryArgs
from components.tiers.foundation import Foundation
from components.tiers.needs import BackendNeeds
from stacks import StackSettings


def tracing(settings: StackSettings, ctx: AwsContext, base: Foundation) -> BackendNeeds:
    """Declare tracing and error tracking (components/telemetry.py); the collector sidecar, OTel env, Sentry
    secret and their IAM, for the backend."""
    telemetry = Telemetry("telemetry", TelemetryArgs(
        settings=settings.monitoring, context=ctx, logs_key_arn=base.logs_key.arn, secrets_key_arn=base.data_key.arn,
        backend_log_group=backend_log_group_name(), protect=settings.tier == "prod",
    ))
    return BackendNeeds(environment=telemetry.environment, secrets=telemetry.secrets,
                        task_statements=tuple(telemetry.statements), sidecars=(telemetry.sidecar,))


def backend_service_args(settings: StackSettings, ctx: AwsContext, base: Foundation,
                         needs: BackendNeeds) -> BackendServiceArgs:
    """The backend service's arguments: behind the foundation's load balancer, with the tiers' `needs`."""
    network, lb = base.network, base.lb
    return BackendServiceArgs(
        settings=settings.backend, context=ctx, subnet_ids=network.private_subnet_ids,
        security_group_id=base.groups.service.id, target_group_arn=lb.target_group.arn,
        load_balancer_arn_suffix=lb.arn_suffix, target_group_arn_suffix=lb.target_group_arn_suffix,
        logs_key_arn=base.logs_key.arn, secret_key_arns=[base.data_key.arn], service_depends_on=[lb.https_listener],
        environment=needs.environment, secrets=needs.secrets, task_policy_statements=list(needs.task_statements),
        sidecars=list(needs.sidecars), traffic_shift=lb.traffic_shift,
        # by name: the alarms read the service's name, so the service can't wait for them
        rollback_alarm_names=[alarm_name(key) for key in ROLLBACK_ALARM_KEYS],
        migrate_task_statements=list(needs.migrate_statements), migrate_environment=needs.migrate_environment,
        migrate_secrets=needs.migrate_secrets, rollback_secrets=list(needs.rollback_secrets),
    )
