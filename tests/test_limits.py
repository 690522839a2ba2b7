"""Hard limits and replacement safety that the mock runtime would accept but AWS or Cloudflare would not.

Each test names the limit it encodes; the evidence (provider source, AWS and Cloudflare docs) is in
the module that enforces it (`stacks/cdn_plans.py`, `components/alarm_catalogue.py`,
`components/final_snapshot.py`, `components/redis.py`, `components/postgres.py`).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from components.alarm_catalogue import MAX_ALARM_METRICS, AlarmSpec, Metric, redis_alarms
from ops.plan.planner import Plan
from stacks import SettingsError
from stacks.cdn import CdnSettings
from stacks.cdn_plans import PLAN_LIMITS, PLANS
from tests.data_variants import MAX_REPLICAS, prod_limits, prod_limits_config
from tests.planning import one, settings_for, stack_plan, with_changes
from tests.test_edge import ruleset

METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
PROXY = "aws:rds/proxy:Proxy"
PROXY_ENDPOINT = "aws:rds/proxyEndpoint:ProxyEndpoint"
PROXY_TARGET = "aws:rds/proxyTarget:ProxyTarget"
SECRET = "aws:secretsmanager/secret:Secret"


def cdn_with(stack: str, changes: dict[str, Any]) -> CdnSettings:
    return settings_for(with_changes(stack, {"cdn": changes})).cdn


def cache_rules(plan: Plan) -> list[dict[str, Any]]:
    return ruleset(plan, "http_request_cache_settings")["rules"]


def refusal(stack: str, changes: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as caught:
        cdn_with(stack, changes)
    return str(caught.value)


# --- Cloudflare plan entitlements ---------------------------------------------------------

def test_each_stack_file_names_its_plan() -> None:
    for stack in ("dev", "prod"):
        raw = with_changes(stack).values["floyo-infra:cdn"]
        assert '"plan"' in raw, f"Pulumi.{stack}.yaml must set cdn.plan explicitly"
        assert cdn_with(stack, {}).plan in PLANS


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_cache_rule_ttls_meet_the_stack_plan_minimum(stack: str) -> None:
    plan = stack_plan(stack)
    minimum = PLAN_LIMITS[cdn_with(stack, {}).plan].min_cache_ttl_seconds
    rules = cache_rules(plan)
    ttls = [rule["actionParameters"][kind] for rule in rules for kind in ("edgeTtl", "browserTtl")
            if kind in rule.get("actionParameters", {})]
    assert ttls
    for ttl in ttls:
        assert ttl["mode"] in ("override_origin", "respect_origin", "bypass", "bypass_by_default")
        if ttl["mode"] == "override_origin":
            assert ttl["default"] >= minimum, ttl


def test_dev_sends_no_browser_ttl_through_the_bypass_mode_not_zero() -> None:
    rules = cache_rules(stack_plan("dev"))
    cached = next(rule for rule in rules if rule["actionParameters"].get("cache") is True)
    assert cached["actionParameters"]["browserTtl"] == {"mode": "bypass"}


def test_yesterdays_dev_ttls_are_refused_on_pro_naming_key_plan_and_minimum() -> None:
    message = refusal("dev", {"plan": "pro", "cache": {"edge_ttl_seconds": 30, "browser_ttl_mode": "override_origin",
                                                         "browser_ttl_seconds": 0}})
    assert "floyo-infra:cdn.cache.edge_ttl_seconds: got 30; cache rules on a pro zone (cdn.plan) accept at least 3600 s" \
        in message
    assert "floyo-infra:cdn.cache.browser_ttl_seconds: got 0;" in message and "bypass" in message


@pytest.mark.parametrize(("plan", "minimum"), [("pro", 3_600), ("business", 1), ("enterprise", 1)])
def test_cache_ttl_minimum_per_plan(plan: str, minimum: int) -> None:
    ok = cdn_with("prod", {"plan": plan, "cache": {"edge_ttl_seconds": minimum, "browser_ttl_seconds": minimum}})
    assert ok.cache.edge_ttl_seconds == minimum
    if minimum > 1:
        message = refusal("prod", {"plan": plan, "cache": {"edge_ttl_seconds": minimum - 1}})
        assert f"cdn.cache.edge_ttl_seconds: got {minimum - 1}; cache rules on a {plan} zone" in message


def test_free_plan_lacks_the_managed_waf_and_health_checks() -> None:
    base: dict[str, Any] = {"plan": "free", "auth_rate_limit": {"period_seconds": 10, "mitigation_timeout_seconds": 10}}
    message = refusal("prod", {**base, "cache": {"edge_ttl_seconds": 7_200, "browser_ttl_seconds": 7_200}})
    assert "floyo-infra:cdn.plan: got free; the stack executes the Cloudflare Managed Ruleset" in message
    assert "Cloudflare health check, which needs pro" in message
    assert "edge_ttl_seconds" not in message and "auth_rate_limit" not in message  # what Free accepts
    message = refusal("prod", {**base, "cache": {"edge_ttl_seconds": 3_600}, "auth_rate_limit": {"period_seconds": 60}})
    assert "edge_ttl_seconds: got 3600; cache rules on a free zone (cdn.plan) accept at least 7200 s" in message
    assert "auth_rate_limit.period_seconds: got 60; a free zone (cdn.plan) counts over at most 10 s" in message


@pytest.mark.parametrize(
    ("plan", "changes", "path", "limit"),
    [
        ("pro", {"period_seconds": 120}, "auth_rate_limit.period_seconds", "at most 60 s"),
        ("business", {"period_seconds": 3600}, "auth_rate_limit.period_seconds", "at most 600 s"),
        ("pro", {"mitigation_timeout_seconds": 86_400}, "auth_rate_limit.mitigation_timeout_seconds", "at most 3600 s"),
        ("pro", {"action": "log"}, "auth_rate_limit.action", "enterprise"),
    ],
)
def test_rate_limit_per_plan(plan: str, changes: dict[str, Any], path: str, limit: str) -> None:
    message = refusal("prod", {"plan": plan, "auth_rate_limit": changes})
    assert f"floyo-infra:cdn.{path}:" in message and limit in message and f"{plan}" in message


def test_rate_limit_accepted_where_the_plan_allows_it() -> None:
    assert cdn_with("prod", {"plan": "business", "auth_rate_limit": {
        "period_seconds": 600, "mitigation_timeout_seconds": 86_400}}).auth_rate_limit.period_seconds == 600
    assert cdn_with("prod", {"plan": "enterprise", "auth_rate_limit": {
        "period_seconds": 3600, "action": "log"}}).auth_rate_limit.action == "log"


@pytest.mark.parametrize(("plan", "minimum"), [("pro", 60), ("business", 15), ("enterprise", 10)])
def test_health_check_interval_per_plan(plan: str, minimum: int) -> None:
    assert cdn_with("prod", {"plan": plan, "health_check": {"interval_seconds": minimum}}).health_check.interval_seconds \
        == minimum
    if minimum > 10:
        message = refusal("prod", {"plan": plan, "health_check": {"interval_seconds": minimum - 1}})
        assert f"floyo-infra:cdn.health_check.interval_seconds: got {minimum - 1}" in message
        assert f"at most every {minimum} s" in message


def test_all_regions_and_log_rules_need_bigger_plans() -> None:
    assert "ALL_REGIONS needs a business" in refusal("prod", {"health_check": {"regions": ["ALL_REGIONS"]}})
    rule = {"description": "watch", "expression": "true", "action": "log"}
    assert "floyo-infra:cdn.waf_custom_rules[0].action: got log" in refusal("prod", {"waf_custom_rules": [rule]})
    assert cdn_with("prod", {"plan": "enterprise", "waf_custom_rules": [rule]}).waf_custom_rules[0].action == "log"


# --- replacement safety -----------------------------------------------------------------------

def test_fixed_name_proxy_and_endpoint_are_deleted_before_replacement() -> None:
    plan = stack_plan("prod")
    assert one(plan, PROXY).delete_before_replace
    assert one(plan, PROXY_ENDPOINT).delete_before_replace


def test_read_only_endpoint_waits_for_the_proxy_target() -> None:
    plan = stack_plan("prod")
    assert one(plan, PROXY_TARGET).urn in one(plan, PROXY_ENDPOINT).dependencies


@pytest.mark.parametrize(
    ("token", "name"),
    [("aws:rds/cluster:Cluster", "db-cluster"), ("aws:elasticache/replicationGroup:ReplicationGroup", "cache-group")],
)
def test_final_snapshot_names_are_unique_per_incarnation(token: str, name: str) -> None:
    plan = stack_plan("prod")
    identifier = "floyo-prod"
    snapshot = one(plan, token, name).inputs["finalSnapshotIdentifier"]
    assert re.fullmatch(rf"{identifier}-final-[0-9a-f]{{8}}", snapshot), snapshot
    suffixes = [r for r in plan.of_type("random:index/randomId:RandomId") if r.name.startswith(name.split("-")[0])]
    assert len(suffixes) == 1
    keepers = suffixes[0].inputs["keepers"]
    assert keepers["identifier"] == identifier and "kms_key_id" in keepers and "subnet_group" in keepers


def test_every_secret_name_can_coexist_with_its_replacement() -> None:
    plan = prod_limits()  # with a Sentry DSN set as a secret: its secret too
    secrets = plan.of_type(SECRET)
    assert any(r.name.endswith("sentry-dsn") for r in secrets)
    for secret in secrets:
        assert "name" not in secret.inputs and secret.inputs.get("namePrefix"), secret.name


# --- hard limits ------------------------------------------------------------------------------

def _metric_count(alarm: dict[str, Any]) -> int:
    return sum(1 for q in alarm.get("metricQueries", []) if "metric" in q)


@pytest.mark.parametrize("replicas", [None, MAX_REPLICAS])  # the file's; prod_limits()'s
def test_no_metric_alarm_reads_more_than_ten_metrics(replicas: int | None) -> None:
    if replicas is None:
        plan = stack_plan("prod")
    else:
        assert settings_for(prod_limits_config()).cache.replicas == replicas
        plan = prod_limits()
    alarms = plan.of_type(METRIC_ALARM)
    assert alarms and any(_metric_count(a.inputs) > 1 for a in alarms)
    for alarm in alarms:
        assert _metric_count(alarm.inputs) <= MAX_ALARM_METRICS == 10, alarm.name


def test_cache_hit_rate_stays_within_the_limit_at_the_largest_group() -> None:
    t = settings_for(with_changes("prod")).monitoring.thresholds
    members = [f"floyo-prod-{i:03d}" for i in range(1, MAX_REPLICAS + 2)]
    hit_rates = [s for s in redis_alarms(t, member_cluster_ids=members) if s.key.startswith("redis-hit-rate-low")]
    assert len(hit_rates) == len(members)
    assert all(len(s.metrics) == 2 for s in hit_rates)


def test_alarm_spec_refuses_more_than_ten_metrics() -> None:
    metrics = tuple(Metric(f"m{i}", "AWS/ECS", "CPUUtilization", {}, "Average") for i in range(11))
    with pytest.raises(ValueError, match="at most 10"):
        AlarmSpec(key="too-wide", tier="backend", signal="saturation", title="t", description="d",
                  severity="ticket", metrics=metrics, expression=" + ".join(m.id for m in metrics),
                  comparison="GreaterThanThreshold", threshold=1, threshold_setting="s", threshold_text="1",
                  evaluation_periods=1, datapoints_to_alarm=1, treat_missing_data="missing", missing_data_reason="r")


def test_proxy_borrow_timeout_is_0_to_300() -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("prod", {"database": {"proxy": {"connection_borrow_timeout_seconds": 301}}}))
    assert "floyo-infra:database.proxy.connection_borrow_timeout_seconds: got 301" in str(caught.value)
    ok = settings_for(with_changes("prod", {"database": {"proxy": {"connection_borrow_timeout_seconds": 300}}}))
    assert ok.database.proxy.connection_borrow_timeout_seconds == 300


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_vended_log_deliveries_go_under_aws_vendedlogs(stack: str) -> None:
    group = one(stack_plan(stack), "aws:elasticache/replicationGroup:ReplicationGroup")
    destinations = [d["destination"] for d in group.inputs["logDeliveryConfigurations"]]
    assert len(destinations) == 2
    assert all(d.startswith("/aws/vendedlogs/") for d in destinations), destinations
