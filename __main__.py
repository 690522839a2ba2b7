"""Floyo's platform: one program, settings per stack (Pulumi.<stack>.yaml).

The composition root: each tier (components/tiers/) declares its components and hands on what the next needs;
the backend gets what every tier needs of it (`BackendNeeds`). The tiers are plain functions, never a
component: a wrapper would become every resource's parent and change every URN.
"""

from __future__ import annotations

import pulumi

from components.aws_context import aws_context
from components.backend import BackendService
from components.drift_access import DriftReads
from components.edge import Edge, EdgeArgs
from components.tiers.data import data_tier
from components.tiers.drills import drills
from components.tiers.foundation import foundation
from components.tiers.needs import BackendNeeds
from components.tiers.observability import observability
from components.tiers.outputs import export_outputs
from components.tiers.service import backend_service_args, tracing
from stacks import settings_from_pulumi
from stacks.budget import monthly_budget
from stacks.program_env import claim

settings = settings_from_pulumi()  # raises SettingsError before any resource is declared
monthly_budget_usd = monthly_budget(pulumi.get_stack(), settings)  # the setting, or committed estimate x margin
ctx = aws_context()
drift_reads = DriftReads.collect()  # every secret declared from here on; granted to the drift role at the end

# keys, network, security groups, zone and certificate, origin lock, load balancer
base = foundation(settings, ctx)
# Aurora (access host, roles and grants, tenants) and the cache; the migration phase decides the password logins
data = data_tier(settings, ctx, base)

# --- the backend: what the data tier and tracing hand it ----------------------------------
needs = BackendNeeds.merge(data.needs, tracing(settings, ctx, base))
claim(needs.names())  # the settings refuse exactly these names in backend.environment/secrets
backend = BackendService("backend", backend_service_args(settings, ctx, base, needs))

# --- edge ----------------------------------------------------------------------------------
edge = Edge("edge", EdgeArgs(
    settings=settings.cdn, zone_id=base.zone.id, origin_dns_name=base.lb.dns_name,
    https_listener_arn=base.lb.https_listener.arn,
))

# --- monitoring, then the drills that stop on its alarms -----------------------------------
watch = observability(settings, ctx, base, data, backend, monthly_budget_usd)
drills(settings, ctx, base, data, backend, watch)

drift_reads.declare(pulumi.get_stack())  # after the last resource: what `refresh --run-program` reads (drift_access.py)
export_outputs(settings, base, data, backend, edge, watch)
