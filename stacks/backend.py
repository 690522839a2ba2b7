"""Backend settings: the FastAPI service on ECS Fargate and its load balancer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from stacks.base import Section, check_retention, prod_keeps_audit_logs, prod_refuses, release_field
from stacks.deployment import DeploymentSettings, check_command

FARGATE_MEMORY: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}
"""The task cpu/memory pairs Fargate accepts (ECS developer guide, "Task CPU and memory")."""

ECR_IMAGE = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z]{2}(-[a-z]+)+-[0-9])\.amazonaws\.com(?P<cn>\.cn)?/"
    r"(?P<repository>(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)"
    r"@sha256:(?P<digest>[0-9a-f]{64})\Z"  # \Z: `$` would also match before a final newline
)
"""A private ECR image pinned by digest: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<hex>`
(repository name syntax from ECR's CreateRepository)."""


@dataclass(frozen=True)
class EcrImage:
    """The parts of a private ECR image reference; the execution role's pull grant is derived from them."""

    account: str
    region: str
    partition: str
    repository: str
    digest: str

    @property
    def repository_url(self) -> str:
        suffix = ".amazonaws.com.cn" if self.partition == "aws-cn" else ".amazonaws.com"
        return f"{self.account}.dkr.ecr.{self.region}{suffix}/{self.repository}"

    @property
    def repository_arn(self) -> str:
        return f"arn:{self.partition}:ecr:{self.region}:{self.account}:repository/{self.repository}"


def image_repository_url(image: str) -> str:
    """The repository part of a `backend.image` (where CI pushes and the tasks pull)."""
    return ecr_image(image).repository_url


def ecr_image(image: str) -> EcrImage:
    """Parse a validated `backend.image` (raises ValueError on anything else)."""
    m = ECR_IMAGE.match(image)
    if m is None:
        raise ValueError(
            "must be a private ECR image pinned by digest: "
            "<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits> "
            "(a mutable tag such as :latest can change under a running service; other registries "
            "need credentials the tasks don't have)"
        )
    partition = "aws-cn" if m["cn"] else "aws-us-gov" if m["region"].startswith("us-gov-") else "aws"
    return EcrImage(m["account"], m["region"], partition, m["repository"], m["digest"])
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|ssm:[a-z0-9-]+:\d{12}:parameter/.+)$"
)
_SECRET_LOOKING = re.compile(r"PASSWORD|SECRET|TOKEN|PRIVATE_KEY|API_KEY|DSN", re.IGNORECASE)


class HealthCheckSettings(Section):
    """How the load balancer decides a task is healthy (`backend.health_check`)."""

    path: str = Field(default="/health", description="HTTP path probed on each task. Default /health.")
    interval_seconds: int = Field(default=15, ge=5, le=300, description="Seconds between probes. Default 15.")
    timeout_seconds: int = Field(default=5, ge=2, le=120, description="Probe timeout. Default 5.")
    healthy_threshold: int = Field(default=2, ge=2, le=10, description="Passes to become healthy. Default 2.")
    unhealthy_threshold: int = Field(default=3, ge=2, le=10, description="Failures to become unhealthy. Default 3.")
    grace_period_seconds: int = Field(
        default=60, ge=0, le=2_147_483_647, description="Seconds ECS ignores failing checks after a task starts. Default 60."
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/") or " " in value:
            raise ValueError("must be an absolute URL path such as /health")
        return value

    @field_validator("timeout_seconds")
    @classmethod
    def _timeout_below_interval(cls, value: int, info: ValidationInfo) -> int:
        interval = info.data.get("interval_seconds")
        if interval is not None and value >= interval:
            raise ValueError(f"must be less than interval_seconds ({interval})")
        return value


class BackendSettings(Section):
    """The backend service (`floyo-infra:backend`)."""

    image: str = release_field(
        description="Container image in private ECR, pinned by digest: "
        "`<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>` (the shared `floyo-backend` "
        "repository). A mutable tag is rejected. The tasks' pull grant is derived from it. "
        "Release key (promoted dev -> prod). Required."
    )
    app_version: str = release_field(
        "0.0.0",
        pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$",
        description="Version label of the release, passed to the app as APP_VERSION. Release key.",
    )
    feature_flags: dict[str, bool] = release_field(
        default_factory=dict,
        description="Feature flags, passed as FEATURE_<NAME>=true|false. Release key. Default none.",
    )
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = Field(
        default=512, description="Task CPU units. Default: dev 512, prod 1024."
    )
    memory: int = Field(
        default=1024,
        description="Task memory (MiB); must be a Fargate pair with `cpu`. Default: dev 1024, prod 2048.",
    )
    cpu_architecture: Literal["X86_64", "ARM64"] = Field(
        default="X86_64", description="CPU architecture the image is built for. Default X86_64."
    )
    container_port: int = Field(default=8000, ge=1024, le=65535, description="Port uvicorn listens on. Default 8000.")
    min_tasks: int = Field(default=1, ge=1, le=100, description="Autoscaling floor. Default: dev 1, prod 3; prod needs >= 2.")
    max_tasks: int = Field(default=2, ge=1, le=200, description="Autoscaling ceiling. Default: dev 2, prod 12.")
    db_pool_size: int = Field(
        default=10, ge=1, le=500,
        description="Most database connections one task opens per pool (pool size plus overflow). Each task "
        "has two pools, read-write (to the writer) and read-only (to the readers), each up to this size. "
        "Checked against the proxy's ceiling (see database.proxy). Default 10.",
    )
    cpu_target_percent: int = Field(
        default=60, ge=10, le=90, description="Target average CPU for target tracking. Default 60."
    )
    requests_per_target: int = Field(
        default=1000, ge=10, le=100_000, description="Target requests per task per minute. Default 1000."
    )
    health_check: HealthCheckSettings = Field(
        default_factory=HealthCheckSettings, description="Load balancer health check."
    )
    idle_timeout_seconds: int = Field(
        default=300, ge=1, le=4000, description="Load balancer idle timeout; long enough for WebSockets. Default 300."
    )
    deregistration_delay_seconds: int = Field(
        default=120,
        ge=0,
        le=3600,
        description="Seconds a draining task keeps its connections (WebSockets close after this). Default 120.",
    )
    tls_policy: Literal[
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
        "ELBSecurityPolicy-TLS13-1-3-2021-06",
    ] = Field(default="ELBSecurityPolicy-TLS13-1-2-2021-06", description="HTTPS listener TLS policy (TLS 1.2+ only).")
    environment: dict[str, str] = Field(
        default_factory=dict,
        description="Plain environment variables. Names that look secret (PASSWORD, TOKEN, ...) are "
        "refused: put those in `secrets`. Default none.",
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Env var name -> ARN of a Secrets Manager secret or SSM parameter, injected by ECS "
        "at start. The value never passes through Pulumi. Default none.",
    )
    log_retention_days: int = Field(default=30, description="Days the container logs are kept. Default: dev 14, prod 90.")
    deployment: DeploymentSettings = Field(
        default_factory=DeploymentSettings,
        description="Rollout strategy (ROLLING, CANARY, LINEAR, BLUE_GREEN), its shares, intervals and bake "
        "time. Default: dev ROLLING, prod CANARY 10 % for 10 min then 10 min bake.",
    )
    migrate_command: list[str] = Field(
        default_factory=lambda: ["alembic", "upgrade", "head"],
        description="Command of the one-off `migrate` task (same image as the service, logged in as `migrator` "
        "with an IAM token from its own task role), run by `python -m ops migrate STACK` before the service update. "
        "Default [alembic, upgrade, head].",
    )
    deletion_protection: bool = Field(
        default=True, description="Load balancer deletion protection. Default true; only dev may turn it off."
    )
    access_log_retention_days: int = Field(
        default=365, ge=1, le=3650,
        description="Days load balancer access logs are kept in S3. Default: dev 90, prod 365 (prod needs >= 365: "
        "audit-relevant)."
    )

    @field_validator("image")
    @classmethod
    def _digest(cls, value: str) -> str:
        ecr_image(value)
        return value

    @field_validator("environment")
    @classmethod
    def _plain_env(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [k for k in value if not _ENV_NAME.match(k)]
        if bad:
            raise ValueError(f"invalid variable names {bad}: use UPPER_SNAKE_CASE")
        secretish = [k for k in value if _SECRET_LOOKING.search(k)]
        if secretish:
            raise ValueError(f"{secretish} look like secrets: declare them under backend.secrets as ARNs")
        return value

    @field_validator("secrets")
    @classmethod
    def _secret_refs(cls, value: dict[str, str]) -> dict[str, str]:
        bad_names = [k for k in value if not _ENV_NAME.match(k)]
        if bad_names:
            raise ValueError(f"invalid variable names {bad_names}: use UPPER_SNAKE_CASE")
        bad = [k for k, arn in value.items() if not _SECRET_ARN.match(arn)]
        if bad:
            raise ValueError(
                f"{bad} must reference a Secrets Manager secret ARN or an SSM parameter ARN, not a value"
            )
        return value

    @field_validator("migrate_command")
    @classmethod
    def _command(cls, value: list[str]) -> list[str]:
        return check_command(value)

    @field_validator("log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_retention(value)

    _prod_access_logs = prod_keeps_audit_logs("access_log_retention_days")
    _prod_min_tasks = prod_refuses(
        "min_tasks", lambda value: value < 2,
        "prod needs at least 2 tasks so one task or AZ failure is not an outage",
    )

    _prod_protection = prod_refuses(
        "deletion_protection", lambda value: not value,
        "prod keeps deletion protection on; only dev may turn it off",
    )

    @field_validator("memory")
    @classmethod
    def _fargate_pair(cls, value: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        if cpu is not None and value not in FARGATE_MEMORY[cpu]:
            allowed = ", ".join(str(m) for m in FARGATE_MEMORY[cpu])
            raise ValueError(f"not a Fargate pair with cpu {cpu}; allowed with cpu {cpu}: {allowed}")
        return value

    @field_validator("max_tasks")
    @classmethod
    def _max_above_min(cls, value: int, info: ValidationInfo) -> int:
        floor = info.data.get("min_tasks")
        if floor is not None and value < floor:
            raise ValueError(f"must be >= min_tasks ({floor})")
        return value


TIER_DEFAULTS: dict[str, dict[str, object]] = {
    "dev": {
        "cpu": 512, "memory": 1024, "min_tasks": 1, "max_tasks": 2,
        "log_retention_days": 14, "deletion_protection": False, "access_log_retention_days": 90,
    },
    "prod": {
        "cpu": 1024, "memory": 2048, "min_tasks": 3, "max_tasks": 12,
        "log_retention_days": 90, "deletion_protection": True, "access_log_retention_days": 365,
        "deployment": {"strategy": "CANARY", "canary_percent": 10.0, "canary_interval_minutes": 10,
                       "bake_time_minutes": 10},
    },
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
