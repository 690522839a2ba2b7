"""Price a plan: one line per priced resource, with its basis (unit price x quantity x hours).

Input is `Plan.as_json()["resources"]` (what `ops plan --json` prints and `ops diff` compares), so the
same code prices a stack, and both sides of a diff. Fixed parts come from the resources' inputs (instance
class, desired count, node type, AZs); usage parts from `UsageAssumptions` (stacks/cost.py), named in
the basis. A resource whose price is missing from the table is listed as unpriced, with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ops.cost.coverage import FREE, USAGE_ONLY
from ops.cost.prices import Prices
from ops.plan.urns import is_top_level, name_of
from stacks.cost import UsageAssumptions

Resource = Mapping[str, Any]


@dataclass(frozen=True)
class Line:
    """One priced resource."""

    urn: str
    name: str
    type: str
    component: str
    monthly_usd: float
    basis: str

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "component": self.component,
                "monthly_usd": round(self.monthly_usd, 2), "basis": self.basis, "urn": self.urn}


@dataclass(frozen=True)
class Unpriced:
    """A resource not in the total, and why (usage-only, a missing price, a type not covered)."""

    name: str
    type: str
    reason: str


@dataclass
class Estimate:
    """A stack's monthly estimate."""

    region: str
    prices_date: str
    lines: list[Line] = field(default_factory=list)
    unpriced: list[Unpriced] = field(default_factory=list)
    usage: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return round(sum(line.monthly_usd for line in self.lines), 2)

    def by_component(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.component] = totals.get(line.component, 0.0) + line.monthly_usd
        return dict(sorted(totals.items(), key=lambda kv: -kv[1]))

    def as_json(self) -> dict[str, Any]:
        return {"total_monthly_usd": self.total, "region": self.region, "prices_date": self.prices_date,
                "usage": self.usage,
                "components": {k: round(v, 2) for k, v in self.by_component().items()},
                "resources": [line.as_json() for line in self.lines],
                "unpriced": [{"name": u.name, "type": u.type, "reason": u.reason} for u in self.unpriced]}


@dataclass(frozen=True)
class Context:
    prices: Prices
    usage: UsageAssumptions
    resources: Sequence[Resource]

    def of_type(self, token: str) -> list[Resource]:
        return [r for r in self.resources if r["type"] == token]

    def dependency(self, res: Resource, key: str, token: str) -> Resource | None:
        """The resource of type `token` that `res`'s input `key` was computed from, if the plan says."""
        urns = set((res.get("property_dependencies") or {}).get(key, []))
        return next((r for r in self.of_type(token) if r["urn"] in urns), None)


Priced = tuple[float, str] | str
"""(monthly USD, basis), or the reason it cannot be priced."""


def _usd(x: float) -> str:
    return f"${x:g}"


def _hours(ctx: Context) -> float:
    return ctx.prices.hours


def _fargate(ctx: Context, cpu_units: float, memory_mb: float, arm: bool, count: float, hours: float) -> tuple[float, str]:
    p = ctx.prices
    vcpu, gb = cpu_units / 1024, memory_mb / 1024
    vcpu_price = p.usd("fargate_arm_vcpu_hour" if arm else "fargate_vcpu_hour")
    gb_price = p.usd("fargate_arm_gb_hour" if arm else "fargate_gb_hour")
    cost = count * hours * (vcpu * vcpu_price + gb * gb_price)
    return cost, (f"{count:g} task(s) x {hours:g} h x ({vcpu:g} vCPU x {_usd(vcpu_price)} + {gb:g} GB x "
                  f"{_usd(gb_price)}) ({'ARM' if arm else 'x86'})")


def _task_shape(task: Resource) -> tuple[float, float, bool]:
    ins = task.get("inputs", {})
    arm = (ins.get("runtimePlatform") or {}).get("cpuArchitecture") == "ARM64"
    return float(ins.get("cpu") or 0), float(ins.get("memory") or 0), arm


