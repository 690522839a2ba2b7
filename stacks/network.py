"""Network settings: the VPC, its subnets and NAT, and flow logs."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from stacks.base import Section, check_retention, prod_refuses


class NetworkSettings(Section):
    """The VPC every other component lives in (`floyo-infra:network`)."""

    cidr: str = Field(
        default="10.40.0.0/16",
        description="IPv4 range of the VPC, a /16 to /20. Default 10.40.0.0/16. "
        "Replaces the VPC (and everything in it) when changed.",
    )
    az_count: int = Field(
        default=2,
        ge=2,
        le=4,
        description="Availability zones to spread subnets over, 2 to 4 (the load balancer and "
        "Aurora need two). Default: dev 2, prod 3.",
    )
    nat: Literal["single", "per_az"] = Field(
        default="single",
        description="NAT gateways: `single` (one shared, cheaper, one AZ failure cuts egress) or "
        "`per_az` (one per AZ). Default: dev single, prod per_az; prod must be per_az.",
    )
    flow_log_retention_days: int = Field(
        default=30, description="Days CloudWatch keeps VPC flow logs (audit evidence). Default: dev 14, prod 365."
    )
    vpc_endpoints: bool = Field(
        default=True,
        description="Create VPC endpoints (S3 gateway; ECR, CloudWatch Logs, Secrets Manager, "
        "SSM interface endpoints) so image pulls and secrets don't cross the NAT. Default true.",
    )

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"must be an IPv4 network such as 10.40.0.0/16 ({exc})") from None
        if not 16 <= net.prefixlen <= 20:
            raise ValueError("must be a /16 to /20 network")
        if not net.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        return value

    _nat_guardrail = prod_refuses("nat", lambda value: value != "per_az", "prod needs `per_az` so one AZ outage can't cut egress")

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        return check_retention(value)


TIER_DEFAULTS: dict[str, dict[str, object]] = {
    "dev": {"az_count": 2, "nat": "single", "flow_log_retention_days": 14},
    "prod": {"az_count": 3, "nat": "per_az", "flow_log_retention_days": 365},
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
