"""Cloudflare in front of the load balancer: proxied hosts, zone TLS settings, tiered cache, health check."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare

from components.certificate import CertificateArgs, DnsValidatedCertificate
from components.edge_rules import EdgeRules, EdgeRulesArgs
from stacks.cdn import CdnSettings

AUTOMATIC_TTL = 1
"""DNS TTL 1 means "automatic": the only TTL a proxied record has."""


def zone_settings(settings: CdnSettings) -> dict[str, Any]:
    """Zone setting id -> value, as the zone settings API takes them."""
    hsts = settings.hsts
    return {
        "ssl": "strict",  # Full (strict): the origin certificate must be valid for the host
        "min_tls_version": settings.min_tls_version,
        "tls_1_3": "on",
        "always_use_https": "on",
        "automatic_https_rewrites": "on",
        "opportunistic_encryption": "on",
        "http3": "on",
        # no "brotli": its API reached end of life on 2024-06-14 and Brotli is on for every zone
        # (developers.cloudflare.com/fundamentals/api/reference/deprecations/#brotli); a PATCH may fail
        "websockets": "on",
        # snake_case inside `value`, as the API returns it (pulumi-cloudflare#1579: camelCase never converges)
        "security_header": {"strict_transport_security": {
            "enabled": hsts.enabled, "max_age": hsts.max_age_seconds, "include_subdomains": hsts.include_subdomains,
            "preload": hsts.preload, "nosniff": True,
        }},
    }


@dataclass(frozen=True)
class EdgeArgs:
    """Arguments of `Edge`."""

    settings: CdnSettings
    """The stack's `cdn` settings."""
    zone_id: pulumi.Input[str]
    """The zone, looked up once by the program (never created here)."""
    origin_dns_name: pulumi.Input[str]
    """DNS name of the load balancer the hosts point at."""
    https_listener_arn: pulumi.Input[str]
    """The load balancer's HTTPS listener; extra hosts' certificates are attached to it."""


class Edge(pulumi.ComponentResource):
    """The Cloudflare zone's configuration for one stack.

    ```
    client --TLS 1.2+--> Cloudflare (WAF, rate limit, cache) --TLS, strict--> load balancer (Cloudflare IPs only)
    ```

    * a proxied CNAME per public host to the load balancer; extra hosts also get an ACM
      certificate on the HTTPS listener, since SSL mode Full (strict) checks the origin's certificate;
    * zone settings: SSL strict, minimum TLS, TLS 1.3, Always Use HTTPS, automatic HTTPS rewrites,
      HSTS, HTTP/3, WebSockets, opportunistic encryption (Brotli is on for every zone: no setting);
    * Tiered Cache with Smart topology;
    * the rulesets (`EdgeRules`): cache rules, managed WAF, auth rate limit, custom rules;
    * a Cloudflare health check on https://<api host><health path> (`health_check`), for alerting;
    * optionally zone-level authenticated origin pulls.
    """

    zone_id: pulumi.Output[str]
    records: list[cloudflare.DnsRecord]
    settings: dict[str, cloudflare.ZoneSetting]
    rules: EdgeRules
    health_check: cloudflare.Healthcheck
    health_check_id: pulumi.Output[str]

    def __init__(self, name: str, args: EdgeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:edge:Edge", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.zone_id = pulumi.Output.from_input(args.zone_id)

        self.records = [
            cloudflare.DnsRecord(
                f"{name}-{host.split('.')[0]}", zone_id=args.zone_id, name=host, type="CNAME",
                content=args.origin_dns_name, proxied=True, ttl=AUTOMATIC_TTL,
                comment="floyo: proxied to the load balancer (managed by Pulumi)", opts=child,
            )
            for host in s.hosts
        ]
        for label in s.extra_hosts:
            cert = DnsValidatedCertificate(f"{name}-{label}-cert", CertificateArgs(
                domain=f"{label}.{s.zone}", zone_id=args.zone_id), opts=child)
            aws.lb.ListenerCertificate(f"{name}-{label}-cert", listener_arn=args.https_listener_arn,
                                       certificate_arn=cert.arn, opts=child)

        self.settings = {
            setting: cloudflare.ZoneSetting(f"{name}-{setting.replace('_', '-')}", zone_id=args.zone_id,
                                            setting_id=setting, value=value, opts=child)
            for setting, value in zone_settings(s).items()
        }

        argo = cloudflare.ArgoTieredCaching(f"{name}-tiered-cache", zone_id=args.zone_id, value="on", opts=child)
        cloudflare.TieredCache(f"{name}-smart-tiered-cache", zone_id=args.zone_id, value="on",
                               opts=pulumi.ResourceOptions(parent=self, depends_on=[argo]))

        if s.authenticated_origin_pulls:
            cloudflare.AuthenticatedOriginPullsSettings(f"{name}-origin-pulls", zone_id=args.zone_id, enabled=True,
                                                        opts=child)

        self.rules = EdgeRules(f"{name}-rules", EdgeRulesArgs(
            zone_id=args.zone_id, hosts=s.hosts, cache=s.cache, rate_limit=s.auth_rate_limit,
            custom_rules=s.waf_custom_rules,
        ), opts=child)

        hc = s.health_check
        self.health_check = cloudflare.Healthcheck(
            f"{name}-health",
            zone_id=args.zone_id,
            name=f"{s.api_host.replace('.', '-')}-health",
            description=f"floyo: https://{s.api_host}{hc.path} through Cloudflare",
            address=s.api_host,
            type="HTTPS",
            http_config={
                "method": "GET", "path": hc.path, "port": 443, "expected_codes": ["200"],
                "follow_redirects": False, "allow_insecure": False, "header": {"Host": [s.api_host]},
            },
            check_regions=list(hc.regions),
            interval=hc.interval_seconds,
            timeout=hc.timeout_seconds,
            retries=hc.retries,
            consecutive_fails=hc.consecutive_fails,
            consecutive_successes=1,
            suspended=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=self.records),
        )
        self.health_check_id = self.health_check.id
        self.register_outputs({"zone_id": self.zone_id, "health_check_id": self.health_check_id})
