"""Issue 22: what the cloud would refuse, or what would be silently ignored, is refused offline with one
message naming the key, the value and what is allowed (stacks/consistency.py, stacks/aws_facts.py,
stacks/aws_cron.py, stacks/windows.py)."""

from __future__ import annotations

from typing import Any

import pytest

from ops.stackfile import ROOT
from stacks import SettingsError
from stacks.aws_cron import cron_problem
from stacks.aws_facts import AURORA_POSTGRES_VERSIONS, az_prefix, az_region, regions
from stacks.baseline import load_baseline_settings
from tests.planning import settings_for, with_changes

BASELINE = ROOT / "baseline"


def refusal(stack: str, changes: dict[str, Any], config: dict[str, Any] | None = None) -> str:
    base = with_changes(stack, changes)
    values = {**base.values, **(config or {})}
    with pytest.raises(SettingsError) as caught:
        from stacks import load_settings

        load_settings(stack, {k: v for k, v in values.items() if v is not None}, base.secret_keys, base.secure_paths)
    return str(caught.value)


@pytest.mark.parametrize(("stack", "changes", "config", "expected"), [
    ("dev", {}, {"aws:region": "us-eats-1"}, "aws:region: got 'us-eats-1'; not an AWS region; did you mean us-east-1?"),
    ("dev", {"network": {"availability_zone_ids": ["usw2-az1", "usw2-az2"]}}, {},
     "usw2-az1 (us-west-2), usw2-az2 (us-west-2) not in aws:region us-east-1"),
    ("dev", {"network": {"availability_zone_ids": ["use1-az1", "zzz9-az2"]}}, {}, "zzz9-az2 (no known region)"),
    ("dev", {"database": {"engine_version": "14.14"}}, {}, "database.engine_version: got '14.14'; not an Aurora"),
    ("dev", {"database": {"engine_version": "15.16"}}, {},
     "database.engine_version: got '15.16'; newer than 15.15, the newest 15.x in stacks/aws_facts.py"),
    ("dev", {"database": {"engine_version": "14.99"}}, {}, "add it to stacks/aws_facts.py after checking "
     "`aws rds describe-db-engine-versions --engine aurora-postgresql`"),
    ("dev", {"database": {"backup_window": "04:00-05:00", "maintenance_window": "sun:04:30-sun:05:30"}}, {},
     "database.backup_window: got '04:00-05:00'; overlaps database.maintenance_window"),
    ("dev", {"database": {"backup_window": "03:00-03:15"}}, {}, "RDS needs at least 30 minutes"),
    ("dev", {"cache": {"snapshot_window": "06:00-07:00"}}, {},
     "cache.snapshot_window: got '06:00-07:00'; overlaps cache.maintenance_window"),
    ("dev", {"cache": {"maintenance_window": "sun:06:30-sun:07:00"}}, {}, "ElastiCache needs at least 60 minutes"),
    ("dev", {"tenants": [{"slug": "none"}]}, {}, "tenants[none].slug: got 'none'; is reserved"),
    ("dev", {"tenants": [{"slug": "current_user"}]}, {}, "tenants[current_user].slug: got 'current_user'; is reserved"),
    ("dev", {"backend": {"deployment": {"strategy": "LINEAR", "canary_percent": 20}}}, {},
     "backend.deployment.canary_percent: got a value; has no effect here: it applies only with "
     "backend.deployment.strategy CANARY"),
    ("dev", {"database": {"serverless": False, "max_capacity": 8}}, {}, "database.max_capacity: got a value; has no effect"),
    ("dev", {"tier_override": "dev"}, {}, "tier_override: got 'dev'; changes nothing"),
    ("prod", {"tier_override": "prod"}, {}, "tier_override: got 'prod'; changes nothing"),
    ("dev", {}, {"floyo_infra:backend": '{"cpu": 1024}'},
     "floyo_infra:backend: got '{\"cpu\": 1024}'; unknown namespace `floyo_infra:`, which nothing reads; "
     "did you mean `floyo-infra:backend`?"),
    ("dev", {}, {"floyo-baseline:backup": '{"copy_region": "us-west-2"}'}, "belongs to the floyo-baseline project"),
    ("dev", {}, {"floyo-infra:backend.cpu": "1024"},
     "pulumi config set --path 'floyo-infra:backend.cpu' <value>"),
    ("dev", {"backend": {"cpuu": 1024}}, {}, "backend.cpuu: got 1024; unknown key, which nothing reads; did you mean `cpu`?"),
    # a flat key under a misspelt setting was dropped by the loader and reached nobody: silently ignored
    ("dev", {}, {"floyo-infra:bakcend.cpu": "1024"},
     "floyo-infra:bakcend.cpu: got '1024'; unknown key `bakcend`, which nothing reads; did you mean `floyo-infra:backend`?"),
    ("dev", {"cdn": {"cache": {"static_path_prefixes": ["/static/*"]}}}, {}, "starts_with matches literally"),
    ("dev", {"cdn": {"cache": {"static_path_prefixes": ["/api/static/"]}}}, {}, "lie under a bypass prefix"),
    ("dev", {"cdn": {"cache": {"static_path_prefixes": ["/"]}}}, {}, "'/' would cache every path"),
    ("dev", {"cdn": {"cache": {"static_path_prefixes": ["/he"]}}}, {}, "covers backend.health_check.path (/health)"),
])
def test_each_class_is_refused_with_key_value_and_what_is_allowed(stack: str, changes: dict[str, Any],
                                                                  config: dict[str, Any], expected: str) -> None:
    message = refusal(stack, changes, config)
    assert expected in message, message
    assert "Traceback" not in message


