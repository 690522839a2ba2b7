"""A Route 53 health check on the public HTTPS /health URL (the user's path, through Cloudflare).

Why Route 53 rather than a Cloudflare notification policy on the edge's Cloudflare health
check: Route 53 checkers probe the public host name from several AWS regions, so the
check covers DNS, Cloudflare, TLS, the load balancer and the app together; its metric is a
CloudWatch metric, so the alarm routes through the same SNS topics and joins the composite
"service down" alarm. (Cloudflare's origin health check probes the origin from Cloudflare and
notifies through Cloudflare's own destinations, outside that routing.)

Route 53 health-check metrics exist only in us-east-1: the alarm on it is created there
(`region="us-east-1"` on the alarm) and notifies topics in us-east-1.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class HealthCheckArgs:
    """Arguments of `PublicHealthCheck`."""

    host: str
    """Public host name, e.g. api.floyo.app."""
    path: str = "/health"
    """URL path probed. Default /health."""
    interval_seconds: int = 30
    """10 (fast, costs more) or 30 seconds between probes from each checker. Default 30."""
    failure_threshold: int = 3
    """Consecutive failures before a checker calls the endpoint unhealthy (1-10). Default 3."""


class PublicHealthCheck(pulumi.ComponentResource):
    """An HTTPS Route 53 health check (SNI on, latency measured) on `https://<host><path>`."""

    health_check: aws.route53.HealthCheck
    health_check_id: pulumi.Output[str]
    url: str

    def __init__(self, name: str, args: HealthCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:monitoring:PublicHealthCheck", name, None, opts)
        if args.interval_seconds not in (10, 30):
            raise ValueError("interval_seconds must be 10 or 30 (what Route 53 accepts)")
        if not 1 <= args.failure_threshold <= 10:
            raise ValueError("failure_threshold must be 1..10")
        self.url = f"https://{args.host}{args.path}"
        self.health_check = aws.route53.HealthCheck(
            f"{name}-check",
            type="HTTPS",
            fqdn=args.host,
            port=443,
            resource_path=args.path,
            enable_sni=True,
            request_interval=args.interval_seconds,
            failure_threshold=args.failure_threshold,
            measure_latency=True,
            tags={"Name": f"floyo-{pulumi.get_stack()}-public-health"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.health_check_id = self.health_check.id
        self.register_outputs({"health_check_id": self.health_check_id, "url": self.url})
