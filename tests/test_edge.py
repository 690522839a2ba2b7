"""The edge: Cloudflare caching, TLS, WAF, rate limits, proxied hosts, origin lock and health check.

Cache and rate-limit expressions are run against sample requests with `tests.rules_language`,
so these tests check what the generated rules do, not how they are spelled.
"""

from __future__ import annotations

from typing import Any

import pytest

from ops.plan.mocks import CLOUDFLARE_IPV4
from ops.plan.planner import Plan
from ops.stackfile import read_stack_config
from stacks import SettingsError
from stacks.cdn import CdnSettings
from tests.planning import one, plan_with, settings_for, with_changes
from tests.rules_language import Request, cache_decision, evaluate
from tests.tier_variants import DEV_RELAXED, PROD_EDGE, WAF_CUSTOM_RULES

RULESET = "cloudflare:index/ruleset:Ruleset"
ZONE_SETTING = "cloudflare:index/zoneSetting:ZoneSetting"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
HEALTHCHECK = "cloudflare:index/healthcheck:Healthcheck"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"


def cdn(stack: str, changes: dict[str, Any] | None = None) -> CdnSettings:
    return settings_for(with_changes(stack, {"cdn": changes} if changes else None)).cdn


def ruleset(plan: Plan, phase: str) -> dict[str, Any]:
    found = [r.inputs for r in plan.of_type(RULESET) if r.inputs["phase"] == phase]
    assert len(found) == 1, f"expected one {phase} ruleset, found {len(found)}"
    assert found[0]["kind"] == "zone"
    return found[0]


def zone_setting(plan: Plan, setting_id: str) -> Any:
    found = [r.inputs for r in plan.of_type(ZONE_SETTING) if r.inputs["settingId"] == setting_id]
    assert len(found) == 1, f"expected one {setting_id} zone setting, found {len(found)}"
    return found[0]["value"]


def decide(plan: Plan, request: Request) -> dict[str, Any]:
    return cache_decision(ruleset(plan, "http_request_cache_settings")["rules"], request)


# --- caching ----------------------------------------------------------------------------

def test_api_paths_bypass_the_cache(plan: Plan, stack: str) -> None:
    s = cdn(stack)
    for prefix in s.cache.bypass_path_prefixes:
        for path in (prefix + "v1/projects", prefix + "bundle.js", prefix.rstrip("/") + "/x.png"):
            assert decide(plan, Request(s.api_host, path)).get("cache") is False, path


def test_static_paths_are_cached_with_the_stack_ttls(plan: Plan, stack: str) -> None:
    s = cdn(stack)
    paths = [prefix + "logo" for prefix in s.cache.static_path_prefixes]
    paths += [f"/pages/app.{ext}" for ext in s.cache.static_extensions]
    assert paths
    for path in paths:
        decided = decide(plan, Request(s.api_host, path))
        assert decided.get("cache") is True, path
        assert decided["edgeTtl"] == {"mode": "override_origin", "default": s.cache.edge_ttl_seconds}
        browser = {"dev": {"mode": "bypass"},
                   "prod": {"mode": "override_origin", "default": s.cache.browser_ttl_seconds}}[stack]
        assert decided["browserTtl"] == browser
    assert {"dev": 3_600, "prod": 86_400}[stack] == s.cache.edge_ttl_seconds


def test_signed_in_and_websocket_requests_bypass(plan: Plan, stack: str) -> None:
    s = cdn(stack)
    static = s.cache.static_path_prefixes[0] + "app.css"
    assert decide(plan, Request(s.api_host, static, {"Cookie": "theme=dark"}))["cache"] is True
    assert decide(plan, Request(s.api_host, static, {"Authorization": "Bearer t"}))["cache"] is False
    for cookie in s.cache.session_cookies:
        assert decide(plan, Request(s.api_host, static, {"Cookie": f"theme=dark; {cookie}=abc"}))["cache"] is False
    assert decide(plan, Request(s.api_host, "/ws", {"Upgrade": "websocket"}))["cache"] is False
    assert decide(plan, Request(s.api_host, "/live/feed.js", {"Upgrade": "websocket"}))["cache"] is False


def test_cache_rules_leave_other_hosts_and_pages_alone(plan: Plan, stack: str) -> None:
    s = cdn(stack)
    assert decide(plan, Request(f"www.{s.zone}", s.cache.static_path_prefixes[0] + "app.css")) == {}
    assert decide(plan, Request(s.api_host, "/")) == {}


