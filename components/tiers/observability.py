"""The observability tier: alert topics, health and synthetic checks, alarms, SLO burn alerts, account alerts,
log masking and the dashboard (docs/monitoring.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.account_alerts import AccountAlerts, AccountAlertsArgs
from components.alarm_catalogue import (
    HEALTH_CHECK_REGION,
    ROLLBACK_ALARM_KEYS,
    AlarmSpec,
    backend_alarms,
    edge_alarms,
    postgres_alarms,
    redis_alarms,
    service_down,
    synthetics_alarms,
)
from components.alarms import Alarms, AlarmsArgs
from components.alerting import Alerting, AlertingArgs, AlertTopics
from components.aws_context import AwsContext
from components.backend import BackendService
from components.dashboard import Dashboard, DashboardArgs, DeploymentView
from components.health_check import HealthCheckArgs, PublicHealthCheck
from components.log_data_protection import LogDataProtection, LogDataProtectionArgs
from components.origin_lock_alarm import origin_lock_alarms
from components.slo import burn_alerts
from components.slo_alarms import SloAlarms, SloAlarmsArgs
from components.slo_dashboard import SloDashboardArgs
from components.synthetic_check import SyntheticCheck, SyntheticCheckArgs
from components.tiers.data import DataTier
from components.tiers.foundation import Foundation
from stacks import StackSettings
from stacks.account import baseline_stack_reference


@dataclass(frozen=True)
class Observability:
    """What the drills and the outputs read."""

    region: str
    """The stack's region (`aws:region`)."""
    alerting: Alerting
    alarm_specs: Sequence[AlarmSpec]
    """Every metric alarm of the stack, as declared by `alarms`."""
    alarms: Alarms
    dashboard: Dashboard
    synthetic_check: SyntheticCheck | None
    """None when `monitoring.synthetics.enabled` is off (dev only)."""


def alarm_specs(settings: StackSettings, base: Foundation, data: DataTier, backend: BackendService,
                public_health: PublicHealthCheck, synthetic_check: SyntheticCheck | None) -> list[AlarmSpec]:
    """The catalogue's alarms (components/alarm_catalogue.py) on the stack's own resources."""
    thresholds, lb, origin_lock = settings.monitoring.thresholds, base.lb, base.origin_lock
    postgres, cache = data.postgres, data.cache
    synthetics = settings.monitoring.synthetics
    return [
        *edge_alarms(health_check_id=public_health.health_check_id, url=public_health.url),
        *origin_lock_alarms(certificate_arn=origin_lock.monitored_certificate_arn,
                            ca_certificate_arns=origin_lock.ca_monitor_arns,
                            warning_days=settings.cdn.origin_lock.expiry_warning_days),
        *(synthetics_alarms(canary_name=synthetic_check.canary_name, interval_minutes=synthetics.interval_minutes,
                            url=f"https://{settings.cdn.api_host}") if synthetic_check else []),
        *backend_alarms(thresholds, load_balancer=lb.arn_suffix, target_group=lb.target_group_arn_suffix,
                        cluster_name=backend.cluster_name, service_name=backend.service_name,
                        alternate_target_group=lb.traffic_shift.alternate_target_group.arn_suffix
                        if lb.traffic_shift else None),
        *postgres_alarms(thresholds, cluster_id=postgres.cluster.cluster_identifier,
                         instance_ids=[i.identifier for i in (postgres.writer, *postgres.readers)],
                         reader_ids=[i.identifier for i in postgres.readers],
                         max_connections=settings.database.max_connections, proxy_name=postgres.proxy.name),
        *redis_alarms(thresholds, member_cluster_ids=[
            cache.replication_group.member_clusters.apply(lambda members, i=i: sorted(members)[i])
            for i in range(1 + settings.cache.replicas)
        ]),
    ]


def observability(settings: StackSettings, ctx: AwsContext, base: Foundation, data: DataTier,
                  backend: BackendService, monthly_budget_usd: float) -> Observability:
    """Declare the stack's monitoring of the backend, the data tier and the edge, and its budget
    (`monthly_budget_usd`, stacks/budget.py)."""
    prod, monitoring = settings.tier == "prod", settings.monitoring
    region = pulumi.Config("aws").require("region")
    alerting = Alerting("alerts", AlertingArgs(settings=monitoring, context=ctx, protect=prod))
    remote_topics: dict[str, AlertTopics] = {}
    if region != HEALTH_CHECK_REGION:  # Route 53 health-check alarms can only notify us-east-1 topics
        remote_topics[HEALTH_CHECK_REGION] = Alerting("alerts-edge", AlertingArgs(
            settings=monitoring, context=ctx, region=HEALTH_CHECK_REGION, protect=prod)).topics
    public_health = PublicHealthCheck("public-health", HealthCheckArgs(
        host=settings.cdn.api_host, path=settings.cdn.health_check.path))
    synthetic_check = SyntheticCheck("synthetics", SyntheticCheckArgs(
        settings=monitoring.synthetics, context=ctx, host=settings.cdn.api_host,
        health_path=settings.cdn.health_check.path, key_arn=base.data_key.arn, protect=prod,
    )) if monitoring.synthetics.enabled else None
    specs = alarm_specs(settings, base, data, backend, public_health, synthetic_check)
    slo_alerts = burn_alerts(monitoring.slo, load_balancer=base.lb.arn_suffix)  # docs/slo.md
    slo_alarms = SloAlarms("burn", SloAlarmsArgs(
        alerts=slo_alerts, topics=alerting.topics, actions_enabled=monitoring.alarms_enabled))
    alarms = Alarms("alarms", AlarmsArgs(
        specs=specs, topics=alerting.topics, stack_region=region, remote_topics=remote_topics,
        actions_enabled=monitoring.alarms_enabled, composite=service_down(specs, region),
        composite_alarms=slo_alarms.service_down_members,
    ))
    # Account-level events and cost anomalies reach one stack per account; its baseline (baseline/) is read
    # through a StackReference, never the other way round. Every stack has its own budget.
    baseline = pulumi.StackReference(baseline_stack_reference(settings.account.baseline_stack, pulumi.get_organization())
                                     ) if settings.account.receives_account_events else None
    AccountAlerts("account-alerts", AccountAlertsArgs(
        settings=settings.account, topics=alerting.topics, budget_enforcement=settings.cost.budget_enforcement,
        monthly_budget_usd=monthly_budget_usd,
        anomaly_monitor_arn=baseline.require_output("anomaly_monitor_arn").apply(str) if baseline else None,
    ))
    LogDataProtection("backend-pii", LogDataProtectionArgs(log_group_name=backend.log_group.name))  # GDPR masking
    dashboard = Dashboard("dashboard", DashboardArgs(
        specs=specs, region=ctx.region, composite_arn=alarms.composite.arn if alarms.composite else None,
        deployments=DeploymentView(
            cluster_name=backend.cluster_name, service_name=backend.service_name,
            rollback_alarm_arns=[alarms.alarms[key].arn for key in ROLLBACK_ALARM_KEYS],
            strategy=settings.backend.deployment.strategy),
        slo=SloDashboardArgs(
            alerts=slo_alerts, load_balancer=base.lb.arn_suffix, period_days=monitoring.slo.period_days,
            cluster_name=backend.cluster_name, service_name=backend.service_name,
            composite_arns=[c.arn for c in slo_alarms.composites.values()]),
    ))
    return Observability(region=region, alerting=alerting, alarm_specs=specs, alarms=alarms, dashboard=dashboard,
                         synthetic_check=synthetic_check)
