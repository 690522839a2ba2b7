"""Origin lock settings (`cdn.origin_lock`): mutual TLS between Cloudflare and the load balancer.

See docs/origin-lock.md for the threat, the design and the runbooks (switch-on, rotation).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from stacks.base import Section, prod_refuses

OriginLockMode = Literal["off", "present", "verify"]

_GENERATION = re.compile(r"^[a-z0-9]{1,12}$")

MAX_TRUSTED_CAS = 2
"""At most two CAs in the trust bundle: the current one and, during a rotation, its successor. (An ALB trust
store holds up to 25 CA certificates, a hard quota; two is the overlap a rotation needs.)"""

MAX_CLIENT_VALIDITY_DAYS = 825
"""Longest client certificate we issue (about 27 months): a yearly-ish rotation with slack, never a
forgotten 10-year certificate."""


class OriginLockSettings(Section):
    """Mutual TLS between Cloudflare and the load balancer (`cdn.origin_lock`).

    Cloudflare presents our own client certificate (per-hostname authenticated origin pulls) and the HTTPS
    listener verifies it against a trust store holding our origin-pull CA(s). The Cloudflare IP allow-list on
    the load balancer's security group stays as the layer-3/4 shield.
    """

    mode: OriginLockMode = Field(
        default="verify",
        description="verify: the HTTPS listener refuses any connection without a client certificate from our "
        "origin-pull CA, and Cloudflare presents ours (the lock). present: Cloudflare presents our certificate "
        "but the listener does not ask for one yet: the first deploy of a switch-on, see docs/origin-lock.md "
        "(dev only). off: no client certificate anywhere (dev only). Default verify; prod must verify.",
    )
    trusted_cas: list[str] = Field(
        default_factory=lambda: ["g1"],
        description="Generation labels of the origin-pull CAs in the load balancer's trust bundle (1-2 labels of "
        "1-12 lower-case letters and digits, e.g. g1). Each label is its own CA key and certificate, made by "
        "the program; a second label is the overlap of a rotation. Default [g1].",
    )
    client_ca: str = Field(
        default="g1",
        description="Which generation in trusted_cas signs the client certificate Cloudflare presents. "
        "Switching it is step 3 of a rotation (docs/origin-lock.md). Default g1.",
    )
    client_validity_days: int = Field(
        default=730, ge=30, le=MAX_CLIENT_VALIDITY_DAYS,
        description="Validity of the client certificate a generation issues, in days (30-825), counted from the "
        "deploy that first lists the generation in trusted_cas (the same deploy that makes its CA, valid 1190 "
        "days, so the certificate ends at least a year before its CA). Changing it never re-issues an existing "
        "certificate: it applies to the next generation (renewal is a rotation, docs/origin-lock.md). Default 730.",
    )
    expiry_warning_days: int = Field(
        default=45, ge=7, le=180,
        description="The expiry alarms (tickets) fire when the client certificate Cloudflare presents, or any "
        "trusted CA, has fewer days left than this (7-180). Cloudflare keeps presenting an expired certificate "
        "and the load balancer then refuses every request, so rotate before it. Default 45.",
    )

    _prod_verifies = prod_refuses(
        "mode", lambda value: value != "verify",
        "prod verifies Cloudflare's client certificate (mode verify); present and off are dev only",
    )

    @field_validator("trusted_cas")
    @classmethod
    def _generations(cls, value: list[str]) -> list[str]:
        bad = [g for g in value if not _GENERATION.match(g)]
        if bad:
            raise ValueError(f"{bad} are not generation labels: 1-12 lower-case letters and digits, such as g1")
        if not 1 <= len(value) <= MAX_TRUSTED_CAS:
            raise ValueError(f"must list 1 or {MAX_TRUSTED_CAS} generations (the current CA, and its successor "
                             "while rotating)")
        if len(set(value)) != len(value):
            raise ValueError(f"{value} lists a generation twice")
        return value

    @field_validator("client_ca")
    @classmethod
    def _signer_is_trusted(cls, value: str, info: ValidationInfo) -> str:
        trusted = info.data.get("trusted_cas")
        if trusted is not None and value not in trusted:
            raise ValueError(f"{value!r} is not in trusted_cas {trusted}: the load balancer would refuse the "
                             "certificate Cloudflare presents")
        return value

    @field_validator("expiry_warning_days")
    @classmethod
    def _warning_within_validity(cls, value: int, info: ValidationInfo) -> int:
        validity = info.data.get("client_validity_days")
        if validity is not None and value >= validity:
            raise ValueError(f"must be less than client_validity_days ({validity}), or the alarm fires from day one")
        return value

    @property
    def presents(self) -> bool:
        """Whether Cloudflare presents our client certificate (present or verify)."""
        return self.mode != "off"

    @property
    def verifies(self) -> bool:
        """Whether the HTTPS listener requires and verifies it."""
        return self.mode == "verify"
