"""The guard on dev's deploy role (ops/ci/prod_guard.py): it denies prod's and the baseline's resources, not dev's."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from ruamel.yaml import YAML

from ops.ci.bootstrap import roles
from ops.ci.prod_guard import guard
from ops.ci.stacks import FIRST
from ops.stackfile import ROOT
from tests.planning import planned, stack_plan
from tests.test_baseline import config_with

ACCOUNT = "123456789012"
DEV_DEPLOY = f"floyo-{FIRST}-deploy"
BUCKETS = "aws:s3/bucket:Bucket"


def _statements() -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in guard(ACCOUNT, DEV_DEPLOY)["Statement"]}


def _stack_tag(path: str) -> str:
    config = YAML(typ="safe").load((ROOT / path).read_text())["config"]
    return config["aws:defaultTags"]["tags"]["stack"]


def _denied(arn: str) -> bool:
    return any(s["Effect"] == "Deny" and any(fnmatchcase(arn, r) for r in ([s["Resource"]] if isinstance(
        s["Resource"], str) else s["Resource"])) and s["Resource"] != "*" for s in _statements().values())


def test_only_dev_deploy_role_carries_the_guard() -> None:
    guarded = {r.name for r in roles(ACCOUNT) if "floyo-prod-guard" in r.inline}
    assert guarded == {DEV_DEPLOY}


def test_every_resource_of_prod_and_the_baseline_is_denied_by_its_stack_tag() -> None:
    tag = _statements()["ProtectedByTag"]
    assert tag["Effect"] == "Deny" and tag["Action"] == "*" and tag["Resource"] == "*"
    protected = tag["Condition"]["StringLike"]["aws:ResourceTag/stack"]
    assert _stack_tag("Pulumi.prod.yaml") in protected
    assert _stack_tag("baseline/Pulumi.main-use1.yaml") in protected
    assert not any(fnmatchcase(_stack_tag(f"Pulumi.{FIRST}.yaml"), p) for p in protected), "dev must still deploy"


def test_buckets_and_vaults_are_denied_by_name_where_tags_do_not_apply() -> None:
    prod = stack_plan("prod")
    baseline = planned(config_with(), ROOT / "baseline")
    prefixes = [r.inputs["bucketPrefix"] for p in (prod, baseline) for r in p.of_type(BUCKETS)]
    assert prefixes and all(_denied(f"arn:aws:s3:::{p}abc123") for p in prefixes), prefixes
    assert all(_denied(f"arn:aws:s3:::{p}abc123/AWSLogs/x") for p in prefixes)
    vaults = [r.inputs["name"] for r in baseline.of_type("aws:backup/vault:Vault")]
    assert vaults and all(_denied(f"arn:aws:backup:us-east-1:{ACCOUNT}:backup-vault:{v}") for v in vaults)
    dev = [r.inputs["bucketPrefix"] for r in stack_plan(FIRST).of_type(BUCKETS)]
    assert dev and not any(_denied(f"arn:aws:s3:::{p}abc123") for p in dev), "dev's own buckets stay writable"


def test_no_iam_on_prod_roles_the_guard_itself_or_the_oidc_provider() -> None:
    iam = f"arn:aws:iam::{ACCOUNT}"
    assert _statements()["NoIamOnProtectedRoles"]["Action"] == "iam:*"
    for name in ("floyo-prod-deploy", "floyo-prod-drift", "floyo-baseline-main-use1-deploy", DEV_DEPLOY):
        assert _denied(f"{iam}:role/{name}"), name
    assert _denied(f"{iam}:oidc-provider/token.actions.githubusercontent.com")
    # dev's stack writes its drift role's inline policy (components/drift_access.py)
    assert not _denied(f"{iam}:role/floyo-{FIRST}-drift")
