"""Every `cdn` value the zone's Cloudflare plan (`cdn.plan`) does not include: one cross-section check.

The mock runtime accepts any TTL, period or interval; Cloudflare refuses the ruleset or health check at
`pulumi up` when the zone's plan does not include it. The entitlements and their sources: stacks/cdn_plans.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stacks.base import PROJECT
from stacks.cdn_plans import PLAN_LIMITS, PlanLimits
from stacks.errors import Problem

if TYPE_CHECKING:
    from stacks.cdn import CdnSettings
    from stacks.settings import StackSettings


def _key(path: str) -> str:
    return f"{PROJECT}:cdn.{path}"


def _cache(cdn: CdnSettings, limits: PlanLimits) -> list[Problem]:
    cache, plan = cdn.cache, cdn.plan
    if cache.respect_origin_cache_control:
        return []
    ttls = [("edge_ttl_seconds", cache.edge_ttl_seconds)]
    if cache.browser_ttl_mode == "override_origin":
        ttls.append(("browser_ttl_seconds", cache.browser_ttl_seconds))
    return [
        Problem(_key(f"cache.{key}"), str(value),
                f"cache rules on a {plan} zone (cdn.plan) accept at least {limits.min_cache_ttl_seconds} s"
                + (" (set cache.browser_ttl_mode to bypass or respect_origin for no browser TTL)"
                   if key == "browser_ttl_seconds" else ""))
        for key, value in ttls if value < limits.min_cache_ttl_seconds
    ]


def _rate_limit(cdn: CdnSettings, limits: PlanLimits) -> list[Problem]:
    limit, plan = cdn.auth_rate_limit, cdn.plan
    problems: list[Problem] = []
    if limit.period_seconds > limits.max_rate_limit_period_seconds:
        problems.append(Problem(
            _key("auth_rate_limit.period_seconds"), str(limit.period_seconds),
            f"a {plan} zone (cdn.plan) counts over at most {limits.max_rate_limit_period_seconds} s",
        ))
    timeout = limit.mitigation_timeout_seconds
    # 0 is what challenge actions need (they apply per request); every plan accepts it.
    if timeout != 0 and timeout > limits.max_mitigation_timeout_seconds:
        problems.append(Problem(
            _key("auth_rate_limit.mitigation_timeout_seconds"), str(timeout),
            f"a {plan} zone (cdn.plan) mitigates for at most {limits.max_mitigation_timeout_seconds} s",
        ))
    if limit.action == "log" and not limits.log_action:
        problems.append(Problem(_key("auth_rate_limit.action"), "log",
                                f"the log action needs an enterprise zone; cdn.plan is {plan}"))
    return problems


def _waf(cdn: CdnSettings, limits: PlanLimits) -> list[Problem]:
    problems: list[Problem] = []
    if not limits.managed_waf:
        problems.append(Problem(
            _key("plan"), cdn.plan,
            "the stack executes the Cloudflare Managed Ruleset, which needs pro, business or enterprise",
        ))
    problems += [
        Problem(_key(f"waf_custom_rules[{i}].action"), "log",
                f"the log action needs an enterprise zone; cdn.plan is {cdn.plan}")
        for i, rule in enumerate(cdn.waf_custom_rules) if rule.action == "log" and not limits.log_action
    ]
    return problems


def _health_check(cdn: CdnSettings, limits: PlanLimits) -> list[Problem]:
    check, plan = cdn.health_check, cdn.plan
    minimum = limits.min_health_check_interval_seconds
    if minimum is None:
        return [Problem(_key("plan"), plan,
                        "the stack declares a Cloudflare health check, which needs pro, business or enterprise")]
    problems: list[Problem] = []
    if check.interval_seconds < minimum:
        problems.append(Problem(_key("health_check.interval_seconds"), str(check.interval_seconds),
                                f"health checks on a {plan} zone (cdn.plan) run at most every {minimum} s"))
    if "ALL_REGIONS" in check.regions and not limits.all_regions:
        problems.append(Problem(_key("health_check.regions"), "[ALL_REGIONS]",
                                f"ALL_REGIONS needs a business or enterprise zone; cdn.plan is {plan}"))
    return problems


def cdn_plan(settings: StackSettings) -> list[Problem]:
    """Every `cdn` value the zone's plan (`cdn.plan`) does not include."""
    cdn = settings.cdn
    limits = PLAN_LIMITS[cdn.plan]
    problems = [p for check in (_cache, _rate_limit, _waf, _health_check) for p in check(cdn, limits)]
    unique: dict[tuple[str, str], Problem] = {(p.path, p.allowed): p for p in problems}
    return list(unique.values())
