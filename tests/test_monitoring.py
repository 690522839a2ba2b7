"""Monitoring: routing, alarms, dashboard, tracing and error tracking, asserted on the plan."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from components.alarm_catalogue import (
    AlarmSpec,
    Metric,
    backend_alarms,
    postgres_alarms,
    redis_alarms,
    service_down,
)
from ops.docs.alerts_table import PAGE, alerts_table, catalogue, readme_section
from ops.plan.planner import Plan
from stacks import SettingsError
from stacks.aws_metrics import ELASTICACHE_METRICS, ELASTICACHE_NAMESPACE
from stacks.monitoring import TIER_DEFAULTS, AlarmThresholds
from tests.planning import PREFIX, as_secure, container_definitions, one, plan_with, planned, settings_for, with_changes
from tests.variants import DSN, SAMPLE_RATE, THRESHOLDS, WEBHOOK, other_region_dev, prod_with_secrets, quiet_dev

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
COMPOSITE = "aws:cloudwatch/compositeAlarm:CompositeAlarm"


def alarms_by_key(plan: Plan) -> dict[str, dict[str, Any]]:
    return {a.inputs["tags"]["floyo:alarm"]: a.inputs for a in plan.of_type(ALARM)}


# --- routing ------------------------------------------------------------------------------


def test_topics_are_encrypted_and_split_in_prod(plan: Plan, stack: str) -> None:
    topics = plan.of_type("aws:sns/topic:Topic")
    names = sorted(t.inputs["name"] for t in topics)
    assert names == ([f"floyo-{stack}-page", f"floyo-{stack}-ticket"] if stack == "prod" else [f"floyo-{stack}-alerts"])
    keys = {k.urn: k for k in plan.of_type("aws:kms/key:Key")}
    for topic in topics:
        assert topic.inputs["kmsMasterKeyId"].startswith("arn:aws:kms:")
    alert_keys = [k for k in keys.values() if "alert topics" in k.inputs["description"]]
    assert len(alert_keys) == 1
    policy = json.loads(alert_keys[0].inputs["policy"])
    cw = [s for s in policy["Statement"] if s.get("Principal", {}).get("Service") == "cloudwatch.amazonaws.com"]
    assert cw and "kms:GenerateDataKey*" in cw[0]["Action"] and "kms:Decrypt" in cw[0]["Action"]
    for topic_policy in plan.of_type("aws:sns/topicPolicy:TopicPolicy"):
        statements = json.loads(topic_policy.inputs["policy"])["Statement"]
        assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false"
                   for s in statements)


def test_prod_emails_subscribe_every_topic() -> None:
    plan = plan_with("prod", {})
    subs = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    topic_arns = {t.id for t in plan.of_type("aws:sns/topic:Topic")}
    emails = settings_for(with_changes("prod")).monitoring.alert_emails
    assert emails
    assert {(s.inputs["topic"], s.inputs["endpoint"]) for s in subs if s.inputs["protocol"] == "email"} == {
        (t, e) for t in topic_arns for e in emails}


def test_every_alarm_notifies_on_alarm_and_ok(plan: Plan, stack: str) -> None:
    topics = {t.id for t in plan.of_type("aws:sns/topic:Topic")}
    page = next((t for t in topics if t.endswith("-page")), None)
    alarms = plan.of_type(ALARM) + plan.of_type(COMPOSITE)
    assert len(alarms) >= 10
    rules = " ".join(c.inputs["alarmRule"] for c in plan.of_type(COMPOSITE) if c.inputs.get("alarmActions"))
    for alarm in alarms:
        inputs = alarm.inputs
        assert inputs["actionsEnabled"] is True, alarm.name
        if "floyo:window" in inputs["tags"]:  # an SLO window: silent itself, its notifying composite reads it
            assert not inputs.get("alarmActions") and f'ALARM("{inputs["name"]}")' in rules, alarm.name
            continue
        assert inputs["alarmActions"] and inputs["alarmActions"] == inputs["okActions"], alarm.name
        assert set(inputs["alarmActions"]) <= topics, alarm.name
        severity = inputs["tags"]["floyo:severity"]
        if stack == "prod":
            assert page is not None
            assert inputs["alarmActions"] == [page if severity == "page" else page.replace("-page", "-ticket")]


def test_every_alarm_says_what_to_check_and_treats_missing_data_on_purpose(plan: Plan) -> None:
    for alarm in plan.of_type(ALARM):
        text = alarm.inputs["alarmDescription"]
        assert "Check first:" in text and "Missing data:" in text and len(text) <= 1024, alarm.name
        assert alarm.inputs["treatMissingData"] in ("breaching", "notBreaching", "ignore", "missing")
        assert alarm.inputs["name"].startswith("floyo-")


def test_dev_may_silence_alarms_prod_may_not() -> None:
    quiet = planned(quiet_dev())  # also other tests' settings (tests/variants.py)
    assert settings_for(quiet_dev()).monitoring.alarms_enabled is False
    assert quiet.of_type(ALARM) and all(a.inputs["actionsEnabled"] is False for a in quiet.of_type(ALARM))
    with pytest.raises(SettingsError, match=r"floyo-infra:monitoring.alarms_enabled: got false; prod alarms"):
        settings_for(with_changes("prod", {"monitoring": {"alarms_enabled": False}}))


# --- alarms -------------------------------------------------------------------------------


def test_backend_alarms_use_rates_percentiles_and_task_counts(plan: Plan) -> None:
    alarms = alarms_by_key(plan)
    for key, errors in (("backend-lb-5xx-rate", "HTTPCode_ELB_5XX_Count"),
                        ("backend-target-5xx-rate", "HTTPCode_Target_5XX_Count")):
        queries = {q["id"]: q for q in alarms[key]["metricQueries"]}
        assert queries["errors"]["metric"]["metricName"] == errors
        assert queries["requests"]["metric"]["metricName"] == "RequestCount"
        # a rate: errors over requests (with a gradual deployment, of both target groups: `requestsb`)
        expression = queries["result"]["expression"]
        assert "errors" in expression and re.search(r"/ \(?(FILL\()?requests\b", expression), expression
        assert [q["id"] for q in queries.values() if q.get("returnData")] == ["result"]

    def reads(key: str) -> set[tuple[str, str]]:
        """(metric, statistic) the alarm reads, directly or through metric math."""
        alarm = alarms[key]
        if alarm.get("metricQueries"):
            return {(q["metric"]["metricName"], q["metric"]["stat"]) for q in alarm["metricQueries"] if "metric" in q}
        return {(alarm["metricName"], alarm.get("extendedStatistic") or alarm["statistic"])}

    assert reads("backend-latency-p95") == {("TargetResponseTime", "p95")}
    assert reads("backend-latency-p99") == {("TargetResponseTime", "p99")}
    assert reads("backend-unhealthy-hosts") == {("UnHealthyHostCount", "Maximum")}
    counts = {q["id"]: q["metric"]["metricName"] for q in alarms["backend-tasks-below-desired"]["metricQueries"]
              if "metric" in q}
    assert counts == {"desired": "DesiredTaskCount", "running": "RunningTaskCount"}
    assert alarms["backend-cpu-high"]["namespace"] == "AWS/ECS"
    assert alarms["backend-memory-high"]["metricName"] == "MemoryUtilization"


def test_thresholds_come_from_settings(stack: str) -> None:
    # the variants (tests/variants.py) that set THRESHOLDS, with other tests' independent settings
    config = quiet_dev() if stack == "dev" else prod_with_secrets(mark_secret=True)
    assert settings_for(config).monitoring.thresholds.model_dump() | THRESHOLDS == \
        settings_for(config).monitoring.thresholds.model_dump()
    alarms = alarms_by_key(planned(config))
    assert alarms["backend-lb-5xx-rate"]["threshold"] == 7.5
    assert alarms["backend-latency-p99"]["threshold"] == 9.0
    assert alarms["backend-cpu-high"]["threshold"] == 66
    default = settings_for(with_changes(stack)).monitoring.thresholds
    assert alarms_by_key(plan_with(stack, {}))["backend-cpu-high"]["threshold"] == default.service_cpu_percent


def test_composite_pages_once_for_service_down(plan: Plan) -> None:
    composites = {c.inputs["tags"]["floyo:alarm"]: c.inputs for c in plan.of_type(COMPOSITE)}
    composite = composites["service-down"]
    alarms = {**alarms_by_key(plan), **{k: {**c, "name": c["alarmName"]} for k, c in composites.items()}}
    members = [k for k, a in alarms.items() if f'ALARM("{a["name"]}")' in composite["alarmRule"]]
    # the availability SLO's fastest burn alert stands in for the 5xx rate alarms (docs/slo.md)
    assert {"edge-health-check-failing", "backend-no-healthy-hosts", "slo-availability-1h-5m"} <= set(members)
    assert not {"backend-lb-5xx-rate", "backend-target-5xx-rate"} & set(members)
    assert composite["alarmRule"].count("ALARM(") == len(members)
    for key in members:
        assert alarms[key]["tags"]["floyo:severity"] == "ticket"
    assert composite["tags"]["floyo:severity"] == "page"


def test_edge_health_check_and_its_alarm_live_in_us_east_1(plan: Plan) -> None:
    check = one(plan, "aws:route53/healthCheck:HealthCheck")
    assert check.inputs["type"] == "HTTPS" and check.inputs["resourcePath"] == "/health"
    assert check.inputs["enableSni"] is True and check.inputs["port"] == 443
    alarm = alarms_by_key(plan)["edge-health-check-failing"]
    assert alarm["namespace"] == "AWS/Route53" and alarm["dimensions"] == {"HealthCheckId": check.id}
    assert alarm.get("region") in (None, "us-east-1")  # the stacks run in us-east-1
    assert all(arn.startswith("arn:aws:sns:us-east-1:") for arn in alarm["alarmActions"])


def test_other_region_gets_us_east_1_topics_for_the_edge_alarm() -> None:
    plan = planned(other_region_dev())  # with fault injection off, for test_resilience (tests/variants.py)
    assert other_region_dev().region == "eu-west-1"
    alarm = alarms_by_key(plan)["edge-health-check-failing"]
    assert alarm["region"] == "us-east-1"
    assert all(arn.startswith("arn:aws:sns:us-east-1:") for arn in alarm["alarmActions"])
    assert "edge-health-check-failing" not in one(plan, COMPOSITE, "alarms-service-down").inputs["alarmRule"]
    keys = [k for k in plan.of_type("aws:kms/key:Key") if k.inputs.get("region") == "us-east-1"]
    assert len(keys) == 1


# --- dashboard ----------------------------------------------------------------------------


def stack_identifiers(plan: Plan) -> set[str]:
    """Identifiers of the plan's resources as CloudWatch dimensions carry them."""
    ids: set[str] = set()
    for res in plan.resources:
        ids.add(res.id)
        for key in ("name", "identifier", "clusterIdentifier", "replicationGroupId"):
            if isinstance(res.inputs.get(key), str):
                ids.add(res.inputs[key])
        if ":loadbalancer/" in res.id:
            ids.add(res.id.split(":loadbalancer/", 1)[1])
        if ":targetgroup/" in res.id:
            ids.add("targetgroup/" + res.id.split(":targetgroup/", 1)[1])
        if res.type == "aws:ecs/service:Service":
            ids.add(res.id.rsplit("/", 1)[1])
        if res.type == "aws:elasticache/replicationGroup:ReplicationGroup":
            # Cluster mode disabled: ElastiCache names the member nodes <group id>-001, -002, ...
            nodes = int(res.inputs["numCacheClusters"])
            ids.update(f"{res.inputs['replicationGroupId']}-{i:03d}" for i in range(1, nodes + 1))
    return ids


