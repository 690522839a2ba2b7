"""No dev resource is ever selected into a COMPLIANCE-locked vault (issue 19, major 7).

A baseline's backup selections are evaluated, the way AWS Backup evaluates them (resource ARN pattern AND
every `aws:ResourceTag` condition), against every taggable resource of the dev and prod app stacks' plans.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

import pytest

from ops.plan.planner import Plan, PlannedResource
from tests.planning import planned, stack_plan, with_changes
from tests.test_baseline import BASELINE, STACK, _plan

CLUSTER = "aws:rds/cluster:Cluster"


def _cluster_arn(cluster: PlannedResource) -> str:
    return str(cluster.outputs.get("arn") or f"arn:aws:rds:us-east-1:123456789012:cluster:{cluster.inputs['clusterIdentifier']}")


def _selected(selection: PlannedResource, arn: str, tags: dict[str, Any]) -> bool:
    if not any(fnmatch.fnmatchcase(arn, pattern) for pattern in selection.inputs.get("resources", [])):
        return False
    conditions = selection.inputs.get("conditions", [])
    wanted = [c for group in conditions for c in group.get("stringEquals", [])]
    return all(tags.get(c["key"].removeprefix("aws:ResourceTag/")) == c["value"] for c in wanted)


def _compliance_selections(baseline: Plan) -> Iterator[PlannedResource]:
    """Selections whose plan writes into a vault under a COMPLIANCE lock (a lock with a grace period)."""
    locked = {r.inputs["backupVaultName"] for r in baseline.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
              if r.inputs.get("changeableForDays") is not None}
    plans = {p.id: p for p in baseline.of_type("aws:backup/plan:Plan")}
    for selection in baseline.of_type("aws:backup/selection:Selection"):
        rules = plans[selection.inputs["planId"]].inputs["rules"]
        if any(rule["targetVaultName"] in locked for rule in rules):
            yield selection


def _clusters(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    return [(_cluster_arn(c), dict(c.inputs.get("tags") or {})) for c in plan.of_type(CLUSTER)]


@pytest.fixture(scope="module")
def prod_baseline() -> Plan:
    return _plan("prod")


def test_no_dev_cluster_is_selected_into_a_compliance_vault(prod_baseline: Plan) -> None:
    selections = list(_compliance_selections(prod_baseline))
    assert selections, "the prod baseline's vaults are COMPLIANCE-locked: the check must see their selections"
    dev = stack_plan("dev")
    assert dev.of_type(CLUSTER)
    for arn, tags in _clusters(dev):
        assert not [s.name for s in selections if _selected(s, arn, tags)], f"dev cluster {arn} ({tags})"
    # the same for every other resource of dev that carries tags (a selection could widen to any type)
    for res in dev.resources:
        tags = dict(res.inputs.get("tags") or {})
        arn = str(res.outputs.get("arn") or "")
        if tags and arn:
            assert not [s.name for s in selections if _selected(s, arn, tags)], res.urn


def test_prod_cluster_is_backed_up_by_the_prod_baseline(prod_baseline: Plan) -> None:
    selections = list(_compliance_selections(prod_baseline))
    (cluster,) = _clusters(stack_plan("prod"))
    assert [s for s in selections if _selected(s, *cluster)]


def test_a_dev_baseline_governance_vault_backs_up_dev() -> None:
    dev_baseline = planned(with_changes(STACK, {"tier": "dev"}, root=BASELINE), BASELINE)
    assert not list(_compliance_selections(dev_baseline))
    (selection,) = dev_baseline.of_type("aws:backup/selection:Selection")
    (cluster,) = _clusters(stack_plan("dev"))
    assert _selected(selection, *cluster)


def test_prod_cluster_retention_equals_the_continuous_rule(prod_baseline: Plan) -> None:
    # AWS Backup's continuous rule sets the selected Aurora cluster's PITR retention (one continuous recovery
    # point per cluster, kept per the plan); the app declares backup_retention_period too. Equal values: no
    # change on either side at each `pulumi up` or refresh.
    (plan,) = prod_baseline.of_type("aws:backup/plan:Plan")
    continuous = next(r for r in plan.inputs["rules"] if r.get("enableContinuousBackup"))
    (cluster,) = stack_plan("prod").of_type(CLUSTER)
    assert cluster.inputs["backupRetentionPeriod"] == continuous["lifecycle"]["deleteAfter"]
