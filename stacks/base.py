"""Building blocks shared by every settings section.

Every section is a frozen pydantic model that forbids unknown keys, so a typo in
`Pulumi.<stack>.yaml` is an error rather than a silently ignored setting.

Two kinds of keys exist (used by `python -m ops promote`):

* **release keys** (`release_field`) travel from dev to prod when a tested release
  is promoted: the image digest, the app version, feature flags;
* every other key is **environment-specific** (sizes, domains, replica counts,
  thresholds) and is never copied between stacks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

Tier = Literal["dev", "prod"]
"""The environment profile a stack runs with. Decides defaults and guardrails."""

PROJECT = "floyo-infra"
"""The Pulumi project name; also the config namespace of every setting."""

BASELINE_PROJECT = "floyo-baseline"
"""The account baseline's Pulumi project name (`baseline/`); also its config namespace."""

LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827,
    2192, 2557, 2922, 3288, 3653,
)
"""The retention periods CloudWatch Logs accepts (PutRetentionPolicy)."""

RELEASE_MARK = "release"
PLACEHOLDER_MARK = "offline_placeholder"


def release_field(default: Any = ..., **kwargs: Any) -> Any:
    """A field promoted from dev to prod by `python -m ops promote`."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[RELEASE_MARK] = True
    return Field(default, json_schema_extra=extra, **kwargs)


def secret_field(default: Any = ..., *, placeholder: str = "{marker}", **kwargs: Any) -> Any:
    """A `SecretStr` setting, set with `pulumi config set --secret`.

    The offline tools cannot decrypt a `secure:` value; they substitute `placeholder` with
    `{marker}` replaced by `offline-placeholder-secret-for-<key>`. Shape it so it passes the
    field's own checks (an https URL for a URL field); a test holds every secret field to that.
    """
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[PLACEHOLDER_MARK] = placeholder
    return Field(default, json_schema_extra=extra, **kwargs)


class Section(BaseModel):
    """Base of every settings model: strict about unknown keys, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def tier_of(info: ValidationInfo) -> Tier:
    """The tier under validation, passed in through the validation context."""
    context = info.context or {}
    tier = context.get("tier", "dev")
    return "prod" if tier == "prod" else "dev"


def prod_refuses(field: str, refused: Callable[[Any], bool], why: str) -> Any:
    """A prod guardrail on `field`: in a prod stack, a value for which `refused` is true
    fails validation with `why`. Dev accepts it (a relaxation allowed only in dev, by name).

    Use in a settings class body: `_prod_x = prod_refuses("x", lambda v: v < 2, "prod needs ...")`.
    """

    def guard(cls: type, value: Any, info: ValidationInfo) -> Any:
        if tier_of(info) == "prod" and refused(value):
            raise ValueError(why)
        return value

    return field_validator(field)(classmethod(guard))


AUDIT_LOG_DAYS = 365
"""Audit-relevant logs (API calls, network flows, load balancer access, database logins) are kept at
least this long in prod."""


def prod_keeps_audit_logs(field: str) -> Any:
    """Prod guardrail: the audit-relevant log retention in `field` is at least `AUDIT_LOG_DAYS`."""
    return prod_refuses(field, lambda days: days < AUDIT_LOG_DAYS,
                        f"prod keeps audit-relevant logs at least {AUDIT_LOG_DAYS} days")


def check_retention(days: int) -> int:
    """Reject a log retention CloudWatch would refuse."""
    if days not in LOG_RETENTION_DAYS:
        allowed = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
        raise ValueError(f"must be one of the CloudWatch retention periods: {allowed}")
    return days