def _ecs_service(res: Resource, ctx: Context) -> Priced:
    ins = res.get("inputs", {})
    if ins.get("launchType") not in (None, "FARGATE") and not ins.get("capacityProviderStrategies"):
        return f"launch type {ins.get('launchType')}: only Fargate is priced"
    task = ctx.dependency(res, "taskDefinition", "aws:ecs/taskDefinition:TaskDefinition")
    if task is None:
        family = str(ins.get("taskDefinition", "")).rpartition("/")[2].partition(":")[0]
        task = next((t for t in ctx.of_type("aws:ecs/taskDefinition:TaskDefinition")
                     if t.get("inputs", {}).get("family") == family), None)
    if task is None:
        return "its task definition is not in the plan"
    cpu, memory, arm = _task_shape(task)
    return _fargate(ctx, cpu, memory, arm, float(ins.get("desiredCount", 1)), _hours(ctx))


def _task_definition(res: Resource, ctx: Context) -> Priced | None:
    """A task definition no service runs (the migration task): one-off task hours from the usage."""
    for service in ctx.of_type("aws:ecs/service:Service"):
        if ctx.dependency(service, "taskDefinition", res["type"]) is res or str(
                service.get("inputs", {}).get("taskDefinition", "")).rpartition("/")[2].partition(":")[0] == \
                res.get("inputs", {}).get("family"):
            return None
    cpu, memory, arm = _task_shape(res)
    cost, basis = _fargate(ctx, cpu, memory, arm, 1, ctx.usage.migration_task_hours)
    return cost, basis + " (usage: cost.usage.migration_task_hours)"


def _nat(res: Resource, ctx: Context) -> Priced:
    p, n = ctx.prices, len(ctx.of_type(res["type"]))
    gb = ctx.usage.nat_processed_gb / n
    hourly, per_gb = p.usd("nat_gateway_hour"), p.usd("nat_gateway_gb")
    return (hourly * _hours(ctx) + gb * per_gb,
            f"{_hours(ctx):g} h x {_usd(hourly)} + {gb:g} GB x {_usd(per_gb)} "
            f"(usage: cost.usage.nat_processed_gb {ctx.usage.nat_processed_gb:g} over {n} gateway(s))")


def _eip(res: Resource, ctx: Context) -> Priced:
    price = ctx.prices.usd("public_ipv4_hour")
    return price * _hours(ctx), f"1 public IPv4 address x {_hours(ctx):g} h x {_usd(price)}"


def _alb(res: Resource, ctx: Context) -> Priced:
    ins, p = res.get("inputs", {}), ctx.prices
    if ins.get("loadBalancerType", "application") != "application":
        return f"load balancer type {ins.get('loadBalancerType')}: only ALBs are priced"
    azs = len(ins.get("subnets") or ins.get("subnetMappings") or [])
    lcu, hours = ctx.usage.alb_average_lcu, _hours(ctx)
    ips = 0 if ins.get("internal") else azs
    cost = hours * (p.usd("alb_hour") + lcu * p.usd("alb_lcu_hour") + ips * p.usd("public_ipv4_hour"))
    return cost, (f"{hours:g} h x ({_usd(p.usd('alb_hour'))} + {lcu:g} LCU x {_usd(p.usd('alb_lcu_hour'))} "
                  f"+ {ips} public IPv4 x {_usd(p.usd('public_ipv4_hour'))}) (usage: cost.usage.alb_average_lcu)")


def _endpoint(res: Resource, ctx: Context) -> Priced:
    ins, p = res.get("inputs", {}), ctx.prices
    if ins.get("vpcEndpointType", "Gateway") != "Interface":
        return 0.0, "gateway endpoint: no charge"
    azs, gb = len(ins.get("subnetIds") or []), ctx.usage.endpoint_processed_gb
    cost = azs * _hours(ctx) * p.usd("interface_endpoint_az_hour") + gb * p.usd("interface_endpoint_gb")
    return cost, (f"{azs} AZ(s) x {_hours(ctx):g} h x {_usd(p.usd('interface_endpoint_az_hour'))} + {gb:g} GB x "
                  f"{_usd(p.usd('interface_endpoint_gb'))} (usage: cost.usage.endpoint_processed_gb)")


def _cluster_of(res: Resource, ctx: Context) -> Resource | None:
    clusters = ctx.of_type("aws:rds/cluster:Cluster")
    return ctx.dependency(res, "clusterIdentifier", "aws:rds/cluster:Cluster") or (clusters[0] if clusters else None)


