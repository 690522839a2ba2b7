"""Fixed physical names are replaced delete-first, and the replacement is still a flagged danger.

Pulumi creates a replacement before deleting the old resource unless `delete_before_replace` is set,
so a fixed `cluster_identifier`, instance `identifier` or `replication_group_id` would collide with
itself (the provider's ForceNew inputs: policy/floyo_policies/replacement.py lists them).
"""

from __future__ import annotations

from ops.diff.compare import as_written
from ops.diff.plans import diff_plans
from ops.plan.planner import Plan
from policy.floyo_policies.replacement import FIXED_NAMES
from tests.planning import plan_with, settings_for, with_changes

DATA = ("aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance",
        "aws:elasticache/replicationGroup:ReplicationGroup")


def test_fixed_names_are_replaced_delete_first(plan: Plan) -> None:
    found = 0
    for token, (name_key, _) in FIXED_NAMES.items():
        for resource in plan.of_type(token):
            if resource.inputs.get(name_key) and token in DATA:
                found += 1
                assert resource.delete_before_replace, (token, resource.name)
    assert found >= 3


def _up_to_data(changes: dict) -> dict:
    """dev with `changes`, planned up to the data tier (tests/planning.py `upto`), as the diff reads it.

    The diffs here compare two such prefix plans and assert only on the data tier's own resources: a change
    record is made from the resource's inputs and from those it depends on, all declared before it, and
    tests/test_prefix_plans.py checks a prefix holds exactly the whole plan's records of what it declares."""
    return as_written(plan_with("dev", changes, upto="data").as_json())


def test_dev_replacement_of_the_data_tier_is_still_dangerous() -> None:
    base, head = _up_to_data({}), _up_to_data({"network": {"cidr": "10.42.0.0/16"}})
    dangerous = {c.type for c in diff_plans("dev", base, head).dangerous}
    assert set(DATA) <= dangerous


def _cluster_change(head_changes: dict, base_changes: dict | None = None) -> list[str]:
    base = _up_to_data(base_changes or {})
    head = _up_to_data({"network": {"cidr": "10.42.0.0/16"}, **head_changes})
    (cluster,) = [c for c in diff_plans("dev", base, head).changes if c.type == "aws:rds/cluster:Cluster"]
    assert cluster.replaced
    return cluster.hazards


HALTED = "stops at the protected cluster"
OFF = {"database": {"deletion_protection": False}}


def test_replacing_a_deletion_protected_cluster_is_a_halted_replacement() -> None:
    # delete-first: the engine deletes the instances, then RDS refuses to delete the protected cluster
    halted = [h for h in _cluster_change({}) if HALTED in h]
    assert halted and "turn database.deletion_protection off in a deploy before" in halted[0]


def test_the_base_s_deletion_protection_decides_not_the_head_s() -> None:
    # turning protection off in the same change does not help: the cluster RDS must delete is the base's
    assert [h for h in _cluster_change(OFF) if HALTED in h]
    # off in a deploy before (the base): the replacement goes through
    assert not [h for h in _cluster_change(OFF, base_changes=OFF) if HALTED in h]
    # the head turning it back on protects the replacement only, not the cluster being deleted; on is dev's
    # own setting, so that head is the CIDR change alone (planned once, for the test above)
    assert settings_for(with_changes("dev")).database.deletion_protection is True
    assert not [h for h in _cluster_change({}, base_changes=OFF) if HALTED in h]
