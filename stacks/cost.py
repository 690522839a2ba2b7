"""Cost settings (`floyo-infra:cost`): the usage a stack's estimate assumes, the budget margin and gate.

`python -m ops cost STACK` prices what the plan declares from the vendored price table
(ops/cost/prices.json). What a plan cannot tell -- requests, GB processed, I/O, log volume -- comes
from the usage assumptions here, per tier, and every line that uses one shows it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from stacks.base import Section


class UsageAssumptions(Section):
    """Monthly usage the estimate assumes where the plan cannot say (`floyo-infra:cost.usage`)."""

    nat_processed_gb: float = Field(
        default=500, ge=0, le=10_000_000,
        description="GB a month through the NAT gateways, all of them together. Default: dev 50, prod 500.")
    alb_average_lcu: float = Field(
        default=5, ge=0, le=100_000,
        description="Average load balancer capacity units (the largest of new connections, active connections, "
        "processed bytes, rule evaluations), every hour of the month. Default: dev 0.5, prod 5.")
    endpoint_processed_gb: float = Field(
        default=100, ge=0, le=10_000_000,
        description="GB a month through each interface VPC endpoint. Default: dev 5, prod 100.")
    aurora_storage_gb: float = Field(
        default=200, ge=0, le=131_072,
        description="Aurora cluster volume, GB (billed on what is stored). Default: dev 20, prod 200.")
    aurora_io_millions: float = Field(
        default=500, ge=0, le=10_000_000,
        description="Aurora storage I/O requests a month, in millions (Aurora Standard only). Default: dev 5, prod 500.")
    serverless_average_acu: float = Field(
        default=2, ge=0, le=256,
        description="Average ACUs of each Serverless v2 instance while it runs; never below the cluster's "
        "minimum. Default: dev 0.5, prod 2.")
    serverless_paused_share: float = Field(
        default=0, ge=0, le=1,
        description="Share of the month a Serverless v2 instance with a 0 ACU minimum is paused; only used for "
        "a cluster with no RDS Proxy in front (auto-pause is incompatible with the proxy, and every stack has "
        "one, so `database.min_capacity` refuses 0). Default 0.")
    log_ingest_gb_per_group: float = Field(
        default=20, ge=0, le=1_000_000,
        description="GB ingested a month into each log group. Default: dev 1, prod 20.")
    bucket_storage_gb: float = Field(
        default=50, ge=0, le=10_000_000,
        description="GB stored in each S3 bucket (S3 Standard). Default: dev 2, prod 50.")
    migration_task_hours: float = Field(
        default=2, ge=0, le=744,
        description="Hours a month one-off Fargate tasks (the migration task) run. Default 2.")


class CostSettings(Section):
    """How the stack's cost is estimated and gated (`floyo-infra:cost`)."""

    usage: UsageAssumptions = Field(default_factory=UsageAssumptions, description="The usage the estimate assumes.")
    budget_margin: float = Field(
        default=1.3, ge=1.0, le=10,
        description="When `account.monthly_budget_usd` is not set, the budget is the committed estimate "
        "(ops/cost/estimates/<stack>.json) times this. Default 1.3.")
    fallback_budget_usd: float = Field(
        default=2000, gt=0, le=1_000_000,
        description="The budget of a stack with no committed estimate yet (and no `account.monthly_budget_usd`); "
        "the budget policy of the stack's level reports it (mandatory: the preview fails) until "
        "`python -m ops cost STACK --write` is committed. "
        "Default: dev 300, prod 2000.")
    budget_enforcement: Literal["advisory", "mandatory"] = Field(
        default="advisory",
        description="Level of the `budget-covers-estimate` policy when the estimate exceeds the budget: "
        "advisory warns, mandatory fails the preview. Default advisory.")
    diff_flag_usd: float = Field(
        default=100, ge=0, le=1_000_000,
        description="`ops diff` flags a change that adds more than this many USD a month (exit 3 only with "
        "`--fail-on-cost`). Default: dev 50, prod 100.")


TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "dev": {
        "diff_flag_usd": 50, "fallback_budget_usd": 300,
        "usage": {"nat_processed_gb": 50, "alb_average_lcu": 0.5, "endpoint_processed_gb": 5, "aurora_storage_gb": 20,
                  "aurora_io_millions": 5, "serverless_average_acu": 0.5, "serverless_paused_share": 0,
                  "log_ingest_gb_per_group": 1, "bucket_storage_gb": 2},
    },
    "prod": {
        "diff_flag_usd": 100, "fallback_budget_usd": 2000,
        "usage": {"nat_processed_gb": 500, "alb_average_lcu": 5, "endpoint_processed_gb": 100, "aurora_storage_gb": 200,
                  "aurora_io_millions": 500, "serverless_average_acu": 2, "serverless_paused_share": 0,
                  "log_ingest_gb_per_group": 20, "bucket_storage_gb": 50},
    },
}
"""Per-tier defaults; `Pulumi.<stack>.yaml` only holds what differs."""