def _acu_hours(cluster: Resource | None, ctx: Context) -> tuple[float, str]:
    scaling = (cluster or {}).get("inputs", {}).get("serverlessv2ScalingConfiguration") or {}
    floor = float(scaling.get("minCapacity", 0.5))
    average = max(floor, ctx.usage.serverless_average_acu)
    # Auto-pause is incompatible with RDS Proxy (aurora-serverless-v2-auto-pause.html, prerequisites):
    # behind a proxy a 0 ACU minimum saves nothing, so the instance is priced running all month.
    pauses = floor == 0 and not ctx.of_type("aws:rds/proxy:Proxy")
    running = 1 - ctx.usage.serverless_paused_share if pauses else 1.0
    note = (f"average {average:g} ACU (usage: cost.usage.serverless_average_acu, minimum {floor:g})"
            + (f", paused {ctx.usage.serverless_paused_share:.0%} of the month (cost.usage.serverless_paused_share)"
               if pauses else ", never paused: behind RDS Proxy" if floor == 0 else ""))
    return average * _hours(ctx) * running, note


IO_OPTIMIZED_COMPUTE = 1.3
"""Aurora I/O-Optimized bills instances and Serverless v2 ACUs 30% above Aurora Standard (no I/O
charge instead): https://aws.amazon.com/rds/aurora/pricing/ ("Aurora I/O-Optimized")."""


def _io_optimized(cluster: Resource | None) -> bool:
    return (cluster or {}).get("inputs", {}).get("storageType") == "aurora-iopt1"


def _cluster_instance(res: Resource, ctx: Context) -> Priced:
    klass, p = str(res.get("inputs", {}).get("instanceClass", "")), ctx.prices
    cluster = _cluster_of(res, ctx)
    factor, config = ((IO_OPTIMIZED_COMPUTE, "Aurora I/O-Optimized, +30%") if _io_optimized(cluster)
                      else (1.0, "Aurora Standard"))
    if klass == "db.serverless":
        acu_hours, note = _acu_hours(cluster, ctx)
        price = p.usd("aurora_serverless_v2_acu_hour") * factor
        return acu_hours * price, f"{acu_hours:g} ACU-h x {_usd(round(price, 6))} ({config}): {note}"
    hourly = p.of_type("aurora_instance_hour", klass)
    if hourly is None:
        return f"no price for {klass} in the table: add it to ops/cost/prices.json (aurora_instance_hour)"
    hourly *= factor
    return hourly * _hours(ctx), f"{_hours(ctx):g} h x {_usd(round(hourly, 6))} ({klass}, {config})"


DATABASE_INSIGHTS_VCPU_HOUR = 0.0125
"""Database Insights in advanced mode, per vCPU-hour of the cluster's provisioned instances (per ACU-hour
below for Serverless v2): https://aws.amazon.com/cloudwatch/pricing/ ("Database Insights"), 2026-12-04. Not a
line of AWS's RDS offer file, so it lives here rather than in prices.json."""
DATABASE_INSIGHTS_ACU_HOUR = 0.003125


def _database_insights(res: Resource, ctx: Context) -> tuple[float, str]:
    """The advanced mode's charge over the cluster's instances, with its basis; (0, "") in standard mode."""
    if res.get("inputs", {}).get("databaseInsightsMode") != "advanced":
        return 0.0, ""
    vcpus, acu_hours = 0.0, 0.0
    for i in ctx.of_type("aws:rds/clusterInstance:ClusterInstance"):
        klass = str(i.get("inputs", {}).get("instanceClass", ""))
        if klass == "db.serverless":
            acu_hours += _acu_hours(res, ctx)[0]
        else:
            vcpus += ctx.prices.vcpu(klass) or 0
    cost = vcpus * _hours(ctx) * DATABASE_INSIGHTS_VCPU_HOUR + acu_hours * DATABASE_INSIGHTS_ACU_HOUR
    return cost, (f" + Database Insights advanced: {vcpus:g} vCPU x {_hours(ctx):g} h x "
                  f"{_usd(DATABASE_INSIGHTS_VCPU_HOUR)}" + (f" + {acu_hours:g} ACU-h x {_usd(DATABASE_INSIGHTS_ACU_HOUR)}"
                                                            if acu_hours else ""))


