"""What each Cloudflare plan lets the `cdn` settings use, checked before anything is declared.

The mock runtime accepts any TTL, period or interval; Cloudflare refuses the ruleset or health
check at `pulumi up` when the zone's plan does not include it. Sources (read 2026-11):

* cache rules' minimum edge and browser TTL: developers.cloudflare.com/cache/how-to/edge-browser-cache-ttl/
  (Free 2 h, Pro 1 h, Business and Enterprise 1 s);
* rate limiting rules: the "Features by plan type" table of developers.cloudflare.com/waf/rate-limiting-rules/
  (cloudflare-docs `partials/waf/rate-limiting-availability-by-plan.mdx`): counting period Free 10 s,
  Pro up to 1 min, Business up to 10 min, Enterprise up to 65,535 s; mitigation timeout Free 10 s,
  Pro up to 1 h, Business and Enterprise up to 1 day;
* the Cloudflare Managed Ruleset: Pro and above (developers.cloudflare.com/waf/managed-rules/);
* standalone health checks: Pro and above, minimum interval Pro 60 s, Business 15 s, Enterprise
  10 s (developers.cloudflare.com/health-checks/); ALL_REGIONS: Business and Enterprise;
* the `log` action: Enterprise only (developers.cloudflare.com/ruleset-engine/rules-language/actions/).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from stacks.base import PROJECT
from stacks.errors import Problem

if TYPE_CHECKING:
    from stacks.cdn import CdnSettings
    from stacks.settings import StackSettings

Plan = Literal["free", "pro", "business", "enterprise"]
PLANS: tuple[Plan, ...] = ("free", "pro", "business", "enterprise")


@dataclass(frozen=True)
class PlanLimits:
    """The entitlements of one Cloudflare plan that the `cdn` settings touch."""

    min_cache_ttl_seconds: int
    """Shortest edge or browser TTL a cache rule may set."""
    max_rate_limit_period_seconds: int
    """Longest counting period of a rate limiting rule (Free: exactly 10 s)."""
    max_mitigation_timeout_seconds: int
    """Longest mitigation timeout of a rate limiting rule (Free: exactly 10 s)."""
    managed_waf: bool
    """Whether the zone may execute the Cloudflare Managed Ruleset."""
    min_health_check_interval_seconds: int | None
    """Shortest interval of a standalone health check; None: no health checks on this plan."""
    all_regions: bool
    """Whether a health check may probe from ALL_REGIONS."""
    log_action: bool
    """Whether custom and rate limiting rules may use the `log` action."""


PLAN_LIMITS: dict[Plan, PlanLimits] = {
    "free": PlanLimits(7_200, 10, 10, managed_waf=False, min_health_check_interval_seconds=None,
                       all_regions=False, log_action=False),
    "pro": PlanLimits(3_600, 60, 3_600, managed_waf=True, min_health_check_interval_seconds=60,
                      all_regions=False, log_action=False),
    "business": PlanLimits(1, 600, 86_400, managed_waf=True, min_health_check_interval_seconds=15,
                           all_regions=True, log_action=False),
    "enterprise": PlanLimits(1, 65_535, 86_400, managed_waf=True, min_health_check_interval_seconds=10,
                             all_regions=True, log_action=True),
}


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
