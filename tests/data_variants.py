"""Changed configs that several data-tier tests read, each planned once per test run.

A plan costs the same whatever a test reads of it, so tests that change independent settings share one
changed config: each reads only the resources its own setting moves (`tests.planning`'s cache plans an equal
config once per run, across test files and xdist workers). Where every assertion on a variant is about what
the prefix declares, the variant is planned only up to a tier (`upto`); a variant that a test counts, diffs
or runs the policy pack over, or whose drift role or alarms a test reads, is planned whole.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ops.plan.planner import Plan
from ops.stackfile import StackConfig
from tests.planning import PREFIX, plan_with, planned, settings_for, with_changes
from tests.variants import MAX_REPLICAS as MAX_REPLICAS
from tests.variants import prod_with_secrets

FLAGS = {f"flag_{i}": i % 2 == 0 for i in range(50)}
"""Fifty backend feature flags: fifty variables the task definition's size estimate counts."""

TENANTS_BEFORE: list[dict[str, Any]] = [
    {"slug": "acme", "connection_limit": 2, "statement_timeout_ms": 1500}, {"slug": "globex"},
    {"slug": "initech", "drop_schema": True}]
TENANTS_AFTER: list[dict[str, Any]] = [{**TENANTS_BEFORE[0], "drop_schema": True}]
"""dev's tenants before and after a removal, each planned whole once for two tests: `globex` removed plainly,
`initech` removed with `drop_schema` armed, and `acme` kept, its `drop_schema` armed. tests/test_diff_cascade.py
reads the diff's three schema records; tests/test_tenants_postgres.py runs the SQL of what `after` no longer
declares on a real server (the armed `acme` is a change, not a deletion: its schema and data stay)."""

DEV_DATA: dict[str, Any] = {
    "tenants": [{"slug": "acme"}, {"slug": "globex", "drop_schema": True}],
    "backend": {"feature_flags": FLAGS},
    "database": {"skip_final_snapshot": True, "deletion_protection": False},
    "cache": {"replicas": 1},
    "network": {"vpc_endpoints": False},
    "db_access": {"local_port": 25432},
}
"""Dev with independent data-tier settings changed at once; each test reads only what its setting moves:
a tenant that may drop its schema (test_tenants), the task definition's size (test_document_sizes), the
cluster's final snapshot (test_postgres), the cache's replica (test_redis), the access host's path without
VPC endpoints and the tunnel port on the postgresql providers (test_db_access)."""


def dev_data() -> Plan:
    """`DEV_DATA`, planned whole: its tests also say what is NOT there (the only world-open egress, every
    postgresql provider, the set of schemas), and an absence is read from a whole plan (tests/planning.py)."""
    return plan_with("dev", DEV_DATA)


def prod_tenants_config() -> StackConfig:
    """Prod with two tenants instead of the file's three (`globex` overrides its connection limit and a flag,
    and may drop its schema), a default tenant flag, and fifty backend flags: none of the changes but the
    tenant list adds or removes a resource (test_tenants counts them)."""
    return with_changes("prod", {
        "tenants": [{"slug": "acme"},
                    {"slug": "globex", "connection_limit": 4, "feature_flags": {"beta": True}, "drop_schema": True}],
        "tenant_defaults": {"feature_flags": {"beta": False}},
        "backend": {"feature_flags": FLAGS},
    })


def prod_tenants() -> Plan:
    """`prod_tenants_config()`, planned whole (a test compares its resource count with the committed stack's)."""
    return planned(prod_tenants_config())


def prod_limits_config() -> StackConfig:
    """Prod at the most cache replicas (the alarms that read each member) with a Sentry DSN set as a secret
    (the secret it adds; the drift role that must read it): `tests.variants.prod_with_secrets(True)`, which
    also sets a webhook, alarm thresholds and a sample rate for test_monitoring (one whole plan for both)."""
    config = prod_with_secrets(mark_secret=True)
    assert settings_for(config).cache.replicas == MAX_REPLICAS and PREFIX + "monitoring.sentry_dsn" in config.secure_paths
    return config


def prod_limits() -> Plan:
    """`prod_limits_config()`, planned whole (its alarms, secrets and drift role come after the data tier)."""
    return planned(prod_limits_config())


@cache
def phase_plan(stack: str, passwords: str | None, gateway: bool) -> Plan:
    """A migration deploy of `stack`'s committed tenants, planned whole (the tests diff the phases):
    `database.legacy_password_logins` and `tenant_defaults.legacy_gateway` (docs/tenant-isolation.md)."""
    return plan_with(stack, {"tenant_defaults": {"legacy_gateway": gateway},
                             "database": {"legacy_password_logins": passwords}})
