"""The alarm catalogue: every alarm Floyo ships, as data.

One `AlarmSpec` per alarm says what is measured (a metric, or metric math over
several), when it fires (comparison, threshold from settings, how many datapoints),
how missing data counts (chosen per alarm, with the reason), who hears about it
(`page` or `ticket`) and what on-call should check first.

The same specs drive the CloudWatch alarms (`components/alarms.py`), the dashboard
(`components/dashboard.py`) and the README's alert table (`python -m ops alerts-table`).
The functions below take plain identifiers (names, ids, ARN suffixes) so each tier
is wired with one call in `components/tiers/observability.py` (`alarm_specs`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import pulumi

from stacks.monitoring import AlarmThresholds

Severity = Literal["page", "ticket"]
"""`page` wakes someone up; `ticket` is looked at in working hours."""
Signal = Literal["traffic", "errors", "latency", "saturation", "availability"]
"""The golden signal an alarm watches (groups the dashboard)."""
TierName = Literal["backend", "postgres", "redis", "edge"]
Comparison = Literal[
    "GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"
]
MissingData = Literal["breaching", "notBreaching", "ignore", "missing"]

TIERS: tuple[TierName, ...] = ("edge", "backend", "postgres", "redis")
"""Tiers in the order the dashboard and the README list them."""

_KEY = re.compile(r"^[a-z][a-z0-9-]{2,80}$")
_METRIC_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
_STATS = {"Average", "Sum", "Minimum", "Maximum", "SampleCount"}
_PERCENTILE = re.compile(r"^p\d{1,2}(\.\d{1,2})?$")
_PERCENTILE_RANK = re.compile(r"^PR\((\d+(\.\d+)?)?:(\d+(\.\d+)?)?\)$")
"""`PR(:0.5)`: the % of datapoints at or under 0.5 (CloudWatch "Statistics definitions", percentile rank)."""
_SYMBOL = {"GreaterThanThreshold": ">", "GreaterThanOrEqualToThreshold": ">=",
           "LessThanThreshold": "<", "LessThanOrEqualToThreshold": "<="}


MAX_ALARM_METRICS = 10
"""Metrics one metric-math alarm may read: PutMetricAlarm takes at most 10 `MetricStat` queries (plus up to
10 expressions), a hard limit (CloudWatch User Guide, "Limits that apply to alarms based on metric math")."""

@dataclass(frozen=True)
class Metric:
    """One CloudWatch metric an alarm reads."""

    id: str
    """Id inside the alarm's metric math (lowercase first letter)."""
    namespace: str
    """CloudWatch namespace, e.g. `AWS/ApplicationELB`."""
    name: str
    """Metric name, e.g. `RequestCount`."""
    dimensions: Mapping[str, pulumi.Input[str]]
    """Dimension name -> value (the resource's identifier)."""
    stat: str
    """`Average`, `Sum`, `Minimum`, `Maximum`, `SampleCount` or a percentile such as `p99`."""
    period: int = 60
    """Seconds per datapoint (a multiple of 60)."""

    def __post_init__(self) -> None:
        if not _METRIC_ID.match(self.id):
            raise ValueError(f"metric id {self.id!r} must start with a lowercase letter")
        if self.stat not in _STATS and not _PERCENTILE.match(self.stat) and not _PERCENTILE_RANK.match(self.stat):
            raise ValueError(f"metric {self.name}: unknown statistic {self.stat!r}")
        if self.period <= 0 or self.period % 60:
            raise ValueError(f"metric {self.name}: period must be a multiple of 60 seconds")


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm of the catalogue."""

    key: str
    """Unique, kebab-case; the alarm is named `floyo-<stack>-<key>`."""
    tier: TierName
    """Which part of the platform it watches."""
    signal: Signal
    """Golden signal (dashboard grouping)."""
    title: str
    """One line for humans: what the alarm means."""
    description: str
    """What broke and what to check first (goes into the alarm, hence the notification)."""
    severity: Severity
    """Which topic hears it."""
    metrics: tuple[Metric, ...]
    """The metrics read: exactly one when `expression` is None."""
    comparison: Comparison
    threshold: float
    """In the unit of the metric or expression (converted from the setting)."""
    threshold_setting: str
    """Where the threshold comes from, for the alerts table in docs/monitoring.md (`python -m ops alerts-table`):
    a `monitoring.thresholds` key (`cache_cpu_percent`, shown as `thresholds.cache_cpu_percent`); a full settings
    path when the setting lives elsewhere (`cdn.origin_lock.expiry_warning_days`, shown as written); or
    `"(fixed)"` when no setting changes it because the value is fixed by what the metric means (a Route 53
    health check's 1 = healthy, `HealthCheckStatus < 1`), shown as "fixed"."""
    threshold_text: str
    """The threshold as a human reads it, e.g. `1 %` or `2.5 s`."""
    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing_data: MissingData
    missing_data_reason: str
    """Why missing data is treated this way (shown in the README table)."""
    expression: str | None = None
    """Metric math over the metrics' ids; None alarms on the single metric directly."""
    unit_label: str = ""
    """Y-axis label of the dashboard graph."""
    service_down: bool = False
    """Member of the composite "service down" alarm, which pages once for all of them."""
    stops_drills: bool = False
    """A fault-injection drill stops on it before any other alarm (components/resilience.py, `stop_alarm_keys`):
    the most direct sign that a drill hurts users. Default false."""
    region: str | None = None
    """Region the metric lives in when it is not the stack's (Route 53 health checks: us-east-1)."""
    dashboard_inputs: bool = False
    """Also plot the raw input metrics (right axis) on the dashboard: traffic next to the rate."""

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"alarm key {self.key!r} must be kebab-case")
        if not self.metrics:
            raise ValueError(f"{self.key}: needs at least one metric")
        if len(self.metrics) > MAX_ALARM_METRICS:
            raise ValueError(
                f"{self.key}: reads {len(self.metrics)} metrics; a CloudWatch metric-math alarm reads at most "
                f"{MAX_ALARM_METRICS}"
            )
        if self.expression is None and len(self.metrics) != 1:
            raise ValueError(f"{self.key}: several metrics need an expression")
        ids = [m.id for m in self.metrics]
        if len(set(ids)) != len(ids) or "result" in ids:
            raise ValueError(f"{self.key}: metric ids must be unique and not 'result'")
        if not 1 <= self.datapoints_to_alarm <= self.evaluation_periods:
            raise ValueError(f"{self.key}: datapoints_to_alarm must be 1..evaluation_periods")
        if self.evaluation_periods * self.metrics[0].period > 86_400:
            raise ValueError(f"{self.key}: evaluation window over one day")
        if self.service_down and self.severity != "ticket":
            raise ValueError(f"{self.key}: service-down members are tickets; the composite pages")

    @property
    def period(self) -> int:
        return self.metrics[0].period

    @property
    def condition(self) -> str:
        """`> 1 % for 5 of 5 min`, for tables."""
        window = self.evaluation_periods * self.period // 60
        return (f"{_SYMBOL[self.comparison]} {self.threshold_text} for {self.datapoints_to_alarm} of "
                f"{self.evaluation_periods} × {self.period // 60} min ({window} min)")


