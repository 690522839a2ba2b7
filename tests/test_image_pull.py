"""The tasks can pull their image: the grant follows `backend.image`; the shared repository's shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ops.plan.planner import Plan, plan_config
from tests.planning import container_definitions, one, plan_with, settings_for, with_changes
from tests.tier_variants import DEV_RELAXED


def pull_statement(plan: Plan) -> dict[str, Any]:
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-execution").inputs["policy"])
    # the app image's grant; GuardDuty's agent sidecar has its own (tests/test_account_alerts.py)
    found = [s for s in policy["Statement"] if "ecr:BatchGetImage" in s["Action"] and s.get("Sid") != "PullGuardDutyAgent"]
    assert len(found) == 1, policy
    return found[0]


def test_grant_covers_the_image_the_task_runs(plan: Plan) -> None:
    image = next(c["image"] for c in container_definitions(plan) if c["name"] == "backend")
    host, rest = image.split("/", 1)
    account, _, _, region = host.split(".")[:4]
    repository = rest.split("@")[0]
    statement = pull_statement(plan)
    assert statement["Resource"] == f"arn:aws:ecr:{region}:{account}:repository/{repository}"
    assert {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"} <= set(statement["Action"])


def test_a_different_repository_moves_the_grant() -> None:
    plan = plan_with("dev", DEV_RELAXED)  # backend.image OTHER_IMAGE; whole: it reads an output
    assert pull_statement(plan)["Resource"] == "arn:aws:ecr:eu-west-1:210987654321:repository/team/api"
    assert plan.outputs["ecr_repository_url"] == "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/api"


def test_stacks_own_no_repository_of_their_own(plan: Plan) -> None:
    assert not plan.of_type("aws:ecr/repository:Repository")
    assert plan.outputs["ecr_repository_url"].endswith(".amazonaws.com/floyo-backend")


@pytest.mark.parametrize("image", [
    "ghcr.io/floyo/backend@sha256:" + "a" * 64,  # not ECR: the tasks have no credentials for it
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/floyo-backend:2026.11.3",  # a tag, not a digest
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/Floyo@sha256:" + "a" * 64,  # ECR names are lower case
])
def test_image_must_be_private_ecr_by_digest(image: str) -> None:
    with pytest.raises(Exception) as err:
        settings_for(with_changes("dev", {"backend": {"image": image}}))
    message = str(err.value)
    assert "floyo-infra:backend.image" in message and "dkr.ecr" in message and "@sha256:" in message


@pytest.fixture(scope="module")
def repository_plan() -> Plan:
    return plan_config(with_changes("dev"), Path(__file__).parent / "programs" / "image_repository.py")


def test_shared_repository_is_named_immutable_scanned_encrypted(repository_plan: Plan) -> None:
    repo = one(repository_plan, "aws:ecr/repository:Repository")
    assert repo.inputs["name"] == "floyo-backend"
    assert repo.inputs["imageTagMutability"] == "IMMUTABLE"
    assert repo.inputs["imageScanningConfiguration"]["scanOnPush"] is True
    assert repo.inputs["encryptionConfigurations"] == [
        {"encryptionType": "KMS", "kmsKey": "arn:aws:kms:us-east-1:123456789012:key/images"}]
    assert repo.protect is True and repo.inputs["forceDelete"] is False


def test_shared_repository_lifecycle_never_expires_tagged_images(repository_plan: Plan) -> None:
    rules = json.loads(one(repository_plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])["rules"]
    assert rules and all(r["selection"]["tagStatus"] == "untagged" for r in rules)


def test_shared_repository_lets_named_accounts_pull_only(repository_plan: Plan) -> None:
    policy = json.loads(one(repository_plan, "aws:ecr/repositoryPolicy:RepositoryPolicy").inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"AWS": ["arn:aws:iam::210987654321:root"]}
    assert set(statement["Action"]) == {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage",
                                        "ecr:GetDownloadUrlForLayer"}
