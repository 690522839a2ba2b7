"""`python -m ops readers`: removes the readers Aurora Auto Scaling added, against botocore Stubbers."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ops.deployed.readers import DIMENSION, ReadersError, autoscaled_readers, scale_in

CLUSTER = "floyo-prod"
AUTO = "application-autoscaling-0b1c2d3e"


def _client(service: str) -> Any:
    return boto3.client(service, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")


def _members(rds: Stubber, *extra: str) -> None:
    members = [{"DBInstanceIdentifier": "floyo-prod-0", "IsClusterWriter": True},
               {"DBInstanceIdentifier": "floyo-prod-1", "IsClusterWriter": False},
               *({"DBInstanceIdentifier": e, "IsClusterWriter": False} for e in extra)]
    rds.add_response("describe_db_clusters", {"DBClusters": [{"DBClusterIdentifier": CLUSTER, "DBClusterMembers": members}]},
                     {"DBClusterIdentifier": CLUSTER})


def test_only_autoscaled_readers_are_listed() -> None:
    rds = _client("rds")
    with Stubber(rds) as stub:
        _members(stub, AUTO)
        assert autoscaled_readers(rds, CLUSTER) == [AUTO]


def test_scale_in_suspends_deletes_and_waits() -> None:
    rds, scaling = _client("rds"), _client("application-autoscaling")
    with Stubber(rds) as r, Stubber(scaling) as a:
        _members(r, AUTO)
        a.add_response("describe_scalable_targets", {"ScalableTargets": [{
            "ServiceNamespace": "rds", "ResourceId": f"cluster:{CLUSTER}", "ScalableDimension": DIMENSION,
            "MinCapacity": 2, "MaxCapacity": 5, "RoleARN": "arn:aws:iam::123456789012:role/x",
            "CreationTime": "2026-01-01T00:00:00Z"}]},
            {"ServiceNamespace": "rds", "ResourceIds": [f"cluster:{CLUSTER}"], "ScalableDimension": DIMENSION})
        suspended = {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": True, "ScheduledScalingSuspended": True}
        a.add_response("register_scalable_target", {}, {
            "ServiceNamespace": "rds", "ResourceId": f"cluster:{CLUSTER}", "ScalableDimension": DIMENSION,
            "SuspendedState": suspended})
        r.add_response("delete_db_instance", {"DBInstance": {"DBInstanceIdentifier": AUTO}}, {"DBInstanceIdentifier": AUTO})
        _members(r, AUTO)  # still deleting on the first poll
        _members(r)  # gone
        sleeps: list[float] = []
        lines = scale_in(rds, scaling, CLUSTER, sleep=sleeps.append, poll_seconds=30)
        r.assert_no_pending_responses()
        a.assert_no_pending_responses()
    assert sleeps == [30, 30] and f"deleting {AUTO}" in lines and "pulumi destroy" in lines[-1]


def test_scale_in_times_out_loudly() -> None:
    rds, scaling = _client("rds"), _client("application-autoscaling")
    with Stubber(rds) as r, Stubber(scaling) as a:
        _members(r, AUTO)
        a.add_response("describe_scalable_targets", {"ScalableTargets": []},
                       {"ServiceNamespace": "rds", "ResourceIds": [f"cluster:{CLUSTER}"], "ScalableDimension": DIMENSION})
        r.add_response("delete_db_instance", {"DBInstance": {"DBInstanceIdentifier": AUTO}}, {"DBInstanceIdentifier": AUTO})
        _members(r, AUTO)
        with pytest.raises(ReadersError, match=f"still present after 60 s: {AUTO}"):
            scale_in(rds, scaling, CLUSTER, sleep=lambda _: None, poll_seconds=60, timeout=60)


def test_dry_run_deletes_nothing() -> None:
    rds = _client("rds")
    with Stubber(rds) as r:
        _members(r, AUTO)
        assert AUTO in scale_in(rds, _client("application-autoscaling"), CLUSTER, dry_run=True)[0]
