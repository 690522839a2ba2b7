"""Edge settings: the Cloudflare zone, public hosts, caching, TLS, WAF, origin lock and health check."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from stacks.base import Section, prod_refuses
from stacks.cdn_plans import Plan
from stacks.origin_lock import OriginLockSettings

_HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@/%-]*$")
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")
_COOKIE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")

RATE_LIMIT_PERIODS = (10, 60, 120, 300, 600, 3600)
"""`period` values a Cloudflare rate limiting rule accepts (WAF docs, "Rate limiting parameters")."""
MITIGATION_TIMEOUTS = (0, 10, 60, 120, 300, 600, 3600, 86400)
"""`mitigation_timeout` values a Cloudflare rate limiting rule accepts (same page)."""
WAF_ACTIONS = ("block", "challenge", "js_challenge", "managed_challenge", "log")
"""Actions a custom or rate limiting rule may take (`log` needs an Enterprise plan)."""
CHALLENGE_ACTIONS = ("challenge", "js_challenge", "managed_challenge")
HEALTH_CHECK_REGIONS = (
    "WNAM", "ENAM", "WEU", "EEU", "NSAM", "SSAM", "OC", "ME", "NAF", "SAF", "IN", "SEAS", "NEAS", "ALL_REGIONS",
)
"""`check_regions` values of Cloudflare standalone health checks (API schema healthchecks_check_regions)."""
HSTS_MAX_AGE = 31_536_000
"""One year: the longest HSTS max-age Cloudflare offers."""
PROD_HSTS_MIN_AGE = 15_552_000
"""Six months: the shortest HSTS max-age prod accepts."""


def _paths(value: list[str], what: str) -> list[str]:
    bad = [p for p in value if not _PATH.match(p)]
    if bad:
        raise ValueError(f"{bad} are not {what} URL paths: each must start with / and hold no spaces or quotes")
    dupes = sorted({p for p in value if value.count(p) > 1})
    if dupes:
        raise ValueError(f"{dupes} are listed more than once")
    return value


def static_prefix_semantics(value: list[str]) -> list[str]:
    """Static prefixes that mean what they say inside Cloudflare's `starts_with(http.request.uri.path, ...)`.

    `starts_with` compares literally (https://developers.cloudflare.com/ruleset-engine/rules-language/functions/
    #starts_with), so `*` is a character, not a wildcard; and `/` would cache every path, the health check and
    error pages included, so the edge could serve a cached 200 while the origin is down.
    """
    starred = [p for p in value if "*" in p]
    if starred:
        raise ValueError(f"{starred} contain `*`, which starts_with matches literally (no wildcards): write the "
                         "prefix itself, e.g. /static/")
    if "/" in value:
        raise ValueError("'/' would cache every path, the health check and error responses included, hiding an "
                         "outage behind cached pages: list the asset prefixes themselves, e.g. /static/")
    return value


class CacheRulesSettings(Section):
    """What Cloudflare caches at the edge and what always goes to the origin (`cdn.cache`)."""

    static_path_prefixes: list[str] = Field(
        default_factory=lambda: ["/static/", "/assets/"],
        description="URL path prefixes of static assets, cached at the edge. Default /static/, /assets/.",
    )
    static_extensions: list[str] = Field(
        default_factory=lambda: [
            "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico",
            "woff", "woff2", "ttf", "otf",
        ],
        description="File extensions (lower case, no dot) cached at the edge wherever they are, except "
        "under a bypass path. Default: stylesheets, scripts, images and fonts.",
    )
    edge_ttl_seconds: int = Field(
        default=86_400,
        ge=1,
        le=31_536_000,
        description="Seconds the edge keeps a static asset (ignored when respect_origin_cache_control). At least "
        "the plan's minimum (cdn.plan): free 7200, pro 3600, business and enterprise 1. Default 86400 "
        "(dev 3600: purge after a deploy, or use content-hashed file names).",
    )
    browser_ttl_mode: Literal["override_origin", "respect_origin", "bypass"] = Field(
        default="override_origin",
        description="How Cloudflare sets browsers' Cache-Control on static assets: override_origin (max-age "
        "browser_ttl_seconds), respect_origin (the origin's header), or bypass (no-cache: browsers revalidate "
        "every time). Default: dev bypass, prod override_origin.",
    )
    browser_ttl_seconds: int = Field(
        default=3_600,
        ge=0,
        le=31_536_000,
        description="Seconds browsers keep a static asset when browser_ttl_mode is override_origin (ignored "
        "when respect_origin_cache_control). At least the plan's minimum (free 7200, pro 3600, business and "
        "enterprise 1; 0 is refused on every plan); for no browser caching use browser_ttl_mode bypass. A purge does not reach "
        "browsers. Default 3600.",
    )
    respect_origin_cache_control: bool = Field(
        default=False,
        description="Let the origin's Cache-Control decide edge and browser TTLs of static assets instead of "
        "the TTLs above. Default false.",
    )
    bypass_path_prefixes: list[str] = Field(
        default_factory=lambda: ["/api/", "/ws"],
        description="URL path prefixes never cached (the API, WebSockets). Requests with an Authorization "
        "header, a session cookie or a WebSocket upgrade bypass the cache wherever they go. "
        "Default /api/, /ws.",
    )
    session_cookies: list[str] = Field(
        default_factory=lambda: ["session"],
        description="Cookie names that mark a signed-in request; such requests bypass the cache. Default session.",
    )

    @field_validator("static_path_prefixes")
    @classmethod
    def _static(cls, value: list[str]) -> list[str]:
        return static_prefix_semantics(_paths(value, "static"))

    @model_validator(mode="after")
    def _static_not_bypassed(self) -> CacheRulesSettings:
        # The bypass rule runs after the cache rule in the same phase and wins (components/edge_rules.py), so a
        # static prefix under a bypass prefix would never be cached.
        shadowed = [f"{s} (under {b})" for s in self.static_path_prefixes for b in self.bypass_path_prefixes
                    if s.startswith(b)]
        if shadowed:
            raise ValueError(f"static_path_prefixes {shadowed} lie under a bypass prefix, which always wins: they "
                             "would never be cached; remove them or narrow bypass_path_prefixes")
        return self

    @field_validator("bypass_path_prefixes")
    @classmethod
    def _bypass(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must list at least the API prefix (such as /api/): the API must never be cached")
        return _paths(value, "bypass")

    @field_validator("static_extensions")
    @classmethod
    def _extensions(cls, value: list[str]) -> list[str]:
        bad = [e for e in value if not _EXTENSION.match(e)]
        if bad:
            raise ValueError(f"{bad} are not file extensions: lower-case letters and digits, no dot, such as css")
        return value

    @field_validator("session_cookies")
    @classmethod
    def _cookies(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if not _COOKIE.match(c)]
        if bad:
            raise ValueError(f"{bad} are not cookie names (letters, digits and !#$%&'*+.^_`|~- only)")
        return value


class RateLimitSettings(Section):
    """Rate limit on the authentication endpoints (`cdn.auth_rate_limit`), per client IP and data center."""

    paths: list[str] = Field(
        default_factory=lambda: ["/api/auth/login", "/api/auth/register", "/api/auth/password-reset",
                                 "/api/auth/token"],
        description="Exact URL paths counted (path is the one field every plan may use). "
        "Default: login, register, password-reset and token under /api/auth/.",
    )
    requests_per_period: int = Field(
        default=10, ge=1, le=1_000_000, description="Requests per period that trigger the action. Default: dev 30, prod 10."
    )
    period_seconds: int = Field(
        default=60,
        description="Counting window in seconds, one of 10, 60, 120, 300, 600, 3600 (Free plans: 10 only). Default 60.",
    )
    mitigation_timeout_seconds: int = Field(
        default=600,
        description="Seconds the action keeps applying once triggered, one of 0, 10, 60, 120, 300, 600, 3600, "
        "86400. Challenge actions need 0 (throttling) below Enterprise. Default: dev 60, prod 600.",
    )
    action: Literal["block", "challenge", "js_challenge", "managed_challenge", "log"] = Field(
        default="block", description="What happens over the limit. Default block (HTTP 429)."
    )

    @field_validator("paths")
    @classmethod
    def _auth_paths(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must list at least one authentication path such as /api/auth/login")
        return _paths(value, "authentication")

    @field_validator("period_seconds")
    @classmethod
    def _period(cls, value: int) -> int:
        if value not in RATE_LIMIT_PERIODS:
            raise ValueError(f"must be one of the periods Cloudflare accepts: {', '.join(map(str, RATE_LIMIT_PERIODS))}")
        return value

    @field_validator("mitigation_timeout_seconds")
    @classmethod
    def _timeout(cls, value: int) -> int:
        if value not in MITIGATION_TIMEOUTS:
            allowed = ", ".join(map(str, MITIGATION_TIMEOUTS))
            raise ValueError(f"must be one of the durations Cloudflare accepts: {allowed}")
        return value

    @field_validator("action")
    @classmethod
    def _challenge_throttles(cls, value: str, info: ValidationInfo) -> str:
        timeout = info.data.get("mitigation_timeout_seconds")
        if value in CHALLENGE_ACTIONS and timeout not in (None, 0):
            raise ValueError(
                f"{value} requires mitigation_timeout_seconds 0 (request throttling) on Free, Pro and Business "
                f"plans; got {timeout}. Use block to keep a duration"
            )
        return value


class WafRule(Section):
    """One custom WAF rule (`cdn.waf_custom_rules[i]`)."""

    description: str = Field(min_length=1, max_length=500, description="What the rule is for (shown in the dashboard).")
    expression: str = Field(
        min_length=1, max_length=4096,
        description="Cloudflare Rules language expression, e.g. `(ip.src.country eq \"T1\")`.",
    )
    action: Literal["block", "challenge", "js_challenge", "managed_challenge", "log"] = Field(
        description="block, challenge, js_challenge, managed_challenge or log (log: Enterprise only)."
    )

    @field_validator("expression")
    @classmethod
    def _balanced(cls, value: str) -> str:
        if value.count("(") != value.count(")") or value.count('"') % 2:
            raise ValueError("has unbalanced parentheses or quotes")
        return value


class HstsSettings(Section):
    """HTTP Strict Transport Security sent by Cloudflare for the zone (`cdn.hsts`)."""

    enabled: bool = Field(default=True, description="Send the HSTS header. Default: dev false, prod true; prod must be on.")
    max_age_seconds: int = Field(
        default=HSTS_MAX_AGE,
        ge=0,
        le=HSTS_MAX_AGE,
        description="max-age of the header, at most one year. Default: dev 86400, prod 31536000; prod needs at "
        "least 15552000 (six months).",
    )
    include_subdomains: bool = Field(
        default=False, description="Add includeSubDomains (every host of the zone must then serve HTTPS). Default false."
    )
    preload: bool = Field(default=False, description="Add preload (hard to undo: browsers ship the list). Default false.")

    _prod_on = prod_refuses("enabled", lambda value: not value, "prod serves HSTS; only dev may turn it off")

    _prod_age = prod_refuses(
        "max_age_seconds", lambda value: value < PROD_HSTS_MIN_AGE,
        f"prod needs a max-age of at least {PROD_HSTS_MIN_AGE} seconds (six months)",
    )


class EdgeHealthCheckSettings(Section):
    """Cloudflare health check on the public health URL (`cdn.health_check`)."""

    path: str = Field(default="/health", description="Path probed over HTTPS on the API host. Default /health.")
    interval_seconds: int = Field(
        default=60, ge=10, le=3600,
        description="Seconds between probes from each region (plan minimums apply: Pro 60, Business 15, "
        "Enterprise 10). Default: dev 300, prod 60.",
    )
    timeout_seconds: int = Field(default=5, ge=1, le=10, description="Seconds before a probe fails. Default 5.")
    retries: int = Field(default=2, ge=0, le=5, description="Immediate retries after a timeout. Default 2.")
    consecutive_fails: int = Field(default=2, ge=1, le=10, description="Failures before unhealthy. Default 2.")
    regions: list[str] = Field(
        default_factory=lambda: ["WNAM", "ENAM", "WEU"],
        description="Regions probing from (three data centers each): WNAM, ENAM, WEU, EEU, NSAM, SSAM, OC, ME, NAF, "
        "SAF, IN, SEAS, NEAS, or ALL_REGIONS alone (Business and Enterprise). Default: dev ENAM, prod WNAM, ENAM, WEU.",
    )

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.match(value):
            raise ValueError("must be an absolute URL path such as /health")
        return value

    @field_validator("timeout_seconds")
    @classmethod
    def _timeout(cls, value: int, info: ValidationInfo) -> int:
        interval = info.data.get("interval_seconds")
        if interval is not None and value >= interval:
            raise ValueError(f"must be less than interval_seconds ({interval})")
        return value

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        bad = [r for r in value if r not in HEALTH_CHECK_REGIONS]
        if bad:
            raise ValueError(f"{bad} are not Cloudflare health check regions; allowed: {', '.join(HEALTH_CHECK_REGIONS)}")
        if not value:
            raise ValueError("must name at least one region")
        if "ALL_REGIONS" in value and len(value) > 1:
            raise ValueError("ALL_REGIONS must be the only entry")
        return value


class CdnSettings(Section):
    """Cloudflare in front of the load balancer (`floyo-infra:cdn`)."""

    plan: Plan = Field(
        default="pro",
        description="The zone's Cloudflare plan: free, pro, business or enterprise. Cache TTLs, rate limit "
        "periods and timeouts, the managed WAF and health checks are checked against what it includes "
        "(free includes neither the managed WAF nor health checks, so the stack needs pro or above). "
        "Default pro; set it in each stack file to the plan the zone is on.",
    )

    zone: str = Field(
        description="The Cloudflare zone (domain) the stack is served from. Looked up, never created. The stack "
        "owns the zone-wide configuration (SSL mode, cache, WAF and rate limit rulesets, which Cloudflare allows "
        "once per zone and phase), so no two stack files may name the same zone. Required: no stack falls "
        "back to production's zone.",
    )
    api_subdomain: str = Field(
        default="api",
        description="Label of the API host inside the zone: `api` gives api.<zone>. "
        "Default: dev api-dev, prod api.",
    )
    extra_hosts: list[str] = Field(
        default_factory=list,
        description="More labels of the zone proxied to the load balancer (each gets a proxied CNAME, an ACM "
        "certificate on the HTTPS listener and the same cache rules), e.g. [app]. Default none.",
    )
    cache: CacheRulesSettings = Field(default_factory=CacheRulesSettings, description="Edge cache rules.")
    auth_rate_limit: RateLimitSettings = Field(
        default_factory=RateLimitSettings, description="Rate limit on the authentication endpoints."
    )
    waf_custom_rules: list[WafRule] = Field(
        default_factory=list, description="Custom WAF rules, evaluated in order before the managed ruleset. Default none."
    )
    hsts: HstsSettings = Field(default_factory=HstsSettings, description="HSTS for the zone.")
    min_tls_version: Literal["1.2", "1.3"] = Field(
        default="1.2", description="Oldest TLS version clients may use: 1.2 or 1.3. Default 1.2."
    )
    allow_direct_origin_access: bool = Field(
        default=False,
        description="Open the load balancer to HTTPS from anywhere instead of Cloudflare's ranges only, for "
        "debugging. Default false; dev only.",
    )
    origin_lock: OriginLockSettings = Field(
        default_factory=OriginLockSettings,
        description="Mutual TLS between Cloudflare and the load balancer (docs/origin-lock.md).",
    )
    health_check: EdgeHealthCheckSettings = Field(
        default_factory=EdgeHealthCheckSettings, description="Cloudflare health check on the public /health."
    )

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not _HOST.match(value):
            raise ValueError("must be a lower-case DNS name such as floyo.app")
        return value

    @field_validator("api_subdomain")
    @classmethod
    def _label(cls, value: str) -> str:
        if not _LABEL.match(value):
            raise ValueError("must be one lower-case DNS label such as api or api-dev")
        return value

    @field_validator("extra_hosts")
    @classmethod
    def _extra(cls, value: list[str], info: ValidationInfo) -> list[str]:
        bad = [h for h in value if not _LABEL.match(h)]
        if bad:
            raise ValueError(f"{bad} are not DNS labels: give labels such as app, not full host names")
        api = info.data.get("api_subdomain")
        if api in value:
            raise ValueError(f"{api!r} is already the API host (api_subdomain)")
        dupes = sorted({h for h in value if value.count(h) > 1})
        if dupes:
            raise ValueError(f"{dupes} are listed more than once")
        return value

    _origin_lock = prod_refuses(
        "allow_direct_origin_access", lambda value: value,
        "prod only accepts traffic through Cloudflare; allow_direct_origin_access is dev only",
    )

    @property
    def api_host(self) -> str:
        """The public API host name, e.g. api.floyo.app."""
        return f"{self.api_subdomain}.{self.zone}"

    @property
    def hosts(self) -> list[str]:
        """Every public host proxied to the load balancer, the API host first."""
        return [self.api_host] + [f"{label}.{self.zone}" for label in self.extra_hosts]


TIER_DEFAULTS: dict[str, dict[str, object]] = {
    "dev": {
        "api_subdomain": "api-dev",
        "cache": {"edge_ttl_seconds": 3_600, "browser_ttl_mode": "bypass"},
        "auth_rate_limit": {"requests_per_period": 30, "mitigation_timeout_seconds": 60},
        "hsts": {"enabled": False, "max_age_seconds": 86_400},
        "health_check": {"interval_seconds": 300, "regions": ["ENAM"]},
    },
    "prod": {
        "api_subdomain": "api",
        "cache": {"edge_ttl_seconds": 86_400, "browser_ttl_mode": "override_origin", "browser_ttl_seconds": 3_600},
        "auth_rate_limit": {"requests_per_period": 10, "mitigation_timeout_seconds": 600},
        "hsts": {"enabled": True, "max_age_seconds": HSTS_MAX_AGE},
        "health_check": {"interval_seconds": 60, "regions": ["WNAM", "ENAM", "WEU"]},
    },
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