def test_dashboard_parses_and_graphs_only_this_stacks_resources(plan: Plan) -> None:
    body = json.loads(one(plan, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    known = stack_identifiers(plan)
    graphs = [w for w in body["widgets"] if w["type"] == "metric"]
    assert graphs
    for widget in graphs:
        for row in widget["properties"]["metrics"]:
            if isinstance(row[0], dict):
                continue  # an expression
            dims = row[2:-1]
            for name, value in zip(dims[::2], dims[1::2], strict=True):
                if name == "Role":
                    assert value in ("WRITER", "READER")
                    continue
                assert value in known, f"{widget['properties']['title']}: {name}={value} is not in the stack"


def test_dashboard_draws_every_alarm_threshold(plan: Plan) -> None:
    body = json.loads(one(plan, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"])
    # every metric widget but the releases row (deployments, task counts: no alarm) draws its alarm's threshold
    lines = {(w["properties"]["title"].split(" [")[0], w["properties"]["annotations"]["horizontal"][0]["value"])
             for w in body["widgets"] if w["type"] == "metric" and "annotations" in w["properties"]}
    catalogue = [a for a in plan.of_type(ALARM) if "floyo:slo" not in a.inputs["tags"]]  # SLO rows: tests/test_slo.py
    assert len([line for line in lines if not line[0].startswith(("Availability:", "Latency:"))]) == len(catalogue)
    for alarm in catalogue:
        title = alarm.inputs["alarmDescription"].split(". ")[0]
        assert (title, alarm.inputs["threshold"]) in lines, title
    assert any(w["type"] == "alarm" for w in body["widgets"])


# --- tracing and error tracking -----------------------------------------------------------


def test_collector_sidecar_exports_traces_and_metrics(plan: Plan, stack: str) -> None:
    containers = {c["name"]: c for c in container_definitions(plan)}
    collector = containers["otel-collector"]
    settings = settings_for(with_changes(stack)).monitoring
    assert collector["essential"] is False and collector["image"] == settings.collector_image
    assert "@sha256:" in collector["image"] or ":v" in collector["image"]
    env = {e["name"]: e["value"] for e in collector["environment"]}
    config = json.loads(env["AOT_CONFIG_CONTENT"])
    assert "otlp" in config["receivers"]
    assert set(config["exporters"]) == {"awsxray", "awsemf"}
    assert config["service"]["pipelines"]["traces"]["exporters"] == ["awsxray"]
    assert config["service"]["pipelines"]["metrics"]["exporters"] == ["awsemf"]
    assert all(p["endpoint"].startswith("127.0.0.1:") for p in config["receivers"]["otlp"]["protocols"].values())
    logs = collector["logConfiguration"]
    backend_group = one(plan, "aws:cloudwatch/logGroup:LogGroup", "backend-logs").inputs["name"]
    assert logs["logDriver"] == "awslogs" and logs["options"]["awslogs-group"] == backend_group
    assert logs["options"]["awslogs-stream-prefix"] == "otel-collector"
    app = {e["name"]: e["value"] for e in containers["backend"]["environment"]}
    assert app["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert float(app["OTEL_TRACES_SAMPLER_ARG"]) == settings.tracing_sample_rate


def test_sample_rate_comes_from_settings() -> None:
    plan = planned(prod_with_secrets(mark_secret=True))  # the variant that sets SAMPLE_RATE (tests/variants.py)
    app = {e["name"]: e["value"] for e in container_definitions(plan)[0]["environment"]}
    assert app["OTEL_TRACES_SAMPLER_ARG"] == str(SAMPLE_RATE) == "0.25"


def test_task_role_may_trace_and_put_metrics_only_in_its_namespace(plan: Plan, stack: str) -> None:
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-task").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert {"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
            "xray:GetSamplingTargets"} <= actions
    put = next(s for s in policy["Statement"] if s["Action"] == "cloudwatch:PutMetricData")
    assert put["Condition"] == {"StringEquals": {"cloudwatch:namespace": f"Floyo/{stack}"}}
    emf = next(s for s in policy["Statement"] if "logs:PutLogEvents" in s["Action"])
    assert all("otel-metrics" in r for r in emf["Resource"])


@pytest.mark.parametrize("mark_secret", [True, False])
def test_webhook_and_dsn_never_appear_in_the_plan(mark_secret: bool) -> None:
    config = prod_with_secrets(mark_secret)  # with other tests' settings besides (tests/variants.py)
    assert (PREFIX + "monitoring" in config.secret_keys) is mark_secret
    plan = planned(config)
    text = json.dumps(plan.as_json())
    assert WEBHOOK not in text and "very-secret-webhook-token" not in text
    assert DSN not in text and "0123456789abcdef0123456789abcdef" not in text
    hooks = [s for s in plan.of_type("aws:sns/topicSubscription:TopicSubscription") if s.inputs["protocol"] == "https"]
    assert len(hooks) == 2 and all(h.inputs["endpoint"] == "[secret]" for h in hooks)
    version = one(plan, "aws:secretsmanager/secretVersion:SecretVersion", "telemetry-sentry-dsn")
    assert version.inputs["secretString"] == "[secret]"
    secret = one(plan, "aws:secretsmanager/secret:Secret", "telemetry-sentry-dsn")
    assert secret.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    app = container_definitions(plan)[0]
    assert {"name": "SENTRY_DSN", "valueFrom": secret.id} in app["secrets"]


def test_no_sentry_secret_without_a_dsn(plan: Plan) -> None:
    assert not [s for s in plan.of_type("aws:secretsmanager/secret:Secret") if "sentry" in s.name]
    assert all(s["name"] != "SENTRY_DSN" for s in container_definitions(plan)[0].get("secrets", []))


# --- settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "path", "hint"),
    [
        ({"alert_emails": ["not-an-address"]}, "alert_emails", "not email addresses"),
        ({"thresholds": {"lb_5xx_rate_percent": 150}}, "thresholds.lb_5xx_rate_percent", "less than or equal to 100"),
        ({"thresholds": {"cache_cpu_percent": 0}}, "thresholds.cache_cpu_percent", "greater than 0"),
        ({"thresholds": {"latency_p95_seconds": 3, "latency_p99_seconds": 2}},
         "thresholds.latency_p99_seconds", "latency_p95_seconds"),
        ({"thresholds": {"bogus": 1}}, "thresholds.bogus", "valid keys here"),
        ({"tracing_sample_rate": 1.5}, "tracing_sample_rate", "less than or equal to 1"),
        ({"collector_image": "public.ecr.aws/aws-observability/aws-otel-collector:latest"}, "collector_image",
         "pinned"),
        ({"collector_image": "public.ecr.aws/aws-observability/aws-otel-collector"}, "collector_image", "pinned"),
        ({"log_retention_days": 10}, "log_retention_days", "retention periods"),
    ],
)
def test_bad_monitoring_value_is_named(stack: str, changes: dict[str, Any], path: str, hint: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes(stack, {"monitoring": changes}))
    message = str(caught.value)
    assert f"floyo-infra:monitoring.{path}:" in message and hint in message


@pytest.mark.parametrize(
    ("key", "value", "hint"),
    [("webhook_url", "http://hooks.example.com/plain-secret-token", "https://"),
     ("sentry_dsn", "https://o1.ingest.sentry.io/plain-secret-token", "Sentry DSN")],
)
def test_bad_secret_value_is_named_but_never_echoed(key: str, value: str, hint: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(as_secure(with_changes("dev", {"monitoring": {key: value}}), f"monitoring.{key}"))
    message = str(caught.value)
    assert f"floyo-infra:monitoring.{key}:" in message and hint in message
    assert "plain-secret-token" not in message


def test_prod_needs_an_alert_destination() -> None:
    with pytest.raises(SettingsError, match=r"floyo-infra:monitoring.alert_emails: .*at least one alert destination"):
        settings_for(with_changes("prod", drop=("monitoring",)))
    only_hook = as_secure(with_changes("prod", {"monitoring": {"alert_emails": [], "webhook_url": WEBHOOK}}),
                          "monitoring.webhook_url")
    assert settings_for(only_hook).monitoring.webhook_url is not None


# --- the catalogue in isolation (data tier wiring) ----------------------------------------


def thresholds(tier: str) -> AlarmThresholds:
    return AlarmThresholds.model_validate(TIER_DEFAULTS[tier]["thresholds"])


@pytest.mark.parametrize("readers", [["db-1"], ["db-1", "db-2"]])
def test_postgres_alarms_one_replica_lag_per_reader(readers: list[str]) -> None:
    t = thresholds("prod")
    specs = postgres_alarms(t, cluster_id="floyo-prod", instance_ids=["db-0", *readers], reader_ids=readers,
                            max_connections=1000, proxy_name="floyo-prod-proxy")
    lag = [s for s in specs if s.metrics[0].name == "AuroraReplicaLag"]
    assert [s.metrics[0].dimensions["DBInstanceIdentifier"] for s in lag] == readers
    assert all(s.threshold == t.db_replica_lag_seconds * 1000 for s in lag)  # the metric is in milliseconds
    names = {m.name: m for s in specs for m in s.metrics}
    assert names["CPUUtilization"].dimensions == {"DBClusterIdentifier": "floyo-prod", "Role": "WRITER"}
    assert {"FreeableMemory", "DatabaseConnections", "FreeLocalStorage", "Deadlocks", "ClientConnections",
            "DatabaseConnectionsBorrowLatency"} <= set(names)
    assert names["DatabaseConnectionsBorrowLatency"].dimensions == {"ProxyName": "floyo-prod-proxy"}
    borrow = next(s for s in specs if s.key == "postgres-proxy-borrow-latency")
    assert borrow.expression == "borrow / 1000" and borrow.threshold == t.proxy_borrow_latency_ms
    connections = next(s for s in specs if s.key == "postgres-connections-0")
    assert connections.expression == "100 * connections / 1000"


def per_node_alarms(specs: list[AlarmSpec], members: list[str]) -> dict[str, list[str]]:
    """Alarm key without its node index -> the node each of its alarms reads (catalogue convention: a per-node
    key ends with `-<index>`); an alarm without an index must read every node (group-wide)."""
    found: dict[str, list[str]] = {}
    for spec in specs:
        nodes = {str(m.dimensions.get("CacheClusterId")) for m in spec.metrics}
        base, _, index = spec.key.rpartition("-")
        if not index.isdigit():
            assert nodes == set(members), spec.key
            continue
        assert nodes == {members[int(index)]}, spec.key
        found.setdefault(base, []).append(members[int(index)])
    return found


@pytest.mark.parametrize("members", [["floyo-dev-cache-001"], ["c-001", "c-002", "c-003"]])
def test_every_redis_alarm_reads_a_documented_metric_and_per_node_alarms_cover_each_node(members: list[str]) -> None:
    """Derived from the catalogue and AWS's documented ElastiCache metrics (stacks/aws_metrics.py): a new
    cache alarm is one catalogue entry, with no test to edit."""
    specs = redis_alarms(thresholds("dev"), member_cluster_ids=members)
    for spec in specs:
        for metric in spec.metrics:
            assert metric.namespace == ELASTICACHE_NAMESPACE and metric.name in ELASTICACHE_METRICS, (
                spec.key, metric.name)
    per_node = per_node_alarms(specs, members)
    assert per_node  # the cache has per-node alarms at all
    for key, nodes in per_node.items():
        assert nodes == members, key  # once per node, in node order


def test_redis_alarms_per_node_hit_rate_and_group_evictions() -> None:
    t = thresholds("dev")
    specs = redis_alarms(t, member_cluster_ids=["floyo-dev-cache-001", "floyo-dev-cache-002"])
    # per node since a group-wide rate would read 2 metrics per node, over CloudWatch's 10 at 5 replicas
    for index, member in enumerate(["floyo-dev-cache-001", "floyo-dev-cache-002"]):
        hit = next(s for s in specs if s.key == f"redis-hit-rate-low-{index}")
        assert {m.name for m in hit.metrics} == {"CacheHits", "CacheMisses"} and len(hit.metrics) == 2
        assert {str(m.dimensions["CacheClusterId"]) for m in hit.metrics} == {member}
        assert hit.comparison == "LessThanThreshold" and hit.threshold == t.cache_hit_rate_percent
    evictions = next(s for s in specs if s.key == "redis-evictions")
    assert {str(m.dimensions["CacheClusterId"]) for m in evictions.metrics} == {"floyo-dev-cache-001",
                                                                                "floyo-dev-cache-002"}


def test_spec_rejects_inconsistent_definitions() -> None:
    metric = Metric("m", "AWS/ECS", "CPUUtilization", {}, "Average")
    base: dict[str, Any] = dict(
        key="x-alarm", tier="backend", signal="saturation", title="t", description="d", severity="ticket",
        metrics=(metric,), comparison="GreaterThanThreshold", threshold=1, threshold_setting="s",
        threshold_text="1", evaluation_periods=3, datapoints_to_alarm=3, treat_missing_data="missing",
        missing_data_reason="r",
    )
    AlarmSpec(**base)
    with pytest.raises(ValueError, match="datapoints_to_alarm"):
        AlarmSpec(**{**base, "datapoints_to_alarm": 4})
    with pytest.raises(ValueError, match="expression"):
        AlarmSpec(**{**base, "metrics": (metric, Metric("n", "AWS/ECS", "MemoryUtilization", {}, "Average"))})
    with pytest.raises(ValueError, match="composite pages"):
        AlarmSpec(**{**base, "severity": "page", "service_down": True})
    with pytest.raises(ValueError, match="statistic"):
        Metric("m", "AWS/ECS", "CPUUtilization", {}, "Mean")


def test_composite_members_are_the_service_down_alarms() -> None:
    specs = backend_alarms(thresholds("prod"), load_balancer="lb", target_group="tg", cluster_name="c",
                           service_name="s")
    members = service_down(specs, "us-east-1").members
    assert set(members) == {s.key for s in specs if s.service_down} and members


def test_readme_alert_table_is_current() -> None:
    readme = PAGE.read_text()
    assert readme_section(readme) == alerts_table().strip(), "run: python -m ops alerts-table --write"
    table = alerts_table()
    # threshold_setting: a thresholds key, a full settings path as written, or "(fixed)"
    assert "`thresholds.cache_cpu_percent`" in table and "`cdn.origin_lock.expiry_warning_days`" in table
    assert "thresholds.cdn." not in table and "| fixed |" in table


def test_the_alert_table_lists_every_kind_of_alarm_the_stack_declares(plan: Plan, stack: str) -> None:
    """The table's catalogue (ops/docs/alerts_table.py) and the program's (components/tiers/observability.py)
    name the same alarm groups: one per resource kind, `-<n>` for each instance, reader or node. The SLO burn
    alarms (`floyo:slo`) are documented with their SLOs (docs/slo.md)."""
    def kind(key: str) -> str:
        return re.sub(r"-\d+$", "", key)

    declared = {kind(a.inputs["tags"]["floyo:alarm"]) for a in plan.of_type(ALARM) if "floyo:slo" not in a.inputs["tags"]}
    listed = {kind(s.key) for s in catalogue(settings_for(with_changes(stack)).monitoring.thresholds)}
    assert declared == listed