def test_a_copied_stack_file_still_tagged_as_another_stack_is_refused() -> None:
    """A file copied from dev tagged every resource `stack: dev` and broke both stacks' budgets."""
    config = with_changes("dev")
    from stacks import load_settings

    with pytest.raises(SettingsError) as caught:
        load_settings("staging", config.values, config.secret_keys, config.secure_paths)
    assert "aws:defaultTags.tags.stack: got 'dev'; must be 'staging'" in str(caught.value)


def test_redis_without_a_version_gets_redis_default() -> None:
    """`cache.engine: redis` alone used to crash the plan (KeyError: the default version was valkey's)."""
    settings = settings_for(with_changes("dev", {"cache": {"engine": "redis"}}))
    assert (settings.cache.engine_version, settings.cache.parameter_family) == ("7.1", "redis7")


def test_settings_in_their_mode_and_the_committed_stacks_pass() -> None:
    settings_for(with_changes("dev", {"backend": {"deployment": {"strategy": "CANARY", "canary_percent": 20}}}))
    settings_for(with_changes("dev", {"database": {"serverless": True, "max_capacity": 8}}))
    for stack in ("dev", "prod"):
        settings_for(with_changes(stack))


def test_every_az_prefix_names_one_region_and_the_table_is_dated() -> None:
    prefixes = [az_prefix(r) for r in regions()]
    assert len(prefixes) == len(set(prefixes))
    assert (az_region("use1-az4"), az_region("apne1-az1"), az_region("euc1-az2"), az_region("usgw1-az1")) == (
        "us-east-1", "ap-northeast-1", "eu-central-1", "us-gov-west-1")
    assert az_region("use1-bos1-az1") is None  # a Local Zone is not a region AZ
    assert "16.8" in AURORA_POSTGRES_VERSIONS["16"] and "16.7" not in AURORA_POSTGRES_VERSIONS["16"]
    # the minors AWS released by Oct 2026 (aws-cdk AuroraPostgresEngineVersion VER_17_7 ... VER_14_20)
    assert {"17.7", "16.11", "15.15", "14.20"} <= {v for vs in AURORA_POSTGRES_VERSIONS.values() for v in vs}


def test_a_released_newer_minor_is_accepted_and_the_default_stays_15_14() -> None:
    assert settings_for(with_changes("dev", {"database": {"engine_version": "15.15"}})).database.engine_version == "15.15"
    assert settings_for(with_changes("dev")).database.engine_version == "15.14"


@pytest.mark.parametrize(("expression", "problem"), [
    ("cron(0 5 ? * SAT *)", None),
    ("cron(0/15 8-17 ? * MON-FRI *)", None),
    ("cron(0 10 L * ? *)", None),
    ("cron(0 10 ? * 6#3 2026-2030)", None),
    ("cron(0 5 * * SAT *)", "exactly one of day-of-month and day-of-week must be `?`"),
    ("cron(0 5 * * *)", "has 5 fields"),
    ("cron(60 5 ? * SAT *)", "minutes: '60' is not 0-59"),
    ("cron(0 5 ? * FUN *)", "day-of-week: 'FUN'"),
    ("cron(? 5 * * SAT *)", "`?` is allowed only in day-of-month or day-of-week"),
    ("rate(7 days)", "must be cron("),
])
def test_aws_cron_syntax(expression: str, problem: str | None) -> None:
    found = cron_problem(expression)
    assert (found is None) if problem is None else (found is not None and problem in found), found


def _baseline(changes: dict[str, Any] | None = None, config: dict[str, Any] | None = None,
              stack: str = "main-use1") -> str:
    base = with_changes("main-use1", changes or {}, root=BASELINE)
    values = {**base.values, **(config or {})}
    with pytest.raises(SettingsError) as caught:
        load_baseline_settings(stack, values, base.secret_keys, base.secure_paths)
    assert caught.value.project == "floyo-baseline"
    return str(caught.value)


@pytest.mark.parametrize(("changes", "config", "expected"), [
    ({"backup": {"copy_region": "us-wset-2"}}, {}, "backup.copy_region: got 'us-wset-2'; not an AWS region"),
    ({"backup": {"copy_region": "cn-north-1"}}, {}, "AWS Backup copies only within a partition"),
    ({"backup": {"restore_test_schedule": "cron(0 5 * * SAT *)"}}, {}, "exactly one of day-of-month"),
    ({"backup": {"restore_test_schedule": "rate(7 days)"}}, {}, "must be cron("),
    ({}, {"aws:region": "eu-wst-1"}, "did you mean eu-west-1?"),
    ({}, {"floyo-infra:tier": "prod"}, "belongs to the floyo-infra project"),
    ({}, {"floyo-baseline:backup.copy_region": "us-west-2"}, "pulumi config set --path 'floyo-baseline:backup.copy_region'"),
])
def test_the_baseline_gets_the_same_checks(changes: dict[str, Any], config: dict[str, Any], expected: str) -> None:
    message = _baseline(changes, config)
    assert expected in message, message


def test_the_baseline_stack_tag_names_its_stack() -> None:
    assert "aws:defaultTags.tags.stack: got 'baseline-main-use1'; must be 'baseline-other-use1'" in _baseline(
        stack="other-use1")