def _cluster(res: Resource, ctx: Context) -> Priced:
    ins, p, u = res.get("inputs", {}), ctx.prices, ctx.usage
    insights, insights_basis = _database_insights(res, ctx)
    # manage_master_user_password: RDS keeps the master password in a Secrets Manager secret of its own,
    # billed like any secret (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-secrets-manager.html)
    secret = p.usd("secret_month") if ins.get("manageMasterUserPassword") else 0.0
    secret_basis = f" + 1 RDS-managed master secret x {_usd(secret)}" if secret else ""
    if _io_optimized(res):
        price = p.usd("aurora_iopt_storage_gb_month")
        return u.aurora_storage_gb * price + secret + insights, (
            f"{u.aurora_storage_gb:g} GB x {_usd(price)} (I/O-Optimized, usage: cost.usage.aurora_storage_gb)"
            + secret_basis + insights_basis)
    storage, io = p.usd("aurora_storage_gb_month"), p.usd("aurora_io_million")
    return (u.aurora_storage_gb * storage + u.aurora_io_millions * io + secret + insights,
            f"{u.aurora_storage_gb:g} GB x {_usd(storage)} + {u.aurora_io_millions:g} M I/O x {_usd(io)} "
            "(usage: cost.usage.aurora_storage_gb, aurora_io_millions)" + secret_basis + insights_basis)


def _proxy(res: Resource, ctx: Context) -> Priced:
    """RDS Proxy bills the vCPUs of the instances behind it (minimum 2), or their ACUs (minimum 8)."""
    p, instances = ctx.prices, ctx.of_type("aws:rds/clusterInstance:ClusterInstance")
    serverless = [i for i in instances if i.get("inputs", {}).get("instanceClass") == "db.serverless"]
    if serverless:
        acu_hours = sum(_acu_hours(_cluster_of(i, ctx), ctx)[0] for i in serverless)
        floor = p.minimum("rds_proxy_acu_hour") * _hours(ctx)
        billed, price = max(acu_hours, floor), p.usd("rds_proxy_acu_hour")
        return billed * price, (f"{billed:g} ACU-h x {_usd(price)} (the instances' ACUs, at least "
                                f"{p.minimum('rds_proxy_acu_hour'):g} ACU every hour)")
    vcpus = 0
    for i in instances:
        klass = str(i.get("inputs", {}).get("instanceClass", ""))
        n = p.vcpu(klass)
        if n is None:
            return f"no vCPU count for {klass} in the table: add it to ops/cost/prices.json (aurora_instance_hour)"
        vcpus += n
    billed, price = max(vcpus, p.minimum("rds_proxy_vcpu_hour")), p.usd("rds_proxy_vcpu_hour")
    return billed * _hours(ctx) * price, f"{billed:g} vCPU x {_hours(ctx):g} h x {_usd(price)} (the instances' vCPUs)"


def _replication_group(res: Resource, ctx: Context) -> Priced:
    ins = res.get("inputs", {})
    node = str(ins.get("nodeType", ""))
    if ins.get("engine", "valkey") != "valkey":
        return f"engine {ins.get('engine')}: the table holds Valkey node prices only"
    hourly = ctx.prices.of_type("valkey_node_hour", node)
    if hourly is None:
        return f"no price for {node} in the table: add it to ops/cost/prices.json (valkey_node_hour)"
    if "numNodeGroups" in ins:
        nodes = float(ins["numNodeGroups"]) * (1 + float(ins.get("replicasPerNodeGroup", 0)))
    else:
        nodes = float(ins.get("numCacheClusters", 1))
    return nodes * hourly * _hours(ctx), f"{nodes:g} node(s) x {_hours(ctx):g} h x {_usd(hourly)} ({node}, Valkey)"


def _instance(res: Resource, ctx: Context) -> Priced:
    kind, p = str(res.get("inputs", {}).get("instanceType", "")), ctx.prices
    hourly = p.of_type("ec2_hour", kind)
    if hourly is None:
        return f"no price for {kind} in the table: add it to ops/cost/prices.json (ec2_hour)"
    gb, ebs = 8.0, p.usd("ebs_gp3_gb_month")  # AL2023's root snapshot: the launch template sets no size
    for template in ctx.of_type("aws:ec2/launchTemplate:LaunchTemplate"):
        for mapping in template.get("inputs", {}).get("blockDeviceMappings") or []:
            gb = float((mapping.get("ebs") or {}).get("volumeSize") or gb)
    return (hourly * _hours(ctx) + gb * ebs,
            f"{_hours(ctx):g} h x {_usd(hourly)} ({kind}) + {gb:g} GB gp3 x {_usd(ebs)}")


