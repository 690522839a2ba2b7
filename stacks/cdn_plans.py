"""What each Cloudflare plan lets the `cdn` settings use (checked in stacks/cdn_plan_checks.py, before anything
is declared).

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
from typing import Literal

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
