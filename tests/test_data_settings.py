"""Data-tier settings: bad values rejected by key, prod guardrails, and the connection capacity check."""

from __future__ import annotations

import pytest

from stacks import SettingsError
from tests.planning import settings_for, with_changes


def error_for(stack: str, changes: dict) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes(stack, changes))
    return caught.value


@pytest.mark.parametrize(
    ("changes", "path", "hint"),
    [
        ({"database": {"engine_version": "16"}}, "floyo-infra:database.engine_version", "15.14"),
        ({"database": {"engine_version": "9.6.1"}}, "floyo-infra:database.engine_version", "major 14-15"),
        ({"database": {"engine_version": "13.20"}}, "floyo-infra:database.engine_version", "major 14-15"),
        # PostgreSQL 16+ grants created roles back to the master: an indirect rds_iam member, locked out.
        ({"database": {"engine_version": "16.8"}}, "floyo-infra:database.engine_version", "indirect rds_iam member"),
        ({"database": {"engine_version": "17.6"}}, "floyo-infra:database.engine_version", "WITH ADMIN OPTION"),
        ({"database": {"database_name": "postgres"}}, "floyo-infra:database.database_name", "reserved"),
        ({"database": {"instance_class": "db.m1.small"}}, "floyo-infra:database.instance_class", "r7g"),
        ({"database": {"min_capacity": 0.3}}, "floyo-infra:database.min_capacity", "0.5"),
        ({"database": {"min_capacity": 8, "max_capacity": 4}}, "floyo-infra:database.max_capacity", "min_capacity"),
        ({"database": {"backup_retention_days": 40}}, "floyo-infra:database.backup_retention_days", "less than or equal to 35"),
        ({"database": {"performance_insights_retention_days": 30}},
         "floyo-infra:database.performance_insights_retention_days", "multiple of 31"),
        ({"database": {"monitoring_interval_seconds": 2}}, "floyo-infra:database.monitoring_interval_seconds", "60"),
        ({"database": {"backup_window": "3am"}}, "floyo-infra:database.backup_window", "hh:mm-hh:mm"),
        ({"database": {"log_retention_days": 10}}, "floyo-infra:database.log_retention_days", "14"),
        ({"database": {"proxy": {"max_connections_percent": 50, "max_idle_connections_percent": 60}}},
         "floyo-infra:database.proxy.max_idle_connections_percent", "max_connections_percent (50)"),
        ({"database": {"proxy": {"idle_client_timeout_seconds": 0}}},
         "floyo-infra:database.proxy.idle_client_timeout_seconds", "greater than or equal to 1"),
        ({"database": {"admin_host": "127.0.0.1"}}, "floyo-infra:database.admin_host", "unknown key"),
        ({"db_access": {"instance_type": "t3.micro"}}, "floyo-infra:db_access.instance_type", "Graviton (arm64)"),
        ({"db_access": {"instance_type": "m7g.nano"}}, "floyo-infra:db_access.instance_type", "m7g has no nano size"),
        ({"db_access": {"local_port": 80}}, "floyo-infra:db_access.local_port", "greater than or equal to 1024"),
        ({"cache": {"engine_version": "7.1"}}, "floyo-infra:cache.engine_version", "8.0, 8.1"),
        ({"cache": {"engine": "redis", "engine_version": "8.1"}}, "floyo-infra:cache.engine_version", "7.1"),
        ({"cache": {"node_type": "r7g.large"}}, "floyo-infra:cache.node_type", "cache.r7g.large"),
        ({"cache": {"maxmemory_policy": "lru"}}, "floyo-infra:cache.maxmemory_policy", "allkeys-lru"),
        ({"cache": {"replicas": 6}}, "floyo-infra:cache.replicas", "less than or equal to 5"),
        ({"tenants": [{"slug": "public"}]}, "floyo-infra:tenants[public].slug", "reserved"),
        ({"tenants": [{"slug": "pg_catalog2"}]}, "floyo-infra:tenants[pg_catalog2].slug", "pg_"),
        ({"tenants": [{"slug": "acme"}, {"slug": "app_rw"}]}, "floyo-infra:tenants[app_rw].slug", "app_"),
        ({"tenants": [{"slug": "acme"}, {"slug": "acme"}]}, "floyo-infra:tenants", "duplicate tenant slugs ['acme']"),
        ({"tenants": [{"slug": "acme", "drop": True}]}, "floyo-infra:tenants[acme].drop",
         "valid keys here: connection_limit, drop_schema"),
    ],
)
def test_bad_value_is_named(stack: str, changes: dict, path: str, hint: str) -> None:
    message = str(error_for(stack, changes))
    assert f"{path}:" in message
    assert hint in message


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"database": {"deletion_protection": False}}, "floyo-infra:database.deletion_protection"),
        ({"database": {"skip_final_snapshot": True}}, "floyo-infra:database.skip_final_snapshot"),
        ({"database": {"backup_retention_days": 7}}, "floyo-infra:database.backup_retention_days"),
        ({"database": {"reader_count": 1}}, "floyo-infra:database.reader_count"),
        ({"database": {"monitoring_interval_seconds": 0}}, "floyo-infra:database.monitoring_interval_seconds"),
        ({"database": {"idle_in_transaction_session_timeout_ms": 0}},
         "floyo-infra:database.idle_in_transaction_session_timeout_ms"),
        ({"cache": {"replicas": 0}}, "floyo-infra:cache.replicas"),
        ({"cache": {"snapshot_retention_days": 0}}, "floyo-infra:cache.snapshot_retention_days"),
    ],
)
def test_prod_guardrails(changes: dict, path: str) -> None:
    assert path + ":" in str(error_for("prod", changes))
    settings_for(with_changes("dev", changes))  # dev may relax each one, by name


