"""The stack's outputs: what operators and `python -m ops` read (`pulumi stack output --json`)."""

from __future__ import annotations

import pulumi

from components.backend import BackendService
from components.edge import Edge
from components.tiers.data import DataTier
from components.tiers.foundation import Foundation
from components.tiers.observability import Observability
from stacks import StackSettings
from stacks.backend import image_repository_url


def export_outputs(settings: StackSettings, base: Foundation, data: DataTier, backend: BackendService, edge: Edge,
                   watch: Observability) -> None:
    """Export every stack output, each name once."""
    lb, network, postgres, cache = base.lb, base.network, data.postgres, data.cache
    pulumi.export("service_url", f"https://{settings.cdn.api_host}")
    pulumi.export("load_balancer_dns_name", lb.dns_name)
    pulumi.export("ecs_cluster_name", backend.cluster_name)
    pulumi.export("ecs_service_name", backend.service_name)
    pulumi.export("ecs_task_definition_arn", backend.task_definition.arn)  # `ops deploy` checks the rollout used it
    pulumi.export("backend_log_group", backend.log_group.name)
    pulumi.export("ecr_repository_url", image_repository_url(settings.backend.image))  # the shared repo it pulls from
    pulumi.export("vpc_id", network.vpc_id)
    pulumi.export("alert_topic_arns", watch.alerting.topic_arns)
    pulumi.export("dashboard_name", watch.dashboard.dashboard.dashboard_name)
    pulumi.export("cloudflare_zone_id", edge.zone_id)
    pulumi.export("edge_health_check_id", edge.health_check_id)
    pulumi.export("backend_image", settings.backend.image)  # `ops promote --check-deployed` compares these
    pulumi.export("app_version", settings.backend.app_version)
    pulumi.export("database_writer_endpoint", postgres.endpoint)
    pulumi.export("database_access_instance_id", data.db_access.instance_id)  # `ops tunnel` forwards through it
    pulumi.export("database_reader_endpoint", postgres.reader_endpoint)
    pulumi.export("database_proxy_endpoint", postgres.proxy_endpoint)
    pulumi.export("database_proxy_read_only_endpoint", postgres.proxy_read_only_endpoint)
    pulumi.export("database_name", data.db_objects.database_name)
    pulumi.export("database_cluster_resource_id", postgres.cluster_resource_id)
    pulumi.export("database_cluster_identifier", postgres.cluster.cluster_identifier)  # `ops readers` reads it
    pulumi.export("database_master_secret_arn", postgres.master_secret_arn)
    pulumi.export("database_login_secret_arns", {user: login.secret_arn for user, login in postgres.logins.items()})
    pulumi.export("cache_primary_endpoint", cache.primary_endpoint)
    pulumi.export("cache_reader_endpoint", cache.reader_endpoint)
    pulumi.export("cache_user_group_id", cache.users.user_group_id)
    # what `python -m ops migrate` and `python -m ops canary-gate` read (`pulumi stack output --json`), with
    # ecs_service_name and backend_log_group above
    migrate_task = backend.migrate_task_definition
    pulumi.export("migrate_task_definition_arn", migrate_task.arn if migrate_task else None)
    pulumi.export("private_subnet_ids", network.private_subnet_ids)
    pulumi.export("service_security_group_id", base.groups.service.id)
    synthetic_check = watch.synthetic_check
    pulumi.export("synthetics_canary_name", synthetic_check.canary_name if synthetic_check else None)
