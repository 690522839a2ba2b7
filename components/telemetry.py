"""Tracing and error tracking for the backend: the ADOT collector sidecar and the Sentry DSN.

This component declares what the backend task needs; `tracing()` (components/tiers/service.py) hands it
over as the `BackendNeeds` of its tier: sidecar, environment, secrets and task-role statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from stacks.monitoring import MonitoringSettings

COLLECTOR = "otel-collector"
"""Name of the collector container in the task definition."""
OTLP_GRPC = "127.0.0.1:4317"
OTLP_HTTP = "127.0.0.1:4318"
HEALTH = "127.0.0.1:13133"


def metrics_namespace(stack: str) -> str:
    """CloudWatch namespace of the app's own metrics (EMF from the collector, PutMetricData)."""
    return f"Floyo/{stack}"


def collector_config(region: str, namespace: str, log_group: str) -> dict[str, Any]:
    """The collector's configuration: OTLP in (loopback only), X-Ray and CloudWatch EMF out."""
    return {
        "extensions": {"health_check": {"endpoint": HEALTH}},
        "receivers": {"otlp": {"protocols": {"grpc": {"endpoint": OTLP_GRPC}, "http": {"endpoint": OTLP_HTTP}}}},
        "processors": {
            "resourcedetection": {"detectors": ["env", "ecs"], "timeout": "2s", "override": False},
            "batch/traces": {"timeout": "1s", "send_batch_size": 50},
            "batch/metrics": {"timeout": "60s"},
        },
        "exporters": {
            "awsxray": {"region": region, "index_all_attributes": False},
            "awsemf": {"region": region, "namespace": namespace, "log_group_name": log_group,
                       "log_stream_name": "otel-{TaskId}", "dimension_rollup_option": "NoDimensionRollup",
                       "resource_to_telemetry_conversion": {"enabled": False}},
        },
        "service": {
            "extensions": ["health_check"],
            "pipelines": {
                "traces": {"receivers": ["otlp"], "processors": ["resourcedetection", "batch/traces"],
                           "exporters": ["awsxray"]},
                "metrics": {"receivers": ["otlp"], "processors": ["resourcedetection", "batch/metrics"],
                            "exporters": ["awsemf"]},
            },
        },
    }


@dataclass(frozen=True)
class TelemetryArgs:
    """Arguments of `Telemetry`."""

    settings: MonitoringSettings
    """The stack's `monitoring` settings (sample rate, collector image, Sentry DSN, retention)."""
    context: AwsContext
    """Account/region/partition."""
    logs_key_arn: pulumi.Input[str]
    """KMS key of the collector's metric (EMF) log group."""
    secrets_key_arn: pulumi.Input[str]
    """KMS key of the Sentry DSN secret (the backend's execution role may decrypt with it)."""
    backend_log_group: str
    """Log group the collector's own logs go to (the backend's; its execution role writes there)."""
    service_name: str = "floyo-backend"
    """OTEL_SERVICE_NAME: how traces name the service. Default floyo-backend."""
    protect: bool = False
    """Pulumi `protect` on the Sentry secret. Default false; prod passes true."""


class Telemetry(pulumi.ComponentResource):
    """The collector sidecar, the app's OTel environment, the Sentry secret, and IAM for both.

    * sidecar: ADOT collector pinned by digest, not essential (the app keeps serving if it
      dies), read-only root file system, its own log stream, config in AOT_CONFIG_CONTENT:
      OTLP receivers on loopback only, traces to X-Ray, metrics to CloudWatch via EMF;
    * app env: parent-based trace-id-ratio sampling at `tracing_sample_rate`, OTLP endpoint;
    * Sentry: the DSN in a KMS-encrypted Secrets Manager secret, injected by ECS as SENTRY_DSN;
    * task role statements: X-Ray writes and sampling, EMF log writes to its one group,
      PutMetricData only into the stack's namespace.
    """

    sidecar: dict[str, Any]
    environment: dict[str, pulumi.Input[str]]
    secrets: dict[str, pulumi.Input[str]]
    statements: list[dict[str, Any]]
    metrics_log_group: aws.cloudwatch.LogGroup
    sentry_secret: aws.secretsmanager.Secret | None

    def __init__(self, name: str, args: TelemetryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:monitoring:Telemetry", name, None, opts)
        s, ctx = args.settings, args.context
        stack = pulumi.get_stack()
        child = pulumi.ResourceOptions(parent=self)
        namespace = metrics_namespace(stack)
        self.metrics_log_group = aws.cloudwatch.LogGroup(
            f"{name}-metrics",
            name=f"/floyo/{stack}/otel-metrics",
            retention_in_days=s.log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        config = ctx.region.apply(lambda region: collector_config(region, namespace, f"/floyo/{stack}/otel-metrics"))
        self.sidecar = {
            "name": COLLECTOR,
            "image": s.collector_image,
            "essential": False,
            "readonlyRootFilesystem": True,
            "environment": [{"name": "AOT_CONFIG_CONTENT", "value": pulumi.Output.json_dumps(config)}],
            "healthCheck": {"command": ["/healthcheck"], "interval": 15, "timeout": 5, "retries": 3,
                            "startPeriod": 10},
            "logConfiguration": {"logDriver": "awslogs", "options": {
                "awslogs-group": args.backend_log_group, "awslogs-region": ctx.region,
                "awslogs-stream-prefix": COLLECTOR, "mode": "non-blocking", "max-buffer-size": "4m"}},
        }
        self.environment = {
            "OTEL_SERVICE_NAME": args.service_name,
            "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment={stack}",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{OTLP_GRPC}",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": f"{s.tracing_sample_rate:g}",
        }
        self.secrets = {}
        self.sentry_secret = None
        if s.sentry_dsn is not None:
            self.sentry_secret = aws.secretsmanager.Secret(
                f"{name}-sentry-dsn",
                name_prefix=f"floyo/{stack}/sentry-dsn-",
                description=f"floyo {stack}: Sentry DSN of the backend (set from monitoring.sentry_dsn)",
                kms_key_id=args.secrets_key_arn,
                recovery_window_in_days=30,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            aws.secretsmanager.SecretVersion(
                f"{name}-sentry-dsn",
                secret_id=self.sentry_secret.id,
                secret_string=pulumi.Output.secret(s.sentry_dsn.get_secret_value()),
                opts=child,
            )
            self.secrets["SENTRY_DSN"] = self.sentry_secret.arn
            self.environment["SENTRY_ENVIRONMENT"] = stack
        self.statements = [
            {"Sid": "XRayWrite", "Effect": "Allow",
             "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                        "xray:GetSamplingTargets"],
             "Resource": "*"},
            {"Sid": "EmfMetricLogs", "Effect": "Allow",
             "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
             "Resource": [self.metrics_log_group.arn, pulumi.Output.concat(self.metrics_log_group.arn, ":*")]},
            {"Sid": "PutAppMetrics", "Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*",
             "Condition": {"StringEquals": {"cloudwatch:namespace": namespace}}},
        ]
        self.register_outputs({"metrics_log_group": self.metrics_log_group.name})
