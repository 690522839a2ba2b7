"""Network paths: every connection the design relies on has a rule naming its peer group, and nothing
reaches a data store from an address range."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs

from ._core import CRITICAL, HIGH, MANDATORY, FloyoStackPolicy, has, known, of_type, referenced, strings

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
WORLD = ("0.0.0.0/0", "::/0")

ATTACHMENTS: dict[str, str] = {
    # resource type -> the input naming its security groups
    "aws:ecs/service:Service": "networkConfiguration",
    "aws:rds/proxy:Proxy": "vpcSecurityGroupIds",
    "aws:rds/cluster:Cluster": "vpcSecurityGroupIds",
    "aws:rds/instance:Instance": "vpcSecurityGroupIds",
    "aws:elasticache/replicationGroup:ReplicationGroup": "securityGroupIds",
    "aws:lb/loadBalancer:LoadBalancer": "securityGroups",
    "aws:ec2/instance:Instance": "vpcSecurityGroupIds",
    "aws:ec2/launchTemplate:LaunchTemplate": "vpcSecurityGroupIds",
    "aws:codebuild/project:Project": "vpcConfig",
}
DATA_STORES = ("aws:rds/proxy:Proxy", "aws:rds/cluster:Cluster", "aws:rds/instance:Instance",
               "aws:elasticache/replicationGroup:ReplicationGroup")
DEPLOY_HOSTS = ("aws:ec2/instance:Instance", "aws:ec2/launchTemplate:LaunchTemplate", "aws:codebuild/project:Project")
"""What can carry the deploy's connection to the database inside the VPC: an (SSM) access host or an
in-VPC runner."""


@dataclass(frozen=True)
class Rule:
    """One ingress or egress rule, resolved to group URNs."""

    resource: PolicyResource
    group: frozenset[str]
    peer: frozenset[str]
    cidrs: tuple[str, ...]
    from_port: int
    to_port: int

    def covers(self, port: int) -> bool:
        return self.from_port <= port <= self.to_port


def _port(value: object, default: int) -> int:
    try:
        return int(float(str(value)))
    except ValueError:
        return default


def rules(resources: list[PolicyResource], token: str) -> list[Rule]:
    groups = of_type(resources, SECURITY_GROUP)
    found = []
    for r in of_type(resources, token):
        p = r.props
        all_ports = str(known(p, "ipProtocol")) == "-1"
        found.append(Rule(
            r, frozenset(g.urn for g in referenced(r, "securityGroupId", groups)),
            frozenset(g.urn for g in referenced(r, "referencedSecurityGroupId", groups))
            if has(p, "referencedSecurityGroupId") else frozenset(),
            tuple(strings(known(p, "cidrIpv4")) + strings(known(p, "cidrIpv6"))
                  + ([str(known(p, "prefixListId") or "a prefix list")] if has(p, "prefixListId") else [])),
            0 if all_ports else _port(known(p, "fromPort"), 0), 65535 if all_ports else _port(known(p, "toPort"), 65535)))
    return found


def groups_of(resource: PolicyResource, resources: list[PolicyResource]) -> frozenset[str]:
    key = ATTACHMENTS.get(resource.resource_type)
    return frozenset(g.urn for g in referenced(resource, key, of_type(resources, SECURITY_GROUP))) if key else frozenset()


def _path(src: frozenset[str], dst: frozenset[str], port: int, ingress: list[Rule], egress: list[Rule]) -> str | None:
    """None when some group of `src` may reach some group of `dst` on `port` by rules naming each other; else
    what is missing."""
    inbound = [r for r in ingress if r.group & dst and r.peer & src and r.covers(port)]
    if not inbound:
        return "no ingress rule on the target's group naming the source's group"
    outbound = [r for r in egress if r.group & src and (r.peer & dst or r.cidrs) and r.covers(port)]
    if not outbound:
        return "no egress rule on the source's group towards the target"
    return None


def _attached(resources: list[PolicyResource], *tokens: str) -> list[tuple[PolicyResource, frozenset[str]]]:
    return [(r, groups_of(r, resources)) for r in of_type(resources, *tokens)]


def _union(items: Iterable[tuple[PolicyResource, frozenset[str]]]) -> frozenset[str]:
    return frozenset().union(*(g for _, g in items))


def _required_paths(args: StackValidationArgs, report: ReportViolation) -> None:
    res = list(args.resources)
    ingress, egress = rules(res, INGRESS), rules(res, EGRESS)
    services = _attached(res, "aws:ecs/service:Service")
    proxies = _attached(res, "aws:rds/proxy:Proxy")
    clusters = _attached(res, "aws:rds/cluster:Cluster")
    caches = _attached(res, "aws:elasticache/replicationGroup:ReplicationGroup")
    wanted: list[tuple[str, list[tuple[PolicyResource, frozenset[str]]], list[tuple[PolicyResource, frozenset[str]]], int]] = []
    wanted += [("service to proxy", services, [p], 5432) for p in proxies]
    wanted += [("proxy to database", proxies, [c], _port(c[0].props.get("port"), 5432)) for c in clusters]
    wanted += [("service to cache", services, [c], _port(c[0].props.get("port"), 6379)) for c in caches]
    for what, sources, targets, port in wanted:
        if not sources:
            continue
        problem = _path(_union(sources), _union(targets), port, ingress, egress)
        if problem:
            target = targets[0][0]
            report(f"network path {what}: {', '.join(s.name for s, _ in sources)} cannot reach {target.name} on "
                   f"{port}: {problem}", target.urn)
    _deploy_path(res, ingress, egress, proxies + clusters, report)


def _deploy_path(res: list[PolicyResource], ingress: list[Rule], egress: list[Rule],
                 stores: list[tuple[PolicyResource, frozenset[str]]], report: ReportViolation) -> None:
    """The postgresql provider connects from the deploy; something in the VPC must carry that connection."""
    hosts = _attached(res, *DEPLOY_HOSTS)
    for provider in of_type(res, "pulumi:providers:postgresql"):
        deps = {d.urn for d in provider.dependencies}
        target = next(((s, g) for s, g in stores if s.urn in deps), None)
        if target is None:
            continue
        # the database's own port: the provider may reach it through a tunnel on another local port
        port = _port(known(target[0].props, "port"), 5432)
        reachable = [h for h, g in hosts if _path(g, target[1], port, ingress, egress) is None]
        if not reachable:
            admitted = sorted({n.split("::")[-1] for r in ingress if r.group & target[1] for n in r.peer})
            report(f"network path deploy to database: provider {provider.name} connects to {target[0].name} on {port} "
                   f"during `pulumi up`, but no in-VPC deploy path (access host or runner: {', '.join(DEPLOY_HOSTS)}) "
                   f"has a rule to its group; the group admits only {', '.join(admitted) or 'nothing'}",
                   provider.urn)


required_paths = FloyoStackPolicy(
    "required-network-paths",
    "Service to proxy, proxy to database, service to cache and the deploy path to the database each have "
    "ingress and egress rules naming the peer group.",
    _required_paths, MANDATORY, CRITICAL, ["FSBP EC2.18/EC2.19 (least-privilege security groups)"])


def _world_or_range_ingress(args: StackValidationArgs, report: ReportViolation) -> None:
    res = list(args.resources)
    stores = _union(_attached(res, *DATA_STORES))
    edge = _union((lb, g) for lb, g in _attached(res, "aws:lb/loadBalancer:LoadBalancer")
                  if not lb.props.get("internal"))
    names = {g.urn: g.name for g in of_type(res, SECURITY_GROUP)}
    for rule in rules(res, INGRESS):
        if rule.group & stores and rule.cidrs:
            report(f"rule {rule.resource.name}: data store group {', '.join(names.get(g, g) for g in rule.group)} admits "
                   f"an address range ({', '.join(rule.cidrs)}); data stores admit only named peer groups",
                   rule.resource.urn)
        if set(rule.cidrs) & set(WORLD) and not rule.group <= edge:
            report(f"rule {rule.resource.name}: ingress from {', '.join(c for c in rule.cidrs if c in WORLD)} into "
                   f"{', '.join(names.get(g, g) for g in rule.group)}, which is not the internet-facing load balancer",
                   rule.resource.urn)
    for group in of_type(res, SECURITY_GROUP):
        for inline in group.props.get("ingress") or []:
            if isinstance(inline, Mapping) and set(strings(inline.get("cidrBlocks"))) & set(WORLD) and group.urn not in edge:
                report(f"security group {group.name}: inline ingress from 0.0.0.0/0", group.urn)
    for db in of_type(res, "aws:rds/clusterInstance:ClusterInstance", "aws:rds/instance:Instance"):
        if db.props.get("publiclyAccessible"):
            report(f"database instance {db.name} is publicly accessible", db.urn)


no_range_ingress = FloyoStackPolicy(
    "no-range-ingress-to-data-or-world",
    "No data store is reachable from an address range, and only the internet-facing load balancer admits 0.0.0.0/0.",
    _world_or_range_ingress, MANDATORY, HIGH, ["FSBP EC2.2", "FSBP EC2.19", "FSBP RDS.2", "CKV_AWS_260", "CKV_AWS_24"])

POLICIES = [required_paths, no_range_ingress]
