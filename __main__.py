"""Floyo's platform: one program, settings per stack (Pulumi.<stack>.yaml)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_cloudflare as cloudflare

from components.account_alerts import AccountAlerts, AccountAlertsArgs
from components.alarm_catalogue import (
    HEALTH_CHECK_REGION,
    ROLLBACK_ALARM_KEYS,
    backend_alarms,
    edge_alarms,
    postgres_alarms,
    redis_alarms,
    service_down,
    synthetics_alarms,
)
from components.alarms import Alarms, AlarmsArgs, alarm_name
from components.alerting import Alerting, AlertingArgs, AlertTopics
from components.aws_context import aws_context
from components.backend import BackendService, BackendServiceArgs
from components.cache_auth import backend_cache_environment, cache_connect_statement
from components.certificate import CertificateArgs, DnsValidatedCertificate
from components.dashboard import Dashboard, DashboardArgs, DeploymentView
from components.database_objects import (
    IAM_LOGINS,
    MIGRATOR,
    DatabaseObjects,
    DatabaseObjectsArgs,
    skip_preview_credentials,
)
from components.db_access import DbAccess, DbAccessArgs
from components.db_connect import backend_database_access
from components.db_migration import URL_SECRETS, migration_phase
from components.drift_access import DriftReads
from components.edge import Edge, EdgeArgs
from components.health_check import HealthCheckArgs, PublicHealthCheck
from components.kms_key import KmsKey, KmsKeyArgs, logs_statement
from components.load_balancer import LoadBalancer, LoadBalancerArgs
from components.log_data_protection import LogDataProtection, LogDataProtectionArgs
from components.network import Network, NetworkArgs
from components.origin_lock import OriginLock, OriginLockArgs
from components.origin_lock_alarm import origin_lock_alarms
from components.postgres import Postgres, PostgresArgs
from components.redis import Redis, RedisArgs, legacy_secret_references
from components.resilience import Resilience, ResilienceArgs, stop_alarm_keys
from components.security_groups import SecurityGroupsArgs, TierSecurityGroups
from components.slo import burn_alerts
from components.slo_alarms import SloAlarms, SloAlarmsArgs
from components.slo_dashboard import SloDashboardArgs
from components.synthetic_check import SyntheticCheck, SyntheticCheckArgs
from components.telemetry import Telemetry, TelemetryArgs
from components.tenant_gateway import GATEWAY
from components.tenants import Tenants, TenantsArgs
from stacks import settings_from_pulumi
from stacks.account import aurora_backup_tag, baseline_stack_reference
from stacks.backend import image_repository_url
from stacks.budget import monthly_budget
from stacks.program_env import claim
from stacks.tenants import backend_document

settings = settings_from_pulumi()  # raises SettingsError before any resource is declared
monthly_budget_usd = monthly_budget(pulumi.get_stack(), settings)  # the setting, or committed estimate x margin
prod = settings.tier == "prod"
ctx = aws_context()
stack = pulumi.get_stack()
drift_reads = DriftReads.collect()  # every secret declared from here on; granted to the drift role at the end

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

# What other tiers hand the backend task: plain env, secret references, IAM, sidecars.
backend_env: dict[str, pulumi.Input[str]] = {}
backend_secrets: dict[str, pulumi.Input[str]] = {}
backend_statements: list[pulumi.Input[dict[str, Any]]] = []
backend_sidecars: list[pulumi.Input[dict[str, Any]]] = []

# --- data tier -------------------------------------------------------------------------
migration = migration_phase(settings)  # docs/tenant-isolation.md, Migration
login_roles, resolve_login_roles = pulumi.deferred_output()  # declared below, by DatabaseObjects
postgres = Postgres("db", PostgresArgs(
    settings=settings.database, context=ctx, subnet_ids=network.isolated_subnet_ids,
    database_security_group_id=groups.database.id, proxy_security_group_id=groups.proxy.id,
    logs_key_arn=logs_key.arn, secrets_key_arn=data_key.arn, availability_zones=network.isolated_subnet_azs,
    protect=prod, backup_tag=aurora_backup_tag(settings.tier),
    iam_users=IAM_LOGINS,  # end-to-end IAM; password logins only while migrating (db_migration)
    logins=migration.secrets, proxy_logins=[login.username for login in migration.proxy_logins],
    proxy_depends_on=login_roles if migration.proxy_after_roles else None,
))
# The deploy reaches the writer through an SSM port forward via this host (README, Reaching the database).
db_access = DbAccess("db-access", DbAccessArgs(
    settings=settings.db_access, context=ctx, vpc_id=network.vpc_id, subnet_id=network.private_subnet_ids[0],
    database_security_group_id=groups.database.id, volume_key_arn=data_key.arn,
    endpoint_security_group_id=network.endpoint_security_group_id,
))
db_objects = DatabaseObjects("dbo", DatabaseObjectsArgs(
    settings=settings.database, tunnel_port=settings.db_access.local_port,
    master_secret_arn=postgres.master_secret_arn,
    depends_on=[postgres.writer, *db_access.path], read_credentials=not skip_preview_credentials(), protect=prod,
    login_passwords={user: postgres.logins[user].password for user in migration.password_users},
))
resolve_login_roles(pulumi.Output.from_input(db_objects.login_roles))
Tenants("tenants", TenantsArgs(  # per tenant its own IAM login, which can act as that tenant only
    tenants=settings.tenants, defaults=settings.tenant_defaults, database=db_objects.database_name,
    provider=db_objects.provider, tier=settings.tier,
    gateway_password=postgres.logins[GATEWAY].password if GATEWAY in postgres.logins else None,
))
cache = Redis("cache", RedisArgs(
    settings=settings.cache, subnet_ids=network.isolated_subnet_ids, security_group_id=groups.cache.id,
    key_arn=data_key.arn, logs_key_arn=logs_key.arn, protect=prod,
))
backend_env.update(backend_cache_environment(cache.users, cache.replication_group.replication_group_id, ctx.region))
backend_statements.append(cache_connect_statement(cache.replication_group.arn, cache.users.backend_user_arn))
password_urls = {env: postgres.logins[user].secret_arn.apply(lambda arn: f"{arn}:url::")
                 for env, user in URL_SECRETS.items() if user in postgres.logins}  # migration only
if migration.urls:  # beside the IAM env, for the running image and its rollback target
    backend_secrets.update(password_urls)
db_connect = backend_database_access(ctx, postgres.proxy_resource_id, settings.database.database_name)
backend_env.update(db_connect.environment)  # no database password: IAM tokens (docs/backend-contract.md)
backend_statements.append(db_connect.statement)
backend_env.update({
    "DATABASE_HOST": postgres.proxy_endpoint, "DATABASE_READ_HOST": postgres.proxy_read_only_endpoint,
    "DATABASE_POOL_SIZE": str(settings.backend.db_pool_size),
    "TENANT_SETTINGS": backend_document(settings.tenant_defaults, settings.tenants, settings.backend.max_tasks),
    "REDIS_HOST": cache.primary_endpoint, "REDIS_PORT": "6379", "REDIS_TLS": "true",
})


# --- tracing and error tracking --------------------------------------------------------
telemetry = Telemetry("telemetry", TelemetryArgs(
    settings=settings.monitoring, context=ctx, logs_key_arn=logs_key.arn, secrets_key_arn=data_key.arn,
    backend_log_group=f"/floyo/{stack}/backend", protect=prod,
))
backend_sidecars.append(telemetry.sidecar)
backend_env.update(telemetry.environment)
backend_secrets.update(telemetry.secrets)
backend_statements.extend(telemetry.statements)

claim([*backend_env, *backend_secrets])  # the settings refuse exactly these names in backend.environment/secrets
backend = BackendService("backend", BackendServiceArgs(
    settings=settings.backend, context=ctx, subnet_ids=network.private_subnet_ids,
    security_group_id=groups.service.id, target_group_arn=lb.target_group.arn,
    load_balancer_arn_suffix=lb.arn_suffix, target_group_arn_suffix=lb.target_group_arn_suffix,
    logs_key_arn=logs_key.arn, secret_key_arns=[data_key.arn], service_depends_on=[lb.https_listener],
    environment=backend_env, secrets=backend_secrets, task_policy_statements=backend_statements,
    sidecars=backend_sidecars, traffic_shift=lb.traffic_shift,
    # by name: the alarms read the service's name, so the service can't wait for them
    rollback_alarm_names=[alarm_name(key) for key in ROLLBACK_ALARM_KEYS],
    migrate_task_statements=[db_connect.migrate_statement], migrate_environment=db_connect.migrate_environment,
    migrate_secrets={"DATABASE_URL": postgres.logins[MIGRATOR].secret_arn.apply(lambda arn: f"{arn}:url::")}
    if migration.urls else {},
    # the rollback target's secrets: the database URLs (`retire`), the cache's AUTH token (`legacy_auth_token`)
    rollback_secrets=[*(password_urls.values() if migration.rollback_urls else ()), *legacy_secret_references(cache)],
))

# --- edge --------------------------------------------------------------------------------
edge = Edge("edge", EdgeArgs(
    settings=settings.cdn, zone_id=zone.id, origin_dns_name=lb.dns_name,
    https_listener_arn=lb.https_listener.arn,
))


# --- monitoring --------------------------------------------------------------------------
region = pulumi.Config("aws").require("region")
thresholds = settings.monitoring.thresholds
alerting = Alerting("alerts", AlertingArgs(settings=settings.monitoring, context=ctx, protect=prod))
remote_topics: dict[str, AlertTopics] = {}
if region != HEALTH_CHECK_REGION:  # Route 53 health-check alarms can only notify us-east-1 topics
    remote_topics[HEALTH_CHECK_REGION] = Alerting("alerts-edge", AlertingArgs(
        settings=settings.monitoring, context=ctx, region=HEALTH_CHECK_REGION, protect=prod)).topics
public_health = PublicHealthCheck("public-health", HealthCheckArgs(
    host=settings.cdn.api_host, path=settings.cdn.health_check.path))
synthetics = settings.monitoring.synthetics
synthetic_check = SyntheticCheck("synthetics", SyntheticCheckArgs(
    settings=synthetics, context=ctx, host=settings.cdn.api_host, health_path=settings.cdn.health_check.path,
    key_arn=data_key.arn, protect=prod,
)) if synthetics.enabled else None
alarm_specs = [
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
slo_alerts = burn_alerts(settings.monitoring.slo, load_balancer=lb.arn_suffix)  # docs/slo.md
slo_alarms = SloAlarms("burn", SloAlarmsArgs(
    alerts=slo_alerts, topics=alerting.topics, actions_enabled=settings.monitoring.alarms_enabled))
alarms = Alarms("alarms", AlarmsArgs(
    specs=alarm_specs, topics=alerting.topics, stack_region=region, remote_topics=remote_topics,
    actions_enabled=settings.monitoring.alarms_enabled, composite=service_down(alarm_specs, region),
    composite_alarms=slo_alarms.service_down_members,
))
# Account-level events and cost anomalies reach one stack per account; its baseline (baseline/) is read
# through a StackReference, never the other way round. Every stack has its own budget.
baseline = pulumi.StackReference(baseline_stack_reference(settings.account.baseline_stack, pulumi.get_organization())
                                 ) if settings.account.receives_account_events else None
AccountAlerts("account-alerts", AccountAlertsArgs(
    settings=settings.account, monthly_budget_usd=monthly_budget_usd, topics=alerting.topics,
    budget_enforcement=settings.cost.budget_enforcement,
    anomaly_monitor_arn=baseline.require_output("anomaly_monitor_arn").apply(str) if baseline else None,
))
LogDataProtection("backend-pii", LogDataProtectionArgs(log_group_name=backend.log_group.name))  # GDPR masking
dashboard = Dashboard("dashboard", DashboardArgs(
    specs=alarm_specs, region=ctx.region, composite_arn=alarms.composite.arn if alarms.composite else None,
    deployments=DeploymentView(
        cluster_name=backend.cluster_name, service_name=backend.service_name,
        rollback_alarm_arns=[alarms.alarms[key].arn for key in ROLLBACK_ALARM_KEYS],
        strategy=settings.backend.deployment.strategy),
    slo=SloDashboardArgs(
        alerts=slo_alerts, load_balancer=lb.arn_suffix, period_days=settings.monitoring.slo.period_days,
        cluster_name=backend.cluster_name, service_name=backend.service_name,
        composite_arns=[c.arn for c in slo_alarms.composites.values()]),
))

# --- resilience: drills, reader autoscaling, zonal autoshift (docs/resilience.md) -------
drill_zone = settings.resilience.fault_injection.zone_index
Resilience("resilience", ResilienceArgs(
    settings=settings.resilience, context=ctx, logs_key_arn=logs_key.arn,
    stop_alarm_arns=[alarms.alarms[key].arn for key in stop_alarm_keys(alarm_specs, region)],
    ecs_cluster_name=backend.cluster_name, ecs_service_name=backend.service_name,
    db_cluster_arn=postgres.cluster.arn, db_cluster_identifier=postgres.cluster.cluster_identifier,
    fixed_readers=postgres.readers, cache_arn=cache.replication_group.arn,
    cache_multi_az=cache.multi_az, vpc_id=network.vpc_id,
    zone_name=network.isolated_subnet_azs[drill_zone],
    zone_subnet_ids=[network.private_subnet_ids[drill_zone], network.isolated_subnet_ids[drill_zone]],
    load_balancer_arn=lb.lb.arn,
))

# --- outputs -----------------------------------------------------------------------------

drift_reads.declare(stack)  # after the last resource: what `refresh --run-program` reads (components/drift_access.py)

pulumi.export("service_url", f"https://{settings.cdn.api_host}")
pulumi.export("load_balancer_dns_name", lb.dns_name)
pulumi.export("ecs_cluster_name", backend.cluster_name)
pulumi.export("ecs_service_name", backend.service_name)
pulumi.export("ecs_task_definition_arn", backend.task_definition.arn)  # `ops deploy` checks the rollout used it
pulumi.export("backend_log_group", backend.log_group.name)
pulumi.export("ecr_repository_url", image_repository_url(settings.backend.image))  # the shared repo it pulls from
pulumi.export("vpc_id", network.vpc_id)
pulumi.export("alert_topic_arns", alerting.topic_arns)
pulumi.export("dashboard_name", dashboard.dashboard.dashboard_name)
pulumi.export("cloudflare_zone_id", edge.zone_id)
pulumi.export("edge_health_check_id", edge.health_check_id)
pulumi.export("backend_image", settings.backend.image)  # `ops promote --check-deployed` compares these
pulumi.export("app_version", settings.backend.app_version)
pulumi.export("database_writer_endpoint", postgres.endpoint)
pulumi.export("database_access_instance_id", db_access.instance_id)  # `ops tunnel` forwards through it
pulumi.export("database_reader_endpoint", postgres.reader_endpoint)
pulumi.export("database_proxy_endpoint", postgres.proxy_endpoint)
pulumi.export("database_proxy_read_only_endpoint", postgres.proxy_read_only_endpoint)
pulumi.export("database_name", db_objects.database_name)
pulumi.export("database_cluster_resource_id", postgres.cluster_resource_id)
pulumi.export("database_cluster_identifier", postgres.cluster.cluster_identifier)  # `ops readers` reads it
pulumi.export("database_master_secret_arn", postgres.master_secret_arn)
pulumi.export("database_login_secret_arns", {user: login.secret_arn for user, login in postgres.logins.items()})
pulumi.export("cache_primary_endpoint", cache.primary_endpoint)
pulumi.export("cache_reader_endpoint", cache.reader_endpoint)
pulumi.export("cache_user_group_id", cache.users.user_group_id)
# what `python -m ops migrate` and `python -m ops canary-gate` read (`pulumi stack output --json`), with
# ecs_service_name and backend_log_group above
pulumi.export("migrate_task_definition_arn", backend.migrate_task_definition.arn if backend.migrate_task_definition else None)
pulumi.export("private_subnet_ids", network.private_subnet_ids)
pulumi.export("service_security_group_id", groups.service.id)
pulumi.export("synthetics_canary_name", synthetic_check.canary_name if synthetic_check else None)
