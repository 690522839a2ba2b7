"""Settings of the database access path: the SSM-managed access host and the local tunnel port."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from stacks.base import Section

GRAVITON_FAMILIES = ("t4g", "m6g", "m7g", "m8g", "c6g", "c7g", "c8g")
"""arm64 (Graviton) instance families the access host may run on: it boots the arm64 Amazon Linux 2023 image."""

ROLE_TAG = "db-access"
"""Value of the `floyo:role` tag on the access host: how `python -m ops tunnel` finds it without stack outputs."""

_INSTANCE_TYPE = re.compile(r"^(?P<family>[a-z0-9]+)\.(?P<size>nano|micro|small|medium|large|[0-9]*xlarge)$")


class DbAccessSettings(Section):
    """How deploys and operators reach the database (`floyo-infra:db_access`): an access host in a private
    subnet, reached only through SSM Session Manager, forwarding a local port to the Aurora writer."""

    instance_type: str = Field(
        default="t4g.nano",
        description="EC2 instance type of the access host; a Graviton (arm64) type such as t4g.nano. "
        "It only relays TCP for port-forwarding sessions. Default: dev t4g.nano, prod t4g.micro. "
        "Changing it stops and starts the host (open tunnels drop).",
    )
    local_port: int = Field(
        default=15432, ge=1024, le=65535,
        description="Local port of the tunnel on the machine running Pulumi (`python -m ops tunnel`); the "
        "postgresql provider always connects to 127.0.0.1 on this port. 1024-65535. Default 15432.",
    )

    @field_validator("instance_type")
    @classmethod
    def _graviton(cls, value: str) -> str:
        match = _INSTANCE_TYPE.match(value)
        if not match or match["family"] not in GRAVITON_FAMILIES:
            families = ", ".join(GRAVITON_FAMILIES)
            raise ValueError(f"must be a Graviton (arm64) instance type such as t4g.nano (families: {families}): "
                             "the access host boots the arm64 Amazon Linux 2023 image")
        if match["size"] in ("nano", "micro", "small") and match["family"] != "t4g":
            raise ValueError(f"{match['family']} has no {match['size']} size; use t4g.{match['size']} or "
                             f"{match['family']}.medium")
        return value


TIER_DEFAULTS: dict[str, dict[str, object]] = {
    "dev": {"instance_type": "t4g.nano"},
    "prod": {"instance_type": "t4g.micro"},
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
