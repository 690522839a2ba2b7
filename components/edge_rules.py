"""The zone's rulesets: cache rules, the managed WAF, the auth rate limit and custom WAF rules."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from stacks.cdn import CacheRulesSettings, RateLimitSettings, WafRule

CLOUDFLARE_MANAGED_RULESET_ID = "efb7b8c949ac4650a09736fc376e9aee"
"""The Cloudflare Managed Ruleset (WAF docs, "Managed rulesets"; needs a Pro plan or above)."""

PATH = "http.request.uri.path"
EXTENSION = "http.request.uri.path.extension"


def _quoted(value: str) -> str:
    """A Rules language string literal. Settings already refuse quotes and backslashes."""
    return '"' + value + '"'


def _set(values: Sequence[str]) -> str:
    return "{" + " ".join(_quoted(v) for v in values) + "}"


def _any_of(clauses: Sequence[str]) -> str:
    return "(" + " or ".join(clauses) + ")"


def hosts_expression(hosts: Sequence[str]) -> str:
    """Matches requests to one of `hosts`."""
    return f"http.host in {_set(hosts)}"


def static_expression(cache: CacheRulesSettings, hosts: Sequence[str]) -> str:
    """Static assets on our hosts: a static path prefix or a static file extension."""
    clauses = [f"starts_with({PATH}, {_quoted(p)})" for p in cache.static_path_prefixes]
    if cache.static_extensions:
        clauses.append(f"{EXTENSION} in {_set(cache.static_extensions)}")
    return f"{hosts_expression(hosts)} and {_any_of(clauses)}"


def bypass_expression(cache: CacheRulesSettings, hosts: Sequence[str]) -> str:
    """Requests that must reach the origin: API paths, signed-in requests, WebSocket upgrades."""
    clauses = [f"starts_with({PATH}, {_quoted(p)})" for p in cache.bypass_path_prefixes]
    clauses.append('any(http.request.headers.names[*] == "authorization")')
    clauses += [f"http.cookie contains {_quoted(name + '=')}" for name in cache.session_cookies]
    clauses.append('any(http.request.headers["upgrade"][*] in {"websocket" "WebSocket"})')
    return f"{hosts_expression(hosts)} and {_any_of(clauses)}"


def cache_rules(cache: CacheRulesSettings, hosts: Sequence[str]) -> list[cloudflare.RulesetRuleArgsDict]:
    """Cache rules in evaluation order. Every matching rule applies and later ones win, so the
    bypass rule comes last: a static-looking path under /api/ or with a session still bypasses."""
    edge_ttl: cloudflare.RulesetRuleActionParametersEdgeTtlArgsDict
    browser_ttl: cloudflare.RulesetRuleActionParametersBrowserTtlArgsDict
    if cache.respect_origin_cache_control:
        edge_ttl = {"mode": "respect_origin"}
        browser_ttl = {"mode": "respect_origin"}
    else:
        edge_ttl = {"mode": "override_origin", "default": cache.edge_ttl_seconds}
        # A cache rule refuses a browser TTL below the plan's minimum (0 included): no browser
        # caching is the `bypass` mode, not a 0 s override.
        browser_ttl = ({"mode": "override_origin", "default": cache.browser_ttl_seconds}
                       if cache.browser_ttl_mode == "override_origin" else {"mode": cache.browser_ttl_mode})
    return [
        {
            "ref": "cache_static_assets",
            "description": "Static assets: cached at the edge with the stack's TTLs",
            "expression": static_expression(cache, hosts),
            "action": "set_cache_settings",
            "action_parameters": {
                "cache": True,
                "edge_ttl": edge_ttl,
                "browser_ttl": browser_ttl,
                "cache_key": {"ignore_query_strings_order": True, "cache_deception_armor": True},
            },
            "enabled": True,
        },
        {
            "ref": "bypass_dynamic",
            "description": "API, signed-in requests and WebSocket upgrades: never cached",
            "expression": bypass_expression(cache, hosts),
            "action": "set_cache_settings",
            "action_parameters": {"cache": False},
            "enabled": True,
        },
    ]


def rate_limit_rule(limit: RateLimitSettings) -> cloudflare.RulesetRuleArgsDict:
    """Per client IP (and data center) limit on the auth endpoints, on every host of the zone."""
    return {
        "ref": "auth_rate_limit",
        "description": "Authentication endpoints: brute-force and credential-stuffing limit",
        "expression": f"({PATH} in {_set(limit.paths)})",
        "action": limit.action,
        "ratelimit": {
            "characteristics": ["ip.src", "cf.colo.id"],
            "period": limit.period_seconds,
            "requests_per_period": limit.requests_per_period,
            "mitigation_timeout": limit.mitigation_timeout_seconds,
        },
        "enabled": True,
    }


def managed_waf_rule() -> cloudflare.RulesetRuleArgsDict:
    """Execute the Cloudflare Managed Ruleset on every request of the zone."""
    return {
        "ref": "cloudflare_managed_ruleset",
        "description": "Cloudflare Managed Ruleset",
        "expression": "true",
        "action": "execute",
        "action_parameters": {"id": CLOUDFLARE_MANAGED_RULESET_ID},
        "enabled": True,
    }


def custom_waf_rules(rules: Sequence[WafRule]) -> list[cloudflare.RulesetRuleArgsDict]:
    return [
        {"ref": f"custom_{i}", "description": r.description, "expression": r.expression, "action": r.action,
         "enabled": True}
        for i, r in enumerate(rules)
    ]


@dataclass(frozen=True)
class EdgeRulesArgs:
    """Arguments of `EdgeRules`."""

    zone_id: pulumi.Input[str]
    """The zone the rulesets are the phase entry points of."""
    hosts: Sequence[str]
    """Hosts the cache rules apply to (the WAF and rate limit cover the whole zone)."""
    cache: CacheRulesSettings
    """Static and bypass paths, TTLs."""
    rate_limit: RateLimitSettings
    """Auth endpoints and their limit."""
    custom_rules: Sequence[WafRule] = ()
    """Custom WAF rules. Default none (then no custom ruleset is declared)."""


class EdgeRules(pulumi.ComponentResource):
    """The zone's entry-point rulesets, one per phase.

    * `http_request_cache_settings`: static assets cached, dynamic traffic bypassed;
    * `http_request_firewall_custom`: custom rules from settings (only when there are some);
    * `http_request_firewall_managed`: the Cloudflare Managed Ruleset, executed for all requests;
    * `http_ratelimit`: the auth endpoints' limit.

    Cloudflare allows one entry-point ruleset per zone and phase: if one was made by hand in the
    dashboard, import it (`pulumi import cloudflare:index/ruleset:Ruleset <name> zones/<zone_id>/<ruleset_id>
    --parent ...`, docs/open-questions.md) instead of creating a second.
    """

    cache: cloudflare.Ruleset
    managed_waf: cloudflare.Ruleset
    rate_limit: cloudflare.Ruleset
    custom_waf: cloudflare.Ruleset | None = None

    def __init__(self, name: str, args: EdgeRulesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:edge:EdgeRules", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def ruleset(suffix: str, phase: str, title: str, rules: list[cloudflare.RulesetRuleArgsDict]) -> cloudflare.Ruleset:
            return cloudflare.Ruleset(
                f"{name}-{suffix}", zone_id=args.zone_id, kind="zone", phase=phase, name=title,
                description=f"floyo {title} (managed by Pulumi)", rules=rules, opts=child,
            )

        self.cache = ruleset("cache", "http_request_cache_settings", "Cache rules",
                             cache_rules(args.cache, args.hosts))
        if args.custom_rules:
            self.custom_waf = ruleset("waf-custom", "http_request_firewall_custom", "Custom WAF rules",
                                      custom_waf_rules(args.custom_rules))
        self.managed_waf = ruleset("waf-managed", "http_request_firewall_managed", "Managed WAF",
                                   [managed_waf_rule()])
        self.rate_limit = ruleset("rate-limit", "http_ratelimit", "Rate limits", [rate_limit_rule(args.rate_limit)])
        self.register_outputs({"cache": self.cache.id, "managed_waf": self.managed_waf.id,
                               "rate_limit": self.rate_limit.id})
