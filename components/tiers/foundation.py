"""The foundation tier: keys, network, security groups, the zone and certificate, origin lock, load balancer."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_cloudflare as cloudflare

from components.aws_context import AwsContext
from components.certificate import CertificateArgs, DnsValidatedCertificate
from components.kms_key import KmsKey, KmsKeyArgs, logs_statement
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.network import Network, NetworkArgs
from components.origin_lock import OriginLock, OriginLockArgs
from components.security_groups import SecurityGroupsArgs, TierSecurityGroups
from stacks import StackSettings


@dataclass(frozen=True)
class Foundation:
    """What the other tiers build on."""

    logs_key: KmsKey
    """Encrypts CloudWatch Logs."""
    data_key: KmsKey
    """Encrypts data at rest: RDS, ElastiCache, Secrets Manager, buckets."""
    network: Network
    groups: TierSecurityGroups
    zone: pulumi.Output[cloudflare.GetZoneResult]
    """The stack's Cloudflare zone (`cdn.zone`), looked up."""
    origin_lock: OriginLock
    lb: LoadBalancer


def foundation(settings: StackSettings, ctx: AwsContext) -> Foundation:
    """Declare the foundation of the stack (`protect`ed in prod)."""
    stack, prod = pulumi.get_stack(), settings.tier == "prod"
    logs_key = KmsKey("logs", KmsKeyArgs(
        context=ctx, description=f"floyo {stack}: CloudWatch Logs", alias=f"floyo-{stack}-logs",
        service_statements=[logs_statement(ctx)], protect=prod,
    ))
    data_key = KmsKey("data", KmsKeyArgs(
        context=ctx, description=f"floyo {stack}: data at rest (RDS, ElastiCache, Secrets Manager)",
        alias=f"floyo-{stack}-data", protect=prod,
    ))
    network = Network("net", NetworkArgs(settings=settings.network, context=ctx, logs_key_arn=logs_key.arn))
    groups = TierSecurityGroups("sg", SecurityGroupsArgs(
        vpc_id=network.vpc_id, service_port=settings.backend.container_port,
        # Origin lock: only Cloudflare reaches the load balancer (dev may relax it by name for debugging).
        edge_ipv4_cidrs=None if settings.cdn.allow_direct_origin_access else cloudflare.get_ip_ranges_output().ipv4_cidrs,
        edge_max_entries=settings.network.edge_prefix_list_max_entries,
    ))
    zone = cloudflare.get_zone_output(filter={"name": settings.cdn.zone, "match": "all"})
    certificate = DnsValidatedCertificate("api-cert", CertificateArgs(domain=settings.cdn.api_host, zone_id=zone.id))
    # Origin lock by mutual TLS: Cloudflare presents our client certificate first, then the listener verifies it.
    origin_lock = OriginLock("origin-lock", OriginLockArgs(
        settings=settings.cdn.origin_lock, zone_id=zone.id, zone=settings.cdn.zone, hosts=settings.cdn.hosts,
        bucket_key_arn=data_key.arn, protect=prod))
    lb = LoadBalancer("api", LoadBalancerArgs(
        settings=settings.backend, context=ctx, vpc_id=network.vpc_id, subnet_ids=network.public_subnet_ids,
        security_group_id=groups.lb.id, certificate_arn=certificate.arn, protect=prod,
        zonal_shift=settings.resilience.zonal_autoshift.enabled,
        trust_store_arn=origin_lock.trust_store_arn if settings.cdn.origin_lock.verifies else None,
        listener_depends_on=origin_lock.presented,
    ))
    return Foundation(logs_key=logs_key, data_key=data_key, network=network, groups=groups, zone=zone,
                      origin_lock=origin_lock, lb=lb)
