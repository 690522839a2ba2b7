"""Network settings: the VPC, its subnets and NAT, and flow logs."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from stacks.base import Section, check_retention, prod_keeps_audit_logs, prod_refuses

AZ_ID = re.compile(r"^[a-z]{2,}[0-9]+(-[a-z]+[0-9]*)?-az[0-9]+$")
"""An availability zone ID such as `use1-az1` (the same physical zone in every account,
unlike a name such as `us-east-1a`, which each account maps to its own zone)."""

EDGE_PREFIX_LIST_MAX = 50
"""Largest edge prefix list allowed: a rule that references it counts as this many rules
against the load balancer group's 60 inbound rules (VPC quotas, "Security groups")."""


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
    availability_zone_ids: list[str] = Field(
        description="The AZs the subnets (and so the databases) live in, by AZ ID (`use1-az1`, see "
        "`aws ec2 describe-availability-zones`), one per `az_count`, unique. Pinned per stack so a change "
        "in which AZs AWS lists never replaces a subnet or a database instance. Changing one replaces the "
        "subnets of that AZ and everything in them. Required.",
    )
    nat: Literal["single", "per_az"] = Field(
        default="single",
        description="NAT gateways: `single` (one shared, cheaper, one AZ failure cuts egress) or "
        "`per_az` (one per AZ). Default: dev single, prod per_az; prod must be per_az.",
    )
    flow_log_retention_days: int = Field(
        default=30, description="Days CloudWatch keeps VPC flow logs. Default: dev 14, prod 365 (prod needs >= 365: "
        "audit-relevant)."
    )
    vpc_endpoints: bool = Field(
        default=True,
        description="Create VPC endpoints (S3 gateway; ECR, CloudWatch Logs, Secrets Manager, "
        "SSM interface endpoints) so image pulls and secrets don't cross the NAT. Default true.",
    )

    edge_prefix_list_max_entries: int = Field(
        default=20,
        ge=1,
        le=EDGE_PREFIX_LIST_MAX,
        description="Capacity of the managed prefix list holding the edge's (Cloudflare's) IPv4 ranges; "
        "the load balancer's HTTPS rule counts as this many of the group's 60 inbound rules. Cloudflare "
        "publishes 15 today (cloudflare.com/ips). Raising it later is an in-place change. Default 20.",
    )

    @field_validator("availability_zone_ids")
    @classmethod
    def _az_ids(cls, value: list[str], info: ValidationInfo) -> list[str]:
        bad = [az for az in value if not AZ_ID.match(az)]
        if bad:
            raise ValueError(f"{bad} are not AZ IDs: use IDs such as use1-az1 (not names such as us-east-1a)")
        if len(set(value)) != len(value):
            raise ValueError(f"{value} names an AZ twice: each subnet tier needs distinct AZs")
        count = info.data.get("az_count")
        if count is not None and len(value) != count:
            raise ValueError(f"{len(value)} AZ IDs given, az_count is {count}: give exactly {count}")
        return value

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

    _prod_flow_logs = prod_keeps_audit_logs("flow_log_retention_days")  # after the CloudWatch check


TIER_DEFAULTS: dict[str, dict[str, object]] = {
    "dev": {"az_count": 2, "nat": "single", "flow_log_retention_days": 14},
    "prod": {"az_count": 3, "nat": "per_az", "flow_log_retention_days": 365},
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