def test_cache_settings_drive_the_rules() -> None:
    plan = plan_with("dev", DEV_RELAXED)  # cache: /media/, pdf, bypass /graphql, respect_origin_cache_control
    host = cdn("dev").api_host
    assert decide(plan, Request(host, "/media/a"))["edgeTtl"] == {"mode": "respect_origin"}
    assert decide(plan, Request(host, "/docs/a.pdf"))["cache"] is True
    assert decide(plan, Request(host, "/static/a")) == {}
    assert decide(plan, Request(host, "/graphql/media/a.pdf"))["cache"] is False


def test_tiered_cache_is_on(plan: Plan) -> None:
    assert one(plan, "cloudflare:index/argoTieredCaching:ArgoTieredCaching").inputs["value"] == "on"
    assert one(plan, "cloudflare:index/tieredCache:TieredCache").inputs["value"] == "on"


# --- TLS and zone settings --------------------------------------------------------------

def test_ssl_strict_and_tls_12_minimum(plan: Plan) -> None:
    assert zone_setting(plan, "ssl") == "strict"
    assert zone_setting(plan, "min_tls_version") == "1.2"
    assert zone_setting(plan, "tls_1_3") == "on"


def test_min_tls_setting_is_applied() -> None:
    assert zone_setting(plan_with("dev", DEV_RELAXED), "min_tls_version") == "1.3"  # min_tls_version 1.3


def test_https_and_protocol_settings_on(plan: Plan) -> None:
    for setting in ("always_use_https", "automatic_https_rewrites", "opportunistic_encryption", "http3",
                    "websockets"):
        assert zone_setting(plan, setting) == "on", setting


def test_no_brotli_setting_its_api_reached_end_of_life(plan: Plan) -> None:
    """Cloudflare ended the brotli setting's API on 2024-06-14 (Brotli is on for every zone): a PATCH may fail."""
    declared = {s.inputs.get("settingId") for s in plan.of_type("cloudflare:index/zoneSetting:ZoneSetting")}
    assert declared and "brotli" not in declared


def test_hsts_in_prod(plan: Plan, stack: str) -> None:
    hsts = zone_setting(plan, "security_header")["strict_transport_security"]
    assert hsts["enabled"] is (stack == "prod")
    if stack == "prod":
        assert hsts["max_age"] >= 15_552_000
        assert hsts["nosniff"] is True


def test_every_cloudflare_resource_uses_the_looked_up_zone(plan: Plan) -> None:
    zone_ids = {r.inputs["zoneId"] for r in plan.resources if r.type.startswith("cloudflare:")}
    assert zone_ids == {plan.outputs["cloudflare_zone_id"]}


# --- WAF and rate limits ----------------------------------------------------------------

def test_cloudflare_managed_ruleset_is_executed(plan: Plan) -> None:
    rules = ruleset(plan, "http_request_firewall_managed")["rules"]
    assert [(r["action"], r["actionParameters"]["id"], r["expression"]) for r in rules] == [
        ("execute", "efb7b8c949ac4650a09736fc376e9aee", "true")
    ]


def test_rate_limit_covers_the_auth_paths(plan: Plan, stack: str) -> None:
    s = cdn(stack)
    (rule,) = ruleset(plan, "http_ratelimit")["rules"]
    for path in s.auth_rate_limit.paths:
        assert evaluate(rule["expression"], Request(s.api_host, path)), path
    for path in ("/api/projects", "/", s.auth_rate_limit.paths[0] + "/extra"):
        assert not evaluate(rule["expression"], Request(s.api_host, path)), path
    limit = rule["ratelimit"]
    assert rule["action"] == s.auth_rate_limit.action
    assert (limit["requestsPerPeriod"], limit["period"], limit["mitigationTimeout"]) == (
        s.auth_rate_limit.requests_per_period, s.auth_rate_limit.period_seconds,
        s.auth_rate_limit.mitigation_timeout_seconds)
    assert set(limit["characteristics"]) == {"ip.src", "cf.colo.id"}


def test_rate_limit_paths_come_from_settings() -> None:
    plan = plan_with("prod", PROD_EDGE)  # auth_rate_limit: paths [/v2/login], period_seconds 10
    (rule,) = ruleset(plan, "http_ratelimit")["rules"]
    assert evaluate(rule["expression"], Request("api.floyo.app", "/v2/login"))
    assert not evaluate(rule["expression"], Request("api.floyo.app", "/api/auth/login"))
    assert rule["ratelimit"]["period"] == 10


