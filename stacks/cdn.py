"""Edge settings: the Cloudflare zone and the public host names."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from stacks.base import Section

_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


class CdnSettings(Section):
    """Cloudflare in front of the load balancer (`floyo-infra:cdn`)."""

    zone: str = Field(
        default="floyo.app",
        description="The Cloudflare zone (domain) Floyo is served from. Looked up, never created. "
        "Default floyo.app.",
    )
    api_subdomain: str = Field(
        default="api",
        description="Label of the API host inside the zone: `api` gives api.<zone>. "
        "Default: dev api-dev, prod api.",
    )

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not _HOST.match(value):
            raise ValueError("must be a lower-case DNS name such as floyo.app")
        return value

    @field_validator("api_subdomain")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _LABEL.match(value):
            raise ValueError("must be one lower-case DNS label such as api or api-dev")
        return value

    @property
    def api_host(self) -> str:
        """The public API host name, e.g. api.floyo.app."""
        return f"{self.api_subdomain}.{self.zone}"


TIER_DEFAULTS: dict[str, dict[str, object]] = {
    "dev": {"api_subdomain": "api-dev"},
    "prod": {"api_subdomain": "api"},
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
