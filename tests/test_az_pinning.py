"""AZs come from settings (by AZ ID), never from a per-run lookup feeding a replace-forcing input."""

from __future__ import annotations

import pytest

from ops.plan.mocks import FloyoMocks
from ops.plan.planner import Plan
from tests.planning import settings_for, with_changes

AZ_LOOKUP = "aws:index/getAvailabilityZones:getAvailabilityZones"


def test_subnets_use_the_pinned_az_ids(plan: Plan, stack: str) -> None:
    pinned = settings_for(with_changes(stack)).network.availability_zone_ids
    for tier in ("public", "private", "isolated"):
        subnets = [r.inputs for r in sorted(plan.of_type("aws:ec2/subnet:Subnet"), key=lambda r: r.name)
                   if r.inputs["tags"]["floyo:tier"] == tier]
        assert [s["availabilityZoneId"] for s in subnets] == pinned
        assert all("availabilityZone" not in s for s in subnets)  # the two conflict; the ID is the pin


def test_db_instances_take_the_isolated_subnets_azs(plan: Plan) -> None:
    isolated = [r for r in sorted(plan.of_type("aws:ec2/subnet:Subnet"), key=lambda r: r.name)
                if r.inputs["tags"]["floyo:tier"] == "isolated"]
    names = [FloyoMocks().region + "abcdefghij"[int(s.inputs["availabilityZoneId"].rsplit("az", 1)[1]) - 1]
             for s in isolated]
    instances = sorted(plan.of_type("aws:rds/clusterInstance:ClusterInstance"),
                       key=lambda r: int(r.inputs["identifier"].rsplit("-", 1)[1]))
    assert instances
    assert [i.inputs["availabilityZone"] for i in instances] == [names[n % len(names)] for n in range(len(instances))]


def test_no_az_lookup_in_the_plan(plan: Plan) -> None:
    """The whole plan records every data-source call the program made (`Plan.lookups`: each invoke the mock
    monitor passed to `FloyoMocks.call`, which is the only way a program reaches the mocks' data sources)."""
    calls = [lookup.token for lookup in plan.lookups]
    assert calls, "the plan recorded no data-source call at all"
    assert AZ_LOOKUP not in calls


@pytest.mark.parametrize(("ids", "hint"), [
    (["use1-az1"], "az_count is 2"),
    (["use1-az1", "use1-az1"], "twice"),
    (["us-east-1a", "us-east-1b"], "not AZ IDs"),
])
def test_bad_az_ids_are_named(ids: list[str], hint: str) -> None:
    with pytest.raises(Exception) as err:
        settings_for(with_changes("dev", {"network": {"availability_zone_ids": ids}}))
    assert "floyo-infra:network.availability_zone_ids" in str(err.value) and hint in str(err.value)
