"""Cross-cutting rules every component must follow, checked over the whole plan.

These walk every planned resource, so a component added later is held to them too.
"""

from __future__ import annotations

import json

from ops.plan.mocks import ACCOUNT_ID
from ops.plan.planner import Plan

STATEFUL = {
    "aws:kms/key:Key",
    "aws:s3/bucket:Bucket",
    "aws:ecr/repository:Repository",
    "aws:rds/cluster:Cluster",
    "aws:rds/clusterInstance:ClusterInstance",
    "aws:elasticache/replicationGroup:ReplicationGroup",
}


def test_log_groups_have_retention_and_kms(plan: Plan) -> None:
    groups = plan.of_type("aws:cloudwatch/logGroup:LogGroup")
    assert groups
    for group in groups:
        assert group.inputs.get("retentionInDays"), group.name
        assert str(group.inputs.get("kmsKeyId", "")).startswith("arn:aws:kms:"), group.name


def test_kms_keys_rotate(plan: Plan) -> None:
    for key in plan.of_type("aws:kms/key:Key"):
        assert key.inputs["enableKeyRotation"] is True, key.name
        assert key.inputs["deletionWindowInDays"] >= 7, key.name


def test_buckets_are_private(plan: Plan) -> None:
    buckets = {b.id for b in plan.of_type("aws:s3/bucket:Bucket")}
    blocked = {b.inputs["bucket"] for b in plan.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
               if all(b.inputs.get(k) for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                 "restrictPublicBuckets"))}
    encrypted = {b.inputs["bucket"] for b in plan.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")}
    assert buckets and buckets <= blocked and buckets <= encrypted


def test_stateful_resources_protected_in_prod_only(plan: Plan, stack: str) -> None:
    stateful = [r for r in plan.resources if r.type in STATEFUL]
    assert stateful
    for res in stateful:
        assert res.protect is (stack == "prod"), f"{res.type} {res.name}"


def test_nothing_gets_a_public_ip(plan: Plan) -> None:
    for subnet in plan.of_type("aws:ec2/subnet:Subnet"):
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
    for res in plan.resources:
        assert res.inputs.get("publiclyAccessible") in (None, False), res.name


def test_every_resource_is_inside_a_component(plan: Plan) -> None:
    components = {r.urn for r in plan.resources if not r.custom}
    for res in plan.resources:
        if res.custom and not res.type.startswith("pulumi:providers:"):
            assert res.parent in components, f"{res.type} {res.name} is not parented to a component"


INSTANCE_ROLES = {"db-access-role"}
"""EC2 instance-profile roles: EC2 vends their credentials itself and iam:PassRole decides who may attach
them, so their trust names only ec2.amazonaws.com (see components/db_access.py)."""


def test_service_roles_trust_only_this_account(plan: Plan) -> None:
    roles = plan.of_type("aws:iam/role:Role")
    assert roles
    for role in roles:
        trust = json.loads(role.inputs["assumeRolePolicy"])
        for statement in trust["Statement"]:
            assert "Service" in statement["Principal"], role.name
            if role.name in INSTANCE_ROLES:
                assert statement == {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                     "Action": "sts:AssumeRole"}, role.name
                continue
            assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID, role.name
    assert {r.name for r in roles} >= INSTANCE_ROLES