def test_custom_waf_rules_only_when_configured(plan: Plan) -> None:
    assert not [r for r in plan.of_type(RULESET) if r.inputs["phase"] == "http_request_firewall_custom"]
    rules = ruleset(plan_with("dev", DEV_RELAXED), "http_request_firewall_custom")["rules"]  # WAF_CUSTOM_RULES
    assert [(r["description"], r["expression"], r["action"]) for r in rules] == [
        (c["description"], c["expression"], c["action"]) for c in WAF_CUSTOM_RULES
    ]


# --- hosts and health check -------------------------------------------------------------

def test_hosts_are_proxied_to_the_load_balancer(plan: Plan, stack: str) -> None:
    s = cdn(stack)
    records = [r.inputs for r in plan.of_type(DNS_RECORD) if r.inputs.get("proxied")]
    assert {r["name"] for r in records} == {s.api_host}
    for record in records:
        assert (record["type"], record["content"], record["ttl"]) == ("CNAME", plan.outputs["load_balancer_dns_name"], 1)


def test_extra_hosts_get_a_record_and_a_listener_certificate() -> None:
    plan = plan_with("prod", PROD_EDGE)  # extra_hosts [app]
    proxied = {r.inputs["name"] for r in plan.of_type(DNS_RECORD) if r.inputs.get("proxied")}
    assert proxied == {"api.floyo.app", "app.floyo.app"}
    certs = {r.inputs["domainName"] for r in plan.of_type("aws:acm/certificate:Certificate")
             if "domainName" in r.inputs}  # requested ones; the origin lock's imported copy is for its alarm
    assert certs == {"api.floyo.app", "app.floyo.app"}
    attached = one(plan, "aws:lb/listenerCertificate:ListenerCertificate")
    https = [r for r in plan.of_type("aws:lb/listener:Listener") if r.inputs.get("protocol") == "HTTPS"]
    assert attached.inputs["listenerArn"] == https[0].id
    assert evaluate(ruleset(plan, "http_request_cache_settings")["rules"][0]["expression"],
                    Request("app.floyo.app", "/static/a"))


def test_health_check_probes_the_public_health_url(plan: Plan, stack: str) -> None:
    s = cdn(stack)
    check = one(plan, HEALTHCHECK)
    assert (check.inputs["address"], check.inputs["type"]) == (s.api_host, "HTTPS")
    http = check.inputs["httpConfig"]
    assert (http["path"], http["port"], http["allowInsecure"]) == ("/health", 443, False)
    assert check.inputs["checkRegions"] == s.health_check.regions
    assert check.inputs["interval"] == s.health_check.interval_seconds
    assert plan.outputs["edge_health_check_id"] == check.id


# --- origin lock ------------------------------------------------------------------------

def lb_ingress(plan: Plan) -> list[dict[str, Any]]:
    lb_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", "sg-lb").id
    return [r.inputs for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == lb_sg]


def test_load_balancer_takes_traffic_from_cloudflare_only(plan: Plan) -> None:
    rules = lb_ingress(plan)
    assert rules and not [r for r in rules if "cidrIpv4" in r or "cidrIpv6" in r]
    prefix_list = one(plan, PREFIX_LIST)
    assert {r["prefixListId"] for r in rules} == {prefix_list.id}
    assert sorted(e["cidr"] for e in prefix_list.inputs["entries"]) == sorted(CLOUDFLARE_IPV4)
    # HTTPS only: the zone's always_use_https redirects at the edge, so port 80 never reaches the origin
    # (and a second prefix-list reference would count max_entries more rules against the group's quota).
    assert {(r["fromPort"], r["toPort"]) for r in rules} == {(443, 443)}


def test_dev_may_open_the_origin_for_debugging() -> None:
    plan = plan_with("dev", DEV_RELAXED)  # allow_direct_origin_access; a whole plan: the list must be absent
    rules = lb_ingress(plan)
    assert [(r.get("cidrIpv4"), r["fromPort"]) for r in rules] == [("0.0.0.0/0", 443)]
    assert plan.of_type(PREFIX_LIST) == []


def test_stacks_do_not_share_a_zone() -> None:
    """Each stack owns its zone's entry-point rulesets (one per zone and phase)."""
    zones = {stack: settings_for(read_stack_config(stack)).cdn.zone for stack in ("dev", "prod")}
    assert len(set(zones.values())) == len(zones), zones


# --- settings ---------------------------------------------------------------------------

def error_for(stack: str, changes: dict[str, Any]) -> str:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes(stack, {"cdn": changes}))
    return str(caught.value)


