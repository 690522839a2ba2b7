"""Tenant settings: one entry per tenant, each isolated in its own schema."""

from __future__ import annotations

from pydantic import Field

from stacks.base import Section


class TenantSettings(Section):
    """One tenant (`floyo-infra:tenants[i]`)."""

    slug: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,39}$",
        description="Tenant identifier: lower case, starts with a letter, 2-40 of [a-z0-9_]. "
        "Names the tenant's schema and role. Required.",
    )
