"""The drift role may read exactly the secrets `pulumi refresh --run-program` reads (components/drift_access.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.drift_access import drift_statements
from ops.plan.planner import Plan
from tests.data_variants import prod_limits
from tests.planning import one, stack_plan

SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


def grant(plan: Plan) -> dict[str, Any]:
    policy = one(plan, "aws:iam/rolePolicy:RolePolicy", "drift-reads")
    assert policy.inputs["role"] == f"floyo-{plan.stack}-drift"
    assert policy.delete_before_replace  # same role and name: a create-first replacement would lose it
    return {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}


def what_refresh_reads(plan: Plan) -> tuple[set[str], set[str]]:
    """From the plan itself: every SecretVersion's secret and every cluster's master secret, and their CMKs."""
    secrets = {s.id: s for s in plan.of_type(SECRET)}
    read = {v.inputs["secretId"] for v in plan.of_type(VERSION)}
    keys = {secrets[arn].inputs["kmsKeyId"] for arn in read if secrets[arn].inputs.get("kmsKeyId")}
    for cluster in plan.of_type("aws:rds/cluster:Cluster"):
        for master in cluster.outputs["masterUserSecrets"]:
            read.add(master["secretArn"])
            if master.get("kmsKeyId"):
                keys.add(master["kmsKeyId"])
    return read, keys


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_drift_role_reads_every_secret_the_refresh_reads_and_no_other(stack: str) -> None:
    plan = stack_plan(stack)
    read, keys = what_refresh_reads(plan)
    assert read and keys
    statements = grant(plan)
    assert set(statements["ReadDeclaredSecretValues"]["Resource"]) == read
    assert "secretsmanager:GetSecretValue" in statements["ReadDeclaredSecretValues"]["Action"]
    decrypt = statements["DecryptThoseSecrets"]
    assert set(decrypt["Resource"]) == keys and decrypt["Action"] == "kms:Decrypt"
    assert decrypt["Condition"] == {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}
    # every declared secret without a version is not readable
    unread = {s.id for s in plan.of_type(SECRET)} - read
    assert not unread & set(statements["ReadDeclaredSecretValues"]["Resource"])


def test_a_secret_the_program_adds_is_granted_with_it() -> None:
    base = stack_plan("prod")
    more = prod_limits()  # prod with a Sentry DSN set as a secret (and more cache replicas, which add no secret)
    added = {v.inputs["secretId"] for v in more.of_type(VERSION)} - {v.inputs["secretId"] for v in base.of_type(VERSION)}
    assert added  # the Sentry DSN secret
    assert added <= set(grant(more)["ReadDeclaredSecretValues"]["Resource"])


def test_statements_for_values() -> None:
    statements = drift_statements(["arn:s1"], [("arn:s1", "arn:k1"), ("arn:s2", "arn:k2")], [("arn:m", None)])
    assert statements[0]["Resource"] == ["arn:m", "arn:s1"]
    assert statements[1]["Resource"] == ["arn:k1"]  # the unread secret's key and the AWS managed key: none
    assert drift_statements([], [], []) == []
