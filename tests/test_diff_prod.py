"""`python -m ops diff prod`: a CIDR change fails on danger with its cascade; an unplannable base still gets a diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scratch_repos import git, ops_in, project_repo
from tests.variants import with_new_cidr

PROD = "Pulumi.prod.yaml"


@pytest.fixture(scope="module")
def prod_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Commits: `good` (the project), `broken` (prod's YAML does not parse); working tree: prod's CIDR changed."""
    path = project_repo(tmp_path_factory.mktemp("prod-repo"))
    stack = path / PROD
    good = stack.read_text()
    stack.write_text(good.replace("config:\n", "config:\n  floyo-infra:tier: [unclosed\n", 1))
    git(path, "commit", "-qam", "broken")
    stack.write_text(with_new_cidr(good))  # the head test_diff_cascade plans: the child finds it in the store
    return path


def test_cidr_change_fails_on_danger_and_lists_the_cascade(prod_repo: Path) -> None:
    result = ops_in(prod_repo, "diff", "prod", "--base", "HEAD~1", "--fail-on-danger")
    assert result.returncode == 3, result.stdout + result.stderr
    out = result.stdout
    assert "aws:ec2/vpc:Vpc  net-vpc" in out and "`cidrBlock` changed" in out
    for token in ("aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:ec2/securityGroup:SecurityGroup",
                  "aws:ec2/vpcEndpoint:VpcEndpoint", "aws:rds/subnetGroup:SubnetGroup", "aws:rds/cluster:Cluster",
                  "aws:rds/proxy:Proxy"):
        assert f"{token}: ~" in out, token
    assert "! aws:rds/cluster:Cluster  db-cluster: replaced" in out


def test_unplannable_base_reports_why_and_shows_the_head_plan(prod_repo: Path) -> None:
    result = ops_in(prod_repo, "diff", "prod", "--base", "HEAD", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    body = result.stdout
    assert "base could not be planned: planning Pulumi.prod.yaml at `HEAD` failed:" in body
    assert PROD in body and "Traceback" not in body + result.stderr
    assert "`aws:rds/cluster:Cluster: 1`" in body  # the head's plan summary