def _flat(key: str, what: str) -> Callable[[Resource, Context], Priced]:
    def price(res: Resource, ctx: Context) -> Priced:
        usd = ctx.prices.usd(key)
        return usd, f"1 {what} x {_usd(usd)}/month"
    return price


KMS_BILLED_ROTATIONS = 2
"""A rotated key bills $1/month more for each of its first two rotations (later rotations are free):
https://aws.amazon.com/kms/pricing/ (since May 2024)."""


def _kms_key(res: Resource, ctx: Context) -> Priced:
    """A key at its steady state: with automatic rotation, $1 plus $1 for each of the first two rotations
    (reached after two rotation periods), so the budget still covers it then."""
    ins, usd = res.get("inputs", {}), ctx.prices.usd("kms_key_month")
    if not ins.get("enableKeyRotation"):
        return usd, f"1 key x {_usd(usd)}/month (no automatic rotation)"
    period = float(ins.get("rotationPeriodInDays") or 365)
    total = usd * (1 + KMS_BILLED_ROTATIONS)
    return total, (f"1 key x {_usd(usd)} + {KMS_BILLED_ROTATIONS} billed rotations x {_usd(usd)}/month (rotation "
                   f"every {period:g} days: {_usd(usd)} until the first rotation, {_usd(total)} from the second on)")


def _alarm(res: Resource, ctx: Context) -> Priced:
    ins, p = res.get("inputs", {}), ctx.prices
    queries = ins.get("metricQueries") or []
    periods = [q["metric"].get("period", 60) for q in queries if q.get("metric")] or [ins.get("period", 60)]
    high = sum(1 for period in periods if float(period or 60) < 60)
    cost = (len(periods) - high) * p.usd("alarm_metric_month") + high * p.usd("alarm_high_resolution_metric_month")
    return cost, f"{len(periods)} metric(s) x {_usd(p.usd('alarm_metric_month'))}" + (
        f" ({high} high-resolution x {_usd(p.usd('alarm_high_resolution_metric_month'))})" if high else "")


def _log_group(res: Resource, ctx: Context) -> Priced:
    p, gb = ctx.prices, ctx.usage.log_ingest_gb_per_group
    days = float(res.get("inputs", {}).get("retentionInDays") or 3653)
    stored = gb * min(days, 365) / 30
    cost = gb * p.usd("logs_ingest_gb") + stored * p.usd("logs_storage_gb_month")
    return cost, (f"{gb:g} GB ingested x {_usd(p.usd('logs_ingest_gb'))} + {stored:g} GB kept ({days:g} days, "
                  f"uncompressed bound) x {_usd(p.usd('logs_storage_gb_month'))} (usage: cost.usage.log_ingest_gb_per_group)")


def _canary(res: Resource, ctx: Context) -> Priced:
    expression = str((res.get("inputs", {}).get("schedule") or {}).get("expression", ""))
    words = expression.removeprefix("rate(").removesuffix(")").split()
    if len(words) != 2 or not words[0].isdigit() or not words[1].startswith(("minute", "hour")):
        return f"schedule {expression!r}: only rate(N minutes|hours) is priced"
    every = int(words[0]) * (60 if words[1].startswith("hour") else 1)
    runs, price = _hours(ctx) * 60 / every, ctx.prices.usd("canary_run")
    return runs * price, f"{runs:g} runs ({expression}) x {_usd(price)}"


def _health_check(res: Resource, ctx: Context) -> Priced:
    """Route 53: the endpoint is Cloudflare's (non-AWS); HTTPS, string matching, latency and a 10 s
    interval are each an optional feature."""
    ins, p = res.get("inputs", {}), ctx.prices
    features = [name for name, on in (
        ("HTTPS", str(ins.get("type", "")).startswith("HTTPS")),
        ("string matching", str(ins.get("type", "")).endswith("STR_MATCH")),
        ("latency", bool(ins.get("measureLatency"))), ("fast interval", float(ins.get("requestInterval", 30)) < 30),
    ) if on]
    base, feature = p.usd("route53_health_check_non_aws_month"), p.usd("route53_health_check_feature_non_aws_month")
    return base + len(features) * feature, (f"{_usd(base)} + {len(features)} optional feature(s) "
                                            f"({', '.join(features) or 'none'}) x {_usd(feature)} (non-AWS endpoint)")


