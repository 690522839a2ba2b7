"""Tenant settings: one entry per tenant, each isolated in its own schema."""

from __future__ import annotations

from pydantic import Field, field_validator

from stacks.base import Section

RESERVED_NAMES = frozenset({"public", "information_schema", "postgres", "migrator", "rdsadmin", "rdsproxyadmin"})
"""Names a tenant's schema/role may not take: PostgreSQL's and RDS's own, and the app's roles."""
RESERVED_PREFIXES = ("pg_", "app_", "rds", "aws_", "floyo_")
"""Prefixes a tenant slug may not start with (system schemas/roles, the app's roles, the master user)."""


class TenantSettings(Section):
    """One tenant (`floyo-infra:tenants[i]`)."""

    slug: str = Field(
        pattern=r"^[a-z][a-z0-9_]{1,39}$",
        description="Tenant identifier: lower case, starts with a letter, 2-40 of [a-z0-9_]. "
        "Names the tenant's schema and its login role. Required.",
    )
    drop_schema: bool = Field(
        default=False,
        description="Let `pulumi up` drop the tenant's schema (and every table in it) when the tenant is "
        "removed from this list. Default false: a removed tenant's schema and data are kept.",
    )

    @field_validator("slug")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_NAMES or value.startswith(RESERVED_PREFIXES):
            raise ValueError(
                f"is reserved; a slug may not be {', '.join(sorted(RESERVED_NAMES))} "
                f"nor start with {', '.join(RESERVED_PREFIXES)}"
            )
        return value