@pytest.mark.parametrize(
    ("changes", "path", "hint"),
    [
        ({"min_tls_version": "1.1"}, "cdn.min_tls_version", "'1.2' or '1.3'"),
        ({"auth_rate_limit": {"period_seconds": 30}}, "cdn.auth_rate_limit.period_seconds", "10, 60, 120, 300"),
        ({"auth_rate_limit": {"mitigation_timeout_seconds": 42}}, "cdn.auth_rate_limit.mitigation_timeout_seconds",
         "86400"),
        ({"auth_rate_limit": {"action": "managed_challenge"}}, "cdn.auth_rate_limit.action",
         "mitigation_timeout_seconds 0"),
        ({"auth_rate_limit": {"action": "deny"}}, "cdn.auth_rate_limit.action", "'block'"),
        ({"auth_rate_limit": {"paths": []}}, "cdn.auth_rate_limit.paths", "at least one"),
        ({"auth_rate_limit": {"paths": ["api/login"]}}, "cdn.auth_rate_limit.paths", "start with /"),
        ({"waf_custom_rules": [{"description": "x", "expression": "true", "action": "allow"}]},
         "cdn.waf_custom_rules[0].action", "'managed_challenge'"),
        ({"waf_custom_rules": [{"description": "x", "expression": '(ip.src eq 1.2.3.4', "action": "block"}]},
         "cdn.waf_custom_rules[0].expression", "unbalanced"),
        ({"waf_custom_rules": [{"expression": "true", "action": "block"}]},
         "cdn.waf_custom_rules[0].description", "required"),
        ({"cache": {"bypass_path_prefixes": []}}, "cdn.cache.bypass_path_prefixes", "API"),
        ({"cache": {"static_path_prefixes": ["/a b/"]}}, "cdn.cache.static_path_prefixes", "start with /"),
        ({"cache": {"static_extensions": [".css"]}}, "cdn.cache.static_extensions", "no dot"),
        ({"cache": {"edge_ttl_seconds": 0}}, "cdn.cache.edge_ttl_seconds", "greater than or equal to 1"),
        ({"cache": {"session_cookies": ['a"b']}}, "cdn.cache.session_cookies", "cookie names"),
        ({"extra_hosts": ["app.floyo.app"]}, "cdn.extra_hosts", "labels"),
        ({"extra_hosts": ["app", "app"]}, "cdn.extra_hosts", "more than once"),
        ({"health_check": {"regions": ["EU"]}}, "cdn.health_check.regions", "WNAM"),
        ({"health_check": {"regions": ["ALL_REGIONS", "WEU"]}}, "cdn.health_check.regions", "only entry"),
        ({"health_check": {"interval_seconds": 10, "timeout_seconds": 10}}, "cdn.health_check.timeout_seconds",
         "interval_seconds"),
        ({"health_check": {"path": "health"}}, "cdn.health_check.path", "/health"),
        ({"hsts": {"max_age_seconds": 40_000_000}}, "cdn.hsts.max_age_seconds", "less than or equal to 31536000"),
    ],
)
def test_bad_edge_value_is_named(stack: str, changes: dict[str, Any], path: str, hint: str) -> None:
    message = error_for(stack, changes)
    assert f"floyo-infra:{path}:" in message
    assert hint in message


def test_extra_host_cannot_repeat_the_api_host(stack: str) -> None:
    api = cdn(stack).api_subdomain
    assert "already the API host" in error_for(stack, {"extra_hosts": [api]})


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"allow_direct_origin_access": True}, "cdn.allow_direct_origin_access"),
        ({"hsts": {"enabled": False}}, "cdn.hsts.enabled"),
        ({"hsts": {"max_age_seconds": 86_400}}, "cdn.hsts.max_age_seconds"),
    ],
)
def test_edge_prod_guardrails(changes: dict[str, Any], path: str) -> None:
    assert f"floyo-infra:{path}:" in error_for("prod", changes)
    cdn("dev", changes)  # the same relaxation is allowed in dev, by name


def test_tier_defaults() -> None:
    dev, prod = cdn("dev"), cdn("prod")
    # dev caches as briefly as its Pro zone allows (1 h) and keeps nothing in browsers
    assert dev.cache.edge_ttl_seconds == 3_600 < prod.cache.edge_ttl_seconds
    assert (dev.cache.browser_ttl_mode, prod.cache.browser_ttl_mode) == ("bypass", "override_origin")
    assert (dev.hsts.enabled, prod.hsts.enabled) == (False, True)
    assert dev.allow_direct_origin_access is False
    assert prod.auth_rate_limit.requests_per_period <= dev.auth_rate_limit.requests_per_period