@dataclass(frozen=True)
class CompositeSpec:
    """The composite alarm: fires when any member fires, and pages once."""

    key: str
    title: str
    description: str
    members: tuple[str, ...]
    """Keys of the member alarms (all `service_down`, all in the stack's region)."""


def _pct(value: float) -> str:
    return f"{value:g} %"


def _secs(value: float) -> str:
    return f"{value:g} s"


def _bytes(value: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= size and value % size == 0:
            return f"{value // size} {unit}"
    return f"{value} B"


# --- backend ---------------------------------------------------------------------------


ROLLBACK_ALARM_KEYS: tuple[str, ...] = ("backend-target-5xx-rate", "backend-latency-p99", "backend-unhealthy-hosts")
"""The backend alarms that roll an ECS deployment back when they fire (the service's `alarms` block):
errors, latency and failing health checks of the tasks serving traffic."""


def _both(metric: Metric, alternate: pulumi.Input[str] | None) -> tuple[Metric, ...]:
    """`metric` and, with a second target group, the same metric of that group (id suffixed `b`)."""
    if alternate is None:
        return (metric,)
    dims = {**metric.dimensions, "TargetGroup": alternate}
    return metric, Metric(f"{metric.id}b", metric.namespace, metric.name, dims, metric.stat, metric.period)


def backend_alarms(
    t: AlarmThresholds, *, load_balancer: pulumi.Input[str], target_group: pulumi.Input[str],
    cluster_name: pulumi.Input[str], service_name: pulumi.Input[str],
    alternate_target_group: pulumi.Input[str] | None = None,
) -> list[AlarmSpec]:
    """Load balancer, target group and ECS service alarms.

    `load_balancer` and `target_group` are ARN suffixes (`app/<name>/<id>`,
    `targetgroup/<name>/<id>`), which is what the `AWS/ApplicationELB` dimensions hold.
    With a gradual deployment strategy ECS serves from `target_group` and
    `alternate_target_group` in turn (the new revision registers in the idle one, and after the
    release the old one is empty), so every alarm on a target-group metric reads both: a canary's
    errors must count, and an empty primary group after a swap is no outage. Counts are summed
    (`FILL(x, 0)` each, so one group without data does not blank the sum), latencies take the
    slower group (`MAX`).
    """
    elb = "AWS/ApplicationELB"
    lb = {"LoadBalancer": load_balancer}
    tg = {"LoadBalancer": load_balancer, "TargetGroup": target_group}
    alt = alternate_target_group
    errors = _both(Metric("errors", elb, "HTTPCode_Target_5XX_Count", tg, "Sum"), alt)
    requests = _both(Metric("requests", elb, "RequestCount", tg, "Sum"), alt)
    total_errors = " + ".join(f"FILL({m.id}, 0)" for m in errors) if alt else "FILL(errors, 0)"
    total_requests = "(" + " + ".join(f"FILL({m.id}, 0)" for m in requests) + ")" if alt else "requests"
    p95 = _both(Metric("latency", elb, "TargetResponseTime", tg, "p95"), alt)
    p99 = _both(Metric("latency", elb, "TargetResponseTime", tg, "p99"), alt)
    unhealthy = _both(Metric("unhealthy", elb, "UnHealthyHostCount", tg, "Maximum"), alt)
    healthy = _both(Metric("healthy", elb, "HealthyHostCount", tg, "Minimum"), alt)
    svc = {"ClusterName": cluster_name, "ServiceName": service_name}
    floor = t.min_requests_per_minute
    quiet = "notBreaching"
    return [
        AlarmSpec(
            key="backend-lb-5xx-rate", tier="backend", signal="errors", severity="ticket", stops_drills=True,
            # not in service-down: the availability SLO's fastest burn alert pages instead (docs/slo.md)
            title="Load balancer 5xx rate high",
            description="The load balancer itself answers 5xx (502/503/504): no healthy target, targets "
            "timing out or resetting connections. Check first: target group health, ECS service events, "
            "backend logs for crashes or timeouts.",
            metrics=(Metric("errors", elb, "HTTPCode_ELB_5XX_Count", lb, "Sum"),
                     Metric("requests", elb, "RequestCount", lb, "Sum")),
            expression=f"IF(requests >= {floor}, 100 * FILL(errors, 0) / requests, 0)",
            comparison="GreaterThanThreshold", threshold=t.lb_5xx_rate_percent,
            threshold_setting="lb_5xx_rate_percent", threshold_text=_pct(t.lb_5xx_rate_percent),
            evaluation_periods=5, datapoints_to_alarm=3, unit_label="% of requests", dashboard_inputs=True,
            treat_missing_data=quiet,
            missing_data_reason="no requests is not an error rate; a dead edge is caught by the health check",
        ),
        AlarmSpec(
            key="backend-target-5xx-rate", tier="backend", signal="errors", severity="ticket", stops_drills=True,
            # not in service-down: the availability SLO's fastest burn alert pages instead (docs/slo.md)
            title="Backend 5xx rate high",
            description="The application answers 5xx to a share of requests. Check first: Sentry for the "
            "new error, the last deploy (roll back if it correlates), database and cache alarms.",
            metrics=(*errors, *requests),
            expression=f"IF({total_requests} >= {floor}, 100 * ({total_errors}) / {total_requests}, 0)",
            comparison="GreaterThanThreshold", threshold=t.target_5xx_rate_percent,
            threshold_setting="target_5xx_rate_percent", threshold_text=_pct(t.target_5xx_rate_percent),
            evaluation_periods=5, datapoints_to_alarm=3, unit_label="% of requests", dashboard_inputs=True,
            treat_missing_data=quiet, missing_data_reason="no requests is not an error rate",
        ),
        AlarmSpec(
            key="backend-latency-p95", tier="backend", signal="latency", severity="ticket",
            title="Backend p95 latency high",
            description="One request in twenty is slower than the threshold. Check first: X-Ray traces of "
            "slow requests, database CPU and proxy borrow latency, cache hit rate.",
            metrics=p95, expression="MAX([latency, latencyb])" if alt else None,
            comparison="GreaterThanThreshold", threshold=t.latency_p95_seconds,
            threshold_setting="latency_p95_seconds", threshold_text=_secs(t.latency_p95_seconds),
            evaluation_periods=10, datapoints_to_alarm=8, unit_label="seconds",
            treat_missing_data=quiet, missing_data_reason="no requests, no latency",
        ),
        AlarmSpec(
            key="backend-latency-p99", tier="backend", signal="latency", severity="page",
            title="Backend p99 latency high",
            description="The slowest requests take longer than the threshold for several minutes: users "
            "see timeouts. Check first: X-Ray traces, database writer CPU and locks, proxy borrow latency.",
            metrics=p99, expression="MAX([latency, latencyb])" if alt else None,
            comparison="GreaterThanThreshold", threshold=t.latency_p99_seconds,
            threshold_setting="latency_p99_seconds", threshold_text=_secs(t.latency_p99_seconds),
            evaluation_periods=10, datapoints_to_alarm=8, unit_label="seconds",
            treat_missing_data=quiet, missing_data_reason="no requests, no latency",
        ),
        AlarmSpec(
            key="backend-unhealthy-hosts", tier="backend", signal="availability", severity="ticket",
            title="Backend tasks failing health checks",
            description="At least one registered task fails the load balancer's /health check. Check "
            "first: the task's logs, its dependencies (database, cache), ECS service events.",
            metrics=unhealthy, expression="FILL(unhealthy, 0) + FILL(unhealthyb, 0)" if alt else None,
            comparison="GreaterThanThreshold", threshold=0, threshold_setting="(fixed)", threshold_text="0",
            evaluation_periods=5, datapoints_to_alarm=3, unit_label="tasks",
            treat_missing_data=quiet,
            missing_data_reason="no registered targets is caught by the healthy-hosts and task-count alarms",
        ),
        AlarmSpec(
            key="backend-no-healthy-hosts", tier="backend", signal="availability", severity="ticket",
            service_down=True,
            title="No healthy backend task",
            description="The load balancer has no healthy target: every request fails. Check first: ECS "
            "service events (tasks crash-looping? image pull failing?), the last deploy, /health's "
            "dependencies.",
            # healthy tasks of both groups together: after a gradual release the alternate group serves
            # and the primary one has none, which alone is no outage
            metrics=healthy, expression="FILL(healthy, 0) + FILL(healthyb, 0)" if alt else None,
            comparison="LessThanThreshold", threshold=1, threshold_setting="(fixed)", threshold_text="1",
            evaluation_periods=2, datapoints_to_alarm=2, unit_label="tasks",
            treat_missing_data="breaching",
            missing_data_reason="the target groups (both, with a gradual strategy) stop reporting only when "
            "there is nothing to report on",
        ),
        AlarmSpec(
            key="backend-tasks-below-desired", tier="backend", signal="availability", severity="ticket",
            title="Running tasks below desired",
            description="ECS can't keep the desired number of tasks running (crash loop, failed image "
            "pull, no capacity, failing deployment). Check first: ECS service events and stopped tasks' "
            "stop reasons.",
            metrics=(Metric("desired", "ECS/ContainerInsights", "DesiredTaskCount", svc, "Maximum"),
                     Metric("running", "ECS/ContainerInsights", "RunningTaskCount", svc, "Minimum")),
            expression="desired - running",
            comparison="GreaterThanOrEqualToThreshold", threshold=1, threshold_setting="(fixed)",
            threshold_text="1 task", evaluation_periods=10, datapoints_to_alarm=10, unit_label="tasks missing",
            treat_missing_data="breaching",
            missing_data_reason="Container Insights reports every minute; silence means the service is gone",
        ),
        AlarmSpec(
            key="backend-cpu-high", tier="backend", signal="saturation", severity="ticket",
            title="Backend CPU high",
            description="Average CPU across tasks stays high although autoscaling targets lower: at "
            "max_tasks, or scaling can't keep up. Check first: task count vs backend.max_tasks, a hot "
            "endpoint in X-Ray.",
            metrics=(Metric("cpu", "AWS/ECS", "CPUUtilization", svc, "Average"),),
            comparison="GreaterThanThreshold", threshold=t.service_cpu_percent,
            threshold_setting="service_cpu_percent", threshold_text=_pct(t.service_cpu_percent),
            evaluation_periods=10, datapoints_to_alarm=8, unit_label="%",
            treat_missing_data=quiet, missing_data_reason="no tasks is the task-count alarm's job",
        ),
        AlarmSpec(
            key="backend-memory-high", tier="backend", signal="saturation", severity="ticket",
            title="Backend memory high",
            description="Tasks use most of their memory; the next spike gets them OOM-killed. Check "
            "first: memory growth since the last deploy (a leak?), backend.memory.",
            metrics=(Metric("memory", "AWS/ECS", "MemoryUtilization", svc, "Average"),),
            comparison="GreaterThanThreshold", threshold=t.service_memory_percent,
            threshold_setting="service_memory_percent", threshold_text=_pct(t.service_memory_percent),
            evaluation_periods=10, datapoints_to_alarm=8, unit_label="%",
            treat_missing_data=quiet, missing_data_reason="no tasks is the task-count alarm's job",
        ),
    ]


# --- postgres --------------------------------------------------------------------------


def postgres_alarms(
    t: AlarmThresholds, *, cluster_id: pulumi.Input[str], instance_ids: Sequence[pulumi.Input[str]],
    reader_ids: Sequence[pulumi.Input[str]], max_connections: int, proxy_name: pulumi.Input[str] | None = None,
) -> list[AlarmSpec]:
    """Aurora PostgreSQL cluster, instance and RDS Proxy alarms.

    `instance_ids` are every instance (writer and readers), `reader_ids` the ones created
    as readers (one replica-lag alarm each). `max_connections` is the instance's
    connection ceiling (the parameter group's max_connections).
    """
    rds = "AWS/RDS"
    writer = {"DBClusterIdentifier": cluster_id, "Role": "WRITER"}
    specs = [
        AlarmSpec(
            key="postgres-writer-cpu", tier="postgres", signal="saturation", severity="ticket",
            title="Postgres writer CPU high",
            description="The writer's CPU stays high: slow queries, missing index, vacuum, or too small an "
            "instance. Check first: Performance Insights top SQL, pg_stat_activity, recent deploys.",
            metrics=(Metric("cpu", rds, "CPUUtilization", writer, "Average"),),
            comparison="GreaterThanThreshold", threshold=t.db_cpu_percent, threshold_setting="db_cpu_percent",
            threshold_text=_pct(t.db_cpu_percent), evaluation_periods=10, datapoints_to_alarm=8, unit_label="%",
            treat_missing_data="missing",
            missing_data_reason="RDS reports every minute; a gap (failover) should show, not page",
        ),
        AlarmSpec(
            key="postgres-deadlocks", tier="postgres", signal="errors", severity="ticket",
            title="Postgres deadlocks",
            description="Transactions deadlock on the writer; one of each pair is rolled back and the app "
            "sees errors. Check first: the Postgres log's deadlock reports (which tables, which queries), "
            "lock ordering in the code involved.",
            metrics=(Metric("deadlocks", rds, "Deadlocks", writer, "Average"),),
            expression="deadlocks * 60",
            comparison="GreaterThanOrEqualToThreshold", threshold=t.db_deadlocks_per_minute,
            threshold_setting="db_deadlocks_per_minute", threshold_text=f"{t.db_deadlocks_per_minute:g}/min",
            evaluation_periods=5, datapoints_to_alarm=2, unit_label="deadlocks/min",
            treat_missing_data="notBreaching", missing_data_reason="no deadlocks may be reported as no data",
        ),
    ]
    for index, instance in enumerate(instance_ids):
        dims = {"DBInstanceIdentifier": instance}
        specs += [
            AlarmSpec(
                key=f"postgres-freeable-memory-{index}", tier="postgres", signal="saturation", severity="ticket",
                title=f"Postgres instance {index} low on memory",
                description="An instance's freeable memory is low: large work_mem sorts, too many "
                "connections, or too small an instance. Check first: connections count, top SQL by memory.",
                metrics=(Metric("freeable", rds, "FreeableMemory", dims, "Minimum"),),
                comparison="LessThanThreshold", threshold=t.db_freeable_memory_bytes,
                threshold_setting="db_freeable_memory_bytes", threshold_text=_bytes(t.db_freeable_memory_bytes),
                evaluation_periods=5, datapoints_to_alarm=5, unit_label="bytes",
                treat_missing_data="missing", missing_data_reason="a reboot gap should show, not page",
            ),
            AlarmSpec(
                key=f"postgres-connections-{index}", tier="postgres", signal="saturation", severity="page",
                title=f"Postgres instance {index} near its connection ceiling",
                description=f"Connections approach max_connections ({max_connections}); new ones will be "
                "refused. Check first: RDS Proxy pool settings, connection leaks in the app, idle sessions "
                "in pg_stat_activity.",
                metrics=(Metric("connections", rds, "DatabaseConnections", dims, "Maximum"),),
                expression=f"100 * connections / {max_connections}",
                comparison="GreaterThanThreshold", threshold=t.db_connections_percent,
                threshold_setting="db_connections_percent", threshold_text=_pct(t.db_connections_percent),
                evaluation_periods=5, datapoints_to_alarm=3, unit_label="% of max_connections",
                dashboard_inputs=True,
                treat_missing_data="missing", missing_data_reason="a reboot gap should show, not page",
            ),
            AlarmSpec(
                key=f"postgres-free-local-storage-{index}", tier="postgres", signal="saturation", severity="page",
                title=f"Postgres instance {index} low on local storage",
                description="Local storage (temporary files, logs) is running out; the instance fails "
                "queries and may restart. Check first: huge sorts/hash joins writing temp files "
                "(log_temp_files), log volume.",
                metrics=(Metric("storage", rds, "FreeLocalStorage", dims, "Minimum"),),
                comparison="LessThanThreshold", threshold=t.db_free_local_storage_bytes,
                threshold_setting="db_free_local_storage_bytes",
                threshold_text=_bytes(t.db_free_local_storage_bytes),
                evaluation_periods=5, datapoints_to_alarm=3, unit_label="bytes",
                treat_missing_data="missing", missing_data_reason="a reboot gap should show, not page",
            ),
        ]
    for index, reader in enumerate(reader_ids):
        specs.append(AlarmSpec(
            key=f"postgres-replica-lag-{index}", tier="postgres", signal="latency", severity="ticket",
            title=f"Postgres reader {index} lagging",
            description="A reader replays the writer's changes late, so read-only queries see stale data. "
            "Check first: the writer's write volume, long-running queries on the reader, the reader's CPU.",
            metrics=(Metric("lag", rds, "AuroraReplicaLag", {"DBInstanceIdentifier": reader}, "Maximum"),),
            comparison="GreaterThanThreshold", threshold=t.db_replica_lag_seconds * 1000,
            threshold_setting="db_replica_lag_seconds", threshold_text=_secs(t.db_replica_lag_seconds),
            evaluation_periods=5, datapoints_to_alarm=3, unit_label="milliseconds",
            treat_missing_data="notBreaching",
            missing_data_reason="a writer reports no replica lag; after a failover this instance may be it",
        ))
    if proxy_name is not None:
        proxy = {"ProxyName": proxy_name}
        specs += [
            AlarmSpec(
                key="postgres-proxy-client-connections", tier="postgres", signal="traffic", severity="ticket",
                title="RDS Proxy client connections high",
                description="More clients hold connections to the proxy than expected: a connection leak or "
                "a scale-out storm. Check first: backend task count, the app's pool size per task.",
                metrics=(Metric("clients", rds, "ClientConnections", proxy, "Sum"),),
                comparison="GreaterThanThreshold", threshold=t.proxy_client_connections,
                threshold_setting="proxy_client_connections", threshold_text=f"{t.proxy_client_connections}",
                evaluation_periods=5, datapoints_to_alarm=3, unit_label="connections",
                treat_missing_data="notBreaching",
                missing_data_reason="the proxy reports only after its first connection",
            ),
            AlarmSpec(
                key="postgres-proxy-borrow-latency", tier="postgres", signal="latency", severity="ticket",
                title="RDS Proxy slow to hand out connections",
                description="Clients wait for a database connection from the pool: the pool is exhausted "
                "(max_connections_percent) or the database is slow to accept. Check first: proxy "
                "DatabaseConnections vs its ceiling, pinned sessions, the writer's connections alarm.",
                metrics=(Metric("borrow", rds, "DatabaseConnectionsBorrowLatency", proxy, "Average"),),
                expression="borrow / 1000",
                comparison="GreaterThanThreshold", threshold=t.proxy_borrow_latency_ms,
                threshold_setting="proxy_borrow_latency_ms", threshold_text=f"{t.proxy_borrow_latency_ms:g} ms",
                evaluation_periods=5, datapoints_to_alarm=3, unit_label="milliseconds",
                treat_missing_data="notBreaching", missing_data_reason="no borrows, no latency",
            ),
        ]
    return specs


# --- redis -----------------------------------------------------------------------------


def _hit_rate_alarm(t: AlarmThresholds, index: int, node: Mapping[str, pulumi.Input[str]]) -> AlarmSpec:
    """Hit rate of one cache node: 2 metrics whatever the replica count."""
    ec = "AWS/ElastiCache"
    lookups = "(FILL(hits, 0) + FILL(misses, 0))"
    return AlarmSpec(
        key=f"redis-hit-rate-low-{index}", tier="redis", signal="errors", severity="ticket",
        title=f"Cache node {index} hit rate low",
        description="Few lookups find their key: a cold cache after a failover or flush, changed key "
        "names in a deploy, or TTLs too short. Check first: the last deploy, evictions, node restarts.",
        metrics=(Metric("hits", ec, "CacheHits", node, "Sum"), Metric("misses", ec, "CacheMisses", node, "Sum")),
        expression=f"IF({lookups} >= {t.min_requests_per_minute}, 100 * FILL(hits, 0) / {lookups}, 100)",
        comparison="LessThanThreshold", threshold=t.cache_hit_rate_percent,
        threshold_setting="cache_hit_rate_percent", threshold_text=_pct(t.cache_hit_rate_percent),
        evaluation_periods=15, datapoints_to_alarm=12, unit_label="% hits", dashboard_inputs=True,
        treat_missing_data="notBreaching", missing_data_reason="no lookups is not a low hit rate",
    )


def redis_alarms(t: AlarmThresholds, *, member_cluster_ids: Sequence[pulumi.Input[str]]) -> list[AlarmSpec]:
    """ElastiCache (Valkey/Redis OSS) replication group alarms.

    ElastiCache publishes per node, under `CacheClusterId` = the replication group's
    member cluster ids (`<group id>-001`, ...; its `member_clusters` output): per-node
    alarms for CPU, memory, connections, lag and the hit rate; group-wide metric math for evictions.

    The hit rate is per node: a group-wide rate would read hits and misses of every node, 12
    metrics with 5 replicas, over the 10 a metric-math alarm may read (`MAX_ALARM_METRICS`).
    """
    ec = "AWS/ElastiCache"
    specs: list[AlarmSpec] = []
    for index, member in enumerate(member_cluster_ids):
        node = {"CacheClusterId": member}
        specs += [
            AlarmSpec(
                key=f"redis-engine-cpu-{index}", tier="redis", signal="saturation", severity="ticket",
                title=f"Cache node {index} engine CPU high",
                description="The cache's single engine thread is busy: slow commands (KEYS, big HGETALL, Lua), "
                "a hot key, or many new TLS connections. Check first: SLOWLOG, commandstats, NewConnections.",
                metrics=(Metric("cpu", ec, "EngineCPUUtilization", node, "Average"),),
                comparison="GreaterThanThreshold", threshold=t.cache_cpu_percent,
                threshold_setting="cache_cpu_percent", threshold_text=_pct(t.cache_cpu_percent),
                evaluation_periods=10, datapoints_to_alarm=8, unit_label="%",
                treat_missing_data="missing", missing_data_reason="a node replacement gap should show, not page",
            ),
            AlarmSpec(
                key=f"redis-memory-{index}", tier="redis", signal="saturation", severity="page",
                title=f"Cache node {index} memory nearly full",
                description="Used memory approaches maxmemory: evictions follow, then write errors. Check "
                "first: keys without TTL, big keys (--bigkeys), the node type.",
                metrics=(Metric("memory", ec, "DatabaseMemoryUsagePercentage", node, "Maximum"),),
                comparison="GreaterThanThreshold", threshold=t.cache_memory_percent,
                threshold_setting="cache_memory_percent", threshold_text=_pct(t.cache_memory_percent),
                evaluation_periods=5, datapoints_to_alarm=5, unit_label="%",
                treat_missing_data="missing", missing_data_reason="a node replacement gap should show, not page",
            ),
            AlarmSpec(
                key=f"redis-connections-{index}", tier="redis", signal="traffic", severity="ticket",
                title=f"Cache node {index} connections high",
                description="Many clients are connected to a cache node: a connection leak or missing pooling. "
                "Check first: backend task count and its Redis pool size, NewConnections.",
                metrics=(Metric("connections", ec, "CurrConnections", node, "Maximum"),),
                comparison="GreaterThanThreshold", threshold=t.cache_connections,
                threshold_setting="cache_connections", threshold_text=f"{t.cache_connections}",
                evaluation_periods=5, datapoints_to_alarm=3, unit_label="connections",
                treat_missing_data="missing", missing_data_reason="a node replacement gap should show, not page",
            ),
            AlarmSpec(
                key=f"redis-replication-lag-{index}", tier="redis", signal="latency", severity="ticket",
                title=f"Cache node {index} replication lagging",
                description="A replica is behind its primary: reads from it are stale and a failover would "
                "lose writes. Check first: the primary's write volume and network, the replica's CPU.",
                metrics=(Metric("lag", ec, "ReplicationLag", node, "Maximum"),),
                comparison="GreaterThanThreshold", threshold=t.cache_replication_lag_seconds,
                threshold_setting="cache_replication_lag_seconds",
                threshold_text=_secs(t.cache_replication_lag_seconds),
                evaluation_periods=5, datapoints_to_alarm=3, unit_label="seconds",
                treat_missing_data="notBreaching",
                missing_data_reason="only replicas report lag; after a failover this node may be the primary",
            ),
            _hit_rate_alarm(t, index, node),
        ]
    evictions = tuple(Metric(f"ev{i}", ec, "Evictions", {"CacheClusterId": m}, "Sum")
                      for i, m in enumerate(member_cluster_ids))
    specs += [
        AlarmSpec(
            key="redis-evictions", tier="redis", signal="saturation", severity="ticket",
            title="Cache evicting keys",
            description="The cache is full and drops keys before their TTL: more misses, more database "
            "load. Check first: memory usage per node, keys without TTL, the node type.",
            metrics=evictions, expression=" + ".join(f"FILL({m.id}, 0)" for m in evictions),
            comparison="GreaterThanThreshold", threshold=t.cache_evictions_per_minute,
            threshold_setting="cache_evictions_per_minute", threshold_text=f"{t.cache_evictions_per_minute}/min",
            evaluation_periods=5, datapoints_to_alarm=3, unit_label="keys/min",
            treat_missing_data="notBreaching", missing_data_reason="no evictions reported is no evictions",
        ),
    ]
    return specs


# --- edge ------------------------------------------------------------------------------

HEALTH_CHECK_REGION = "us-east-1"
"""Route 53 publishes health-check metrics only in us-east-1; their alarms must live there."""


def edge_alarms(*, health_check_id: pulumi.Input[str], url: str) -> list[AlarmSpec]:
    """The public /health URL, probed through Cloudflare by Route 53 health checkers."""
    return [AlarmSpec(
        key="edge-health-check-failing", tier="edge", signal="availability", severity="ticket", service_down=True,
        title="Public /health failing",
        description=f"Route 53 health checkers in several regions can't get a 2xx/3xx from {url}: users "
        "can't reach the API. Check first: Cloudflare status and firewall events, the load balancer's "
        "healthy hosts, the certificate.",
        metrics=(Metric("status", "AWS/Route53", "HealthCheckStatus", {"HealthCheckId": health_check_id},
                        "Minimum"),),
        comparison="LessThanThreshold", threshold=1, threshold_setting="(fixed)", threshold_text="1 (healthy)",
        evaluation_periods=3, datapoints_to_alarm=2, unit_label="1 healthy / 0 unhealthy",
        treat_missing_data="breaching",
        missing_data_reason="a health check that stops reporting is no evidence of health",
        region=HEALTH_CHECK_REGION,
    )]


def service_down(specs: Sequence[AlarmSpec], stack_region: str) -> CompositeSpec:
    """The composite over every `service_down` alarm in the stack's region."""
    members = tuple(s.key for s in specs if s.service_down and s.region in (None, stack_region))
    return CompositeSpec(
        key="service-down", title="Floyo API down",
        description="Users can't use the API: the public health check fails, the load balancer has no "
        "healthy task, or a large share of requests fail. This pages once; the member alarms (tickets) "
        "say which. Check first: the dashboard's edge and backend rows, the last deploy.",
        members=members,
    )


def synthetics_alarms(*, canary_name: pulumi.Input[str], interval_minutes: int, url: str) -> list[AlarmSpec]:
    """The synthetic check (CloudWatch Synthetics canary through Cloudflare): health, an API path, a WebSocket."""
    return [AlarmSpec(
        key="edge-synthetic-check-failing", tier="edge", signal="availability", severity="ticket",
        service_down=True,
        title="Synthetic check failing",
        description=f"The Synthetics canary calling {url} through Cloudflare (/health, an API path, a "
        "WebSocket upgrade) failed twice running: users see errors. Check first: the canary's last run "
        "(screenshot of the step that failed, its log), Cloudflare firewall events, the last deploy.",
        metrics=(Metric("success", "CloudWatchSynthetics", "SuccessPercent", {"CanaryName": canary_name},
                        "Average", period=interval_minutes * 60),),
        comparison="LessThanThreshold", threshold=100, threshold_setting="(fixed)", threshold_text="100 %",
        evaluation_periods=3, datapoints_to_alarm=2, unit_label="% runs passed",
        treat_missing_data="breaching",
        missing_data_reason="a canary that stops running is no evidence the API works",
    )]