def test_tier_defaults() -> None:
    dev, prod = settings_for(with_changes("dev")), settings_for(with_changes("prod"))
    assert (dev.database.reader_count, prod.database.reader_count) == (1, 2)
    assert dev.database.serverless and not prod.database.serverless
    assert prod.database.backup_retention_days >= 14 and prod.database.deletion_protection
    assert (dev.cache.replicas, prod.cache.replicas) == (0, 2)


def test_capacity_check_rejects_a_too_large_pool(stack: str) -> None:
    err = error_for(stack, {"backend": {"db_pool_size": 200}})
    settings = settings_for(with_changes(stack))
    db, tasks = settings.database, settings.backend.max_tasks
    ceiling = db.max_connections * db.proxy.max_connections_percent // 100
    assert [p.path for p in err.problems] == ["floyo-infra:backend.db_pool_size"]
    message = str(err)
    assert f"backend.max_tasks ({tasks}) x db_pool_size (200) = {tasks * 200}" in message
    assert f"proxy's ceiling of {ceiling}" in message and f"database.max_connections {db.max_connections}" in message
    # The suggestion leaves the tenants their share of the same ceiling, and is accepted.
    gateway = settings.tenant_defaults.tenant_connections if settings.tenants else 0
    assert f"db_pool_size <= {(ceiling - gateway) // tasks}" in message
    settings_for(with_changes(stack, {"backend": {"db_pool_size": (ceiling - gateway) // tasks}}))


def test_capacity_check_counts_tasks_too() -> None:
    # 20 tasks x 20 = 400 > 80% of 400 (320), though each value alone is fine.
    err = error_for("dev", {"backend": {"max_tasks": 20, "db_pool_size": 20}})
    assert "= 400 connections per instance exceeds the proxy's ceiling of 320" in str(err)


def test_proxy_ceiling_must_leave_room_in_max_connections() -> None:
    err = error_for("dev", {"database": {"max_connections": 100, "reserved_connections": 20,
                                         "proxy": {"max_connections_percent": 90}}})
    problem = next(p for p in err.problems if p.path == "floyo-infra:database.proxy.max_connections_percent")
    assert "ceiling of 90 connections plus database.reserved_connections (20) exceeds database.max_connections (100)" in (
        problem.allowed)
    assert "max_connections_percent <= 80" in problem.allowed