def _bucket(res: Resource, ctx: Context) -> Priced:
    gb, price = ctx.usage.bucket_storage_gb, ctx.prices.usd("s3_standard_gb_month")
    return gb * price, f"{gb:g} GB x {_usd(price)} (usage: cost.usage.bucket_storage_gb)"


PRICERS: dict[str, Callable[[Resource, Context], Priced]] = {
    "aws:ecs/service:Service": _ecs_service,
    "aws:ec2/natGateway:NatGateway": _nat,
    "aws:ec2/eip:Eip": _eip,
    "aws:lb/loadBalancer:LoadBalancer": _alb,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _endpoint,
    "aws:rds/cluster:Cluster": _cluster,
    "aws:rds/clusterInstance:ClusterInstance": _cluster_instance,
    "aws:rds/proxy:Proxy": _proxy,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
    "aws:ec2/instance:Instance": _instance,
    "aws:kms/key:Key": _kms_key,
    "aws:secretsmanager/secret:Secret": _flat("secret_month", "secret"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": _flat("composite_alarm_month", "composite alarm"),
    "aws:cloudwatch/dashboard:Dashboard": _flat("dashboard_month", "dashboard (beyond the account's 3 free)"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:synthetics/canary:Canary": _canary,
    "aws:route53/healthCheck:HealthCheck": _health_check,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
}
"""Type -> its pricer."""

def _enhanced_monitoring(res: Resource, ctx: Context) -> str | None:
    interval = float(res.get("inputs", {}).get("monitoringInterval") or 0)
    if not interval:
        return None
    return (f"Enhanced Monitoring every {interval:g} s: billed as CloudWatch Logs ingestion into the "
            "account's RDSOSMetrics log group (not in this program's plan) "
            "(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_Monitoring.OS.overview.html)")


NOTES: dict[str, Callable[[Resource, Context], str | None]] = {
    "aws:rds/clusterInstance:ClusterInstance": _enhanced_monitoring,
}
"""Usage-billed parts of a priced resource that its line leaves out: listed as usage-only, never silently zero."""

SPECIAL: dict[str, Callable[[Resource, Context], Priced | None]] = {
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
}
"""Types priced only in some cases (None: free in this case; see `coverage.FREE`)."""


def component_of(parent: str) -> str:
    """The component a resource belongs to: its parent's name (`(stack)` for top-level resources)."""
    return "(stack)" if is_top_level(parent) else name_of(parent)


def price_resources(resources: Sequence[Resource], prices: Prices, usage: UsageAssumptions) -> Estimate:
    """The monthly estimate of `resources` (`Plan.as_json()["resources"]`)."""
    ctx = Context(prices, usage, [r for r in resources if r.get("custom", True)])
    estimate = Estimate(prices.region, prices.date, usage=usage.model_dump())
    for res in ctx.resources:
        token = res["type"]
        note = NOTES[token](res, ctx) if token in NOTES else None
        if note:
            estimate.unpriced.append(Unpriced(res["name"], token, "usage-only: " + note))
        result: Priced | None
        if token in SPECIAL:
            result = SPECIAL[token](res, ctx)
            if result is None:
                continue
        elif token in PRICERS:
            result = PRICERS[token](res, ctx)
        elif token in USAGE_ONLY:
            estimate.unpriced.append(Unpriced(res["name"], token, "usage-only: " + USAGE_ONLY[token]))
            continue
        elif token in FREE:
            continue
        else:
            estimate.unpriced.append(Unpriced(res["name"], token, "type not covered: add it to ops/cost"))
            continue
        if isinstance(result, str):
            estimate.unpriced.append(Unpriced(res["name"], token, result))
            continue
        usd, basis = result
        estimate.lines.append(Line(res["urn"], res["name"], token, component_of(res.get("parent", "")), usd, basis))
    return estimate


def plan_line(estimate: Estimate, name: str, token: str, usd: float, basis: str) -> None:
    """Add a line that no resource in the plan carries (the Cloudflare plan of the zone the stack uses)."""
    estimate.lines.append(Line(f"(settings)::{name}", name, token, "(settings)", usd, basis))
