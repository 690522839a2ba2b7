"""The environment variable names the program itself gives the backend container.

This is the one list: the tiers hand the backend only names from it (`__main__.py`'s `claim` raises
otherwise, so the list cannot fall behind the program), and the settings refuse these names
in `backend.environment` and `backend.secrets`, where they would be silently overridden or
duplicated in the task definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

PROGRAM_SECRETS: tuple[str, ...] = (
    "DATABASE_URL", "DATABASE_READ_URL", "REDIS_URL", "REDIS_AUTH_TOKEN", "SENTRY_DSN", "DATABASE_TENANT_URL",
)
"""Secret references (`secrets` of the container definition) the program sets, or once set: the database
URLs carried passwords before end-to-end IAM, and the cache's URL and AUTH token before its IAM users: they
stay refused, so no password comes back by setting."""

PROGRAM_ENV: tuple[str, ...] = (
    "APP_VERSION", "PORT",
    "DATABASE_HOST", "DATABASE_READ_HOST", "DATABASE_PORT", "DATABASE_NAME", "DATABASE_SSLMODE",
    "DATABASE_POOL_SIZE", "DATABASE_SSLROOTCERT", "DATABASE_AUTH", "DATABASE_REGION", "DATABASE_USER",
    "DATABASE_READ_USER", "DATABASE_TENANT_USER_PREFIX", "REDIS_HOST", "REDIS_PORT", "REDIS_TLS",
    "REDIS_AUTH", "REDIS_USER", "REDIS_CACHE_NAME", "REDIS_REGION",
    "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_TRACES_SAMPLER", "OTEL_TRACES_SAMPLER_ARG", "SENTRY_ENVIRONMENT", "TENANT_SETTINGS",
)
"""Plain variables the program sets."""

PROGRAM_PREFIXES: tuple[str, ...] = ("FEATURE_",)
"""Prefixes the program owns: `backend.feature_flags` become `FEATURE_<NAME>`."""


def feature_environment(flags: Mapping[str, bool]) -> dict[str, str]:
    """`backend.feature_flags` as the task's variables: `FEATURE_<NAME upper-cased>` = `true`|`false`."""
    return {feature_variable(flag): "true" if on else "false" for flag, on in flags.items()}


def feature_variable(flag: str) -> str:
    """The variable of feature flag `flag` (`new_editor` -> `FEATURE_NEW_EDITOR`)."""
    return f"{PROGRAM_PREFIXES[0]}{flag.upper()}"


def is_reserved(name: str) -> bool:
    """Whether the program sets `name` itself."""
    return name in PROGRAM_SECRETS or name in PROGRAM_ENV or name.startswith(PROGRAM_PREFIXES)


def reserved_summary() -> str:
    """The reserved names, for error messages."""
    return ", ".join([*PROGRAM_SECRETS, *PROGRAM_ENV, *(f"{p}*" for p in PROGRAM_PREFIXES)])


def claim(names: Iterable[str]) -> None:
    """Fail loudly when the program sets a name this module does not list (a programming error)."""
    unlisted = sorted(n for n in names if not is_reserved(n))
    if unlisted:
        raise RuntimeError(f"the program sets {unlisted} for the backend without listing them in "
                           "stacks/program_env.py, so the settings would not refuse them")
