"""One security group per tier, with rules that name their peer group."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

POSTGRES_PORT = 5432
REDIS_PORT = 6379
HTTPS_PORT = 443
WORLD = "0.0.0.0/0"
RULES_PER_DIRECTION = 60
"""Default quota of inbound, and separately of outbound, rules per security group (VPC user guide,
"Amazon VPC quotas", Security groups). A rule that references a managed prefix list counts as the
list's `max_entries` rules, whatever the list holds."""


def edge_entries(cidrs: Sequence[str], max_entries: int) -> list[aws.ec2.ManagedPrefixListEntryArgs]:
    """The prefix list's entries; refuses more ranges than the list holds (AWS would fail the create)."""
    if len(cidrs) > max_entries:
        raise ValueError(
            f"the edge publishes {len(cidrs)} IPv4 ranges but floyo-infra:network.edge_prefix_list_max_entries "
            f"is {max_entries}: raise it to at least {len(cidrs)} (an in-place change)"
        )
    return [aws.ec2.ManagedPrefixListEntryArgs(cidr=c, description="edge") for c in cidrs]


def peer_rules(
    name: str, sg_id: pulumi.Input[str], peer_id: pulumi.Input[str], port: int, why: str, opts: pulumi.ResourceOptions,
) -> tuple[aws.vpc.SecurityGroupIngressRule, aws.vpc.SecurityGroupEgressRule]:
    """TCP `port` into group `sg_id` from group `peer_id` (`<name>-in`), and the matching egress from the peer
    to the group (`<name>-out`): each rule names the other group, never a CIDR."""
    ingress = aws.vpc.SecurityGroupIngressRule(
        f"{name}-in", security_group_id=sg_id, referenced_security_group_id=peer_id,
        ip_protocol="tcp", from_port=port, to_port=port, description=why, opts=opts,
    )
    egress = aws.vpc.SecurityGroupEgressRule(
        f"{name}-out", security_group_id=peer_id, referenced_security_group_id=sg_id,
        ip_protocol="tcp", from_port=port, to_port=port, description=why, opts=opts,
    )
    return ingress, egress


@dataclass(frozen=True)
class SecurityGroupsArgs:
    """Arguments of `TierSecurityGroups`."""

    vpc_id: pulumi.Input[str]
    """The VPC the groups belong to."""
    service_port: int
    """Port the backend containers listen on; the only port the load balancer may reach."""
    edge_ipv4_cidrs: pulumi.Input[Sequence[str]] | None = None
    """IPv4 ranges allowed to reach the load balancer on 443, held in a managed prefix list.
    Default None: HTTPS from anywhere (0.0.0.0/0). The edge passes Cloudflare's published ranges
    here. Nothing is allowed on 80: the edge redirects to HTTPS itself (`always_use_https`) and
    reaches the origin on 443 only (SSL mode Full (strict))."""
    edge_max_entries: int = 20
    """Capacity of the edge prefix list (`network.edge_prefix_list_max_entries`). The HTTPS rule
    counts as this many of the load balancer group's `RULES_PER_DIRECTION` inbound rules. Default 20."""


class TierSecurityGroups(pulumi.ComponentResource):
    """Security groups for every tier, least privilege by construction.

    ```
    edge ranges --443--> lb --service_port--> service --5432--> proxy --5432--> database
                                               service --6379--> cache
                                               service --443--> AWS APIs, Sentry (egress only)
    ```
    Nothing else is allowed: the data tier has no egress rules at all.
    """

    lb: aws.ec2.SecurityGroup
    service: aws.ec2.SecurityGroup
    proxy: aws.ec2.SecurityGroup
    database: aws.ec2.SecurityGroup
    cache: aws.ec2.SecurityGroup
    edge_prefix_list_id: pulumi.Output[str] | None = None

    def __init__(self, name: str, args: SecurityGroupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:network:TierSecurityGroups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        def group(tier: str, description: str) -> aws.ec2.SecurityGroup:
            return aws.ec2.SecurityGroup(
                f"{name}-{tier}", vpc_id=args.vpc_id, description=description,
                tags={"Name": f"{name}-{tier}", "floyo:tier": tier}, opts=child,
            )

        self.lb = group("lb", "Load balancer: HTTPS from the edge, to the service port only")
        self.service = group("service", "Backend tasks: from the load balancer; to proxy, cache and HTTPS")
        self.proxy = group("proxy", "RDS Proxy: Postgres from the backend tasks only")
        self.database = group("database", "Aurora: Postgres from the RDS Proxy only")
        self.cache = group("cache", "ElastiCache: Redis from the backend tasks only")

        def allow(rule: str, sg: aws.ec2.SecurityGroup, peer: aws.ec2.SecurityGroup, port: int, why: str) -> None:
            peer_rules(f"{name}-{rule}", sg.id, peer.id, port, why, child)

        allow("lb-to-service", self.service, self.lb, args.service_port, "load balancer to backend")
        allow("service-to-proxy", self.proxy, self.service, POSTGRES_PORT, "backend to RDS Proxy")
        allow("proxy-to-database", self.database, self.proxy, POSTGRES_PORT, "RDS Proxy to Aurora")
        allow("service-to-cache", self.cache, self.service, REDIS_PORT, "backend to Redis")
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-service-https-out", security_group_id=self.service.id, cidr_ipv4=WORLD,
            ip_protocol="tcp", from_port=HTTPS_PORT, to_port=HTTPS_PORT,
            description="AWS APIs (via endpoints or NAT), error tracking", opts=child,
        )
        self._edge_rules(name, args)
        self.register_outputs({sg: getattr(self, sg).id for sg in ("lb", "service", "proxy", "database", "cache")})

    def _edge_rules(self, name: str, args: SecurityGroupsArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        if args.edge_ipv4_cidrs is None:
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-edge-https", security_group_id=self.lb.id, cidr_ipv4=WORLD, ip_protocol="tcp",
                from_port=HTTPS_PORT, to_port=HTTPS_PORT, description="HTTPS from anywhere", opts=child,
            )
            return
        edge = aws.ec2.ManagedPrefixList(
            f"{name}-edge",
            address_family="IPv4",
            max_entries=args.edge_max_entries,
            entries=pulumi.Output.from_input(args.edge_ipv4_cidrs).apply(
                lambda cidrs: edge_entries(cidrs, args.edge_max_entries)
            ),
            tags={"Name": f"{name}-edge"},
            opts=child,
        )
        self.edge_prefix_list_id = edge.id
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-edge-{HTTPS_PORT}", security_group_id=self.lb.id, prefix_list_id=edge.id, ip_protocol="tcp",
            from_port=HTTPS_PORT, to_port=HTTPS_PORT, description=f"edge ranges on {HTTPS_PORT}", opts=child,
        )
