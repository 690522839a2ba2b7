"""Whole-stack variants that several tests plan, each once per test run (issue 23, item 7).

A test of one setting used to plan the stack with only that setting changed, one whole plan (~1 s of CPU)
each. The settings merged here are independent of one another: none decides a resource another test
reads (each docstring says which test reads what), so one plan serves them all, and each assertion reads
what it read before. A test keeps its own plan where its setting would change what another one reads.
"""

from __future__ import annotations

from typing import Any

from ops.stackfile import StackConfig
from tests.planning import PREFIX, with_changes

THRESHOLDS: dict[str, Any] = {"lb_5xx_rate_percent": 7.5, "latency_p99_seconds": 9.0, "service_cpu_percent": 66}
"""Alarm thresholds unlike every tier's defaults (tests/test_monitoring.py reads them back from the alarms)."""
SAMPLE_RATE = 0.25
"""A tracing sample rate unlike the tiers' (tests/test_monitoring.py reads it from the backend's environment)."""
WEBHOOK = "https://hooks.example.com/services/T000/B000/very-secret-webhook-token"
DSN = "https://0123456789abcdef0123456789abcdef@o123456.ingest.sentry.io/4505"
LOW_BUDGET_USD = 10
"""A monthly budget below every stack's estimate (tests/test_cost.py: the budget policies report it)."""
MAX_REPLICAS = 5
"""The most cache replicas the settings accept (`cache.replicas`; tests/test_limits.py reads every member's alarms)."""


def quiet_dev() -> StackConfig:
    """dev with its alarms' actions off, `THRESHOLDS`, a cache with a replica, and a `LOW_BUDGET_USD` budget
    enforced at the mandatory level.

    Read by: test_monitoring (actions off on every alarm; the thresholds on the backend's alarms), test_slo
    (the composites keep `actions_enabled`), test_resilience (a cache with a replica gets the AZ power drill),
    test_cost (as `low_budget_dev("mandatory")`: the budget policies read the budget and its level only).
    The replica adds a node's alarms (each checked for actions off too) and a drill; the budget is one
    `aws:budgets/budget:Budget`, no alarm; none of the settings moves a threshold or a composite."""
    return with_changes("dev", {"monitoring": {"alarms_enabled": False, "thresholds": THRESHOLDS},
                                "cache": {"replicas": 1}, "account": {"monthly_budget_usd": LOW_BUDGET_USD},
                                "cost": {"budget_enforcement": "mandatory"}})


def other_region_dev() -> StackConfig:
    """dev in eu-west-1 (with that region's AZs), its fault injection off.

    Read by: test_monitoring (the edge's health check alarm and its topics stay in us-east-1: one key there),
    test_resilience (no experiment template when fault injection is off). Fault injection declares its
    templates, role and log group in the stack's region only, never in us-east-1, and no alarm."""
    config = with_changes("dev", {"resilience": {"fault_injection": {"enabled": False}}})
    values = {**config.values, "aws:region": "eu-west-1",  # with AZs of that region (refused otherwise)
              "floyo-infra:network": config.values["floyo-infra:network"].replace("use1-az", "euw1-az")}
    return StackConfig("dev", values, config.secret_keys, config.secure_paths)


def prod_with_secrets(mark_secret: bool) -> StackConfig:
    """prod with a webhook and a Sentry DSN as `secure:` values in the file, the top-level key marked secret
    (as `pulumi config set --secret` does) or not (the masking then rests on the fields being `SecretStr`).

    Marked, it also carries `THRESHOLDS` and `SAMPLE_RATE` (test_monitoring reads them from the alarms and
    the backend's environment) and the most cache replicas, `MAX_REPLICAS` (it is also
    `tests.data_variants.prod_limits_config()`: test_limits reads every cache member's alarms and the secret
    names, test_drift_access the Sentry DSN's secret the drift role must read); unmarked, the BLUE_GREEN
    strategy (test_resilience: the drills' alarms read both target groups). test_monitoring checks that
    neither secret appears anywhere in either plan. The replicas add cache members, their alarms and
    nothing else: no secret, no subscription, no backend alarm, no change to the task definition."""
    extra: dict[str, Any] = ({"thresholds": THRESHOLDS, "tracing_sample_rate": SAMPLE_RATE} if mark_secret else {})
    changes: dict[str, Any] = {"monitoring": {"webhook_url": WEBHOOK, "sentry_dsn": DSN, **extra}}
    if mark_secret:
        changes["cache"] = {"replicas": MAX_REPLICAS}
    else:
        changes["backend"] = {"deployment": {"strategy": "BLUE_GREEN"}}
    config = with_changes("prod", changes)
    secret_keys = [*config.secret_keys, PREFIX + "monitoring"] if mark_secret else config.secret_keys
    secure = [*config.secure_paths, PREFIX + "monitoring.webhook_url", PREFIX + "monitoring.sentry_dsn"]
    return StackConfig(config.stack, config.values, secret_keys, secure)


def low_budget_dev(enforcement: str) -> StackConfig:
    """dev with a `LOW_BUDGET_USD` budget and `cost.budget_enforcement` `enforcement`: mandatory is
    `quiet_dev()`; advisory (dev's own level) also has the BLUE_GREEN strategy.

    Read by: test_cost (the budget policies, which read the stack's budget and its level only), test_slo
    (advisory: a gradual strategy's two target groups, read from the alarms). The budget is one
    `aws:budgets/budget:Budget`, which no alarm, composite or target group reads."""
    if enforcement == "mandatory":
        return quiet_dev()
    return with_changes("dev", {"account": {"monthly_budget_usd": LOW_BUDGET_USD},
                                "cost": {"budget_enforcement": enforcement},
                                "backend": {"deployment": {"strategy": "BLUE_GREEN"}}})


NEW_CIDR = "10.42.0.0/16"


def with_new_cidr(stack_file: str) -> str:
    """A stack file's text with `network.cidr` set to `NEW_CIDR` (the file must not set one), as an operator
    would write it: first in the `network` section. tests/test_diff_prod.py commits it for `ops diff`, and
    tests/test_diff_cascade.py plans the same file, so the `ops diff` child finds that plan in the store."""
    section = "  floyo-infra:network:\n"
    if section in stack_file:
        return stack_file.replace(section, section + f"    cidr: {NEW_CIDR}\n", 1)
    return stack_file.replace("config:\n", "config:\n" + section + f"    cidr: {NEW_CIDR}\n", 1)
