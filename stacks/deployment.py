"""How a new backend release replaces the old one (`backend.deployment`) and how migrations run.

The values and ranges are the ones ECS accepts (UpdateService `deploymentConfiguration`; the
Terraform provider validates the same: canary percent 0.1-100, linear step 3-100, every bake
time 0-1440 minutes).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stacks.base import Section, prod_refuses

Strategy = Literal["ROLLING", "CANARY", "LINEAR", "BLUE_GREEN"]
GRADUAL: frozenset[str] = frozenset({"CANARY", "LINEAR", "BLUE_GREEN"})
"""Strategies where ECS shifts load balancer traffic between two target groups."""

MAX_BAKE_MINUTES = 1440
"""ECS's ceiling on every bake time (24 h)."""


class DeploymentSettings(Section):
    """The rollout strategy of the backend service (`backend.deployment`)."""

    strategy: Strategy = Field(
        default="ROLLING",
        description="ROLLING (replace tasks in place, fast), CANARY (a small share of traffic first, "
        "the rest after `canary_interval_minutes`), LINEAR (equal steps), BLUE_GREEN (all at once to a "
        "second fleet, old fleet kept for `bake_time_minutes`). All but ROLLING shift traffic between "
        "two target groups and roll back on the backend's paging alarms. Default: dev ROLLING, prod "
        "CANARY; prod refuses ROLLING.",
    )
    canary_percent: float = Field(
        default=10.0, ge=0.1, le=100.0,
        description="CANARY: share of production traffic (%) the new revision gets first. 0.1-100. Default 10.",
    )
    canary_interval_minutes: int = Field(
        default=10, ge=0, le=MAX_BAKE_MINUTES,
        description="CANARY: minutes the canary share runs before all traffic moves. 0-1440. Default 10.",
    )
    linear_step_percent: float = Field(
        default=25.0, ge=3.0, le=100.0,
        description="LINEAR: share of traffic (%) moved per step. 3-100. Default 25.",
    )
    linear_interval_minutes: int = Field(
        default=5, ge=0, le=MAX_BAKE_MINUTES,
        description="LINEAR: minutes between steps. 0-1440. Default 5.",
    )
    bake_time_minutes: int = Field(
        default=0, ge=0, le=MAX_BAKE_MINUTES,
        description="CANARY/LINEAR/BLUE_GREEN: minutes the old revision is kept (and the alarms still "
        "roll back) after all traffic has moved. 0-1440. Default: dev 0, prod 10.",
    )

    resend_load_balancers: bool = Field(
        default=False,
        description="One `pulumi up` only: send the service's load balancer block and the listener rules' "
        "forward weights as declared. Otherwise both are left to ECS after creation, because ECS swaps the "
        "two target groups on every gradual release and resending the declared pair makes the next release "
        "register in the serving group (terraform-provider-aws #45678). Needed once after changing the "
        "strategy to or from ROLLING, `container_port`, or a target group replacement; see docs/releases.md. "
        "Default false.",
    )

    _prod_gradual = prod_refuses(
        "strategy", lambda value: value not in GRADUAL,
        "prod releases gradually (CANARY, LINEAR or BLUE_GREEN) so the alarms can roll a bad release back "
        "before it takes all traffic; only dev may use ROLLING",
    )

    @property
    def gradual(self) -> bool:
        """True when ECS shifts traffic between two target groups."""
        return self.strategy in GRADUAL

    @property
    def ecs_owns_traffic_shift(self) -> bool:
        """True when Pulumi must leave the service's load balancers and the rules' weights to ECS."""
        return self.gradual and not self.resend_load_balancers

    def rollout_minutes(self) -> int:
        """Longest time ECS may spend shifting traffic and baking, beyond starting the tasks."""
        if self.strategy == "CANARY":
            shifting = self.canary_interval_minutes
        elif self.strategy == "LINEAR":
            steps = -(-100 // max(int(self.linear_step_percent), 1))  # ceil(100 / step)
            shifting = steps * self.linear_interval_minutes
        else:
            shifting = 0
        return shifting + (self.bake_time_minutes if self.gradual else 0)


def check_command(value: list[str]) -> list[str]:
    """A container command: at least one non-empty word, no shell string in disguise."""
    if not value or any(not word.strip() for word in value):
        raise ValueError("must be a non-empty list of non-empty words, e.g. [alembic, upgrade, head]")
    return value

