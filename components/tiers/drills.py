"""The resilience tier: fault-injection drills, reader autoscaling, zonal autoshift (docs/resilience.md)."""

from __future__ import annotations

from components.aws_context import AwsContext
from components.backend import BackendService
from components.resilience import Resilience, ResilienceArgs, stop_alarm_keys
from components.tiers.data import DataTier
from components.tiers.foundation import Foundation
from components.tiers.observability import Observability
from stacks import StackSettings


def drills(settings: StackSettings, ctx: AwsContext, base: Foundation, data: DataTier, backend: BackendService,
           watch: Observability) -> Resilience:
    """Declare the drills on the backend, the data tier and one AZ (`resilience.fault_injection.zone_index`);
    they stop on the catalogue's user-facing alarms."""
    network, postgres, cache = base.network, data.postgres, data.cache
    zone = settings.resilience.fault_injection.zone_index
    return Resilience("resilience", ResilienceArgs(
        settings=settings.resilience, context=ctx, logs_key_arn=base.logs_key.arn,
        stop_alarm_arns=[watch.alarms.alarms[key].arn for key in stop_alarm_keys(watch.alarm_specs, watch.region)],
        ecs_cluster_name=backend.cluster_name, ecs_service_name=backend.service_name,
        db_cluster_arn=postgres.cluster.arn, db_cluster_identifier=postgres.cluster.cluster_identifier,
        fixed_readers=postgres.readers, cache_arn=cache.replication_group.arn,
        cache_multi_az=cache.multi_az, vpc_id=network.vpc_id,
        zone_name=network.isolated_subnet_azs[zone],
        zone_subnet_ids=[network.private_subnet_ids[zone], network.isolated_subnet_ids[zone]],
        load_balancer_arn=base.lb.lb.arn,
    ))
