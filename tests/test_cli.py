"""`python -m ops plan` as an operator runs it: a child process, its real exit codes and output
(`tests.ops_cli.run_ops`), and once through a fresh `python -m ops` interpreter."""

from __future__ import annotations

import json
import pickle
import re
import subprocess
from pathlib import Path

import pytest

from ops.diff.forked import FORK_ENV
from ops.plan.cache import CACHE_ENV, plan_key
from ops.plan.planner import Plan
from ops.stackfile import ROOT, read_stack_config
from stacks.base import PROJECT
from tests.ops_cli import planning_env, run_ops
from tests.scratch_repos import changed_repo, dev_json_diff
from tests.test_secret_flow import CIPHERTEXT, documented_secret_keys, with_secure_values


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_ops(*args)


def by_urn(plan: dict) -> tuple[dict[str, dict], dict]:
    """A plan's JSON (`python -m ops plan --json`) as its resources by URN, and its outputs."""
    return {r["urn"]: r for r in plan["resources"]}, plan["outputs"]


def test_plan_json_holds_the_foundation(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """Also the entry point as an operator starts it (a new `python -m ops` interpreter), and the evidence that
    `run_ops`, which the other CLI tests use, stands in for it: the same exit code, resources and outputs. One
    fresh interpreter (~4 s of CPU: its imports and a first plan) carries this and a second claim:

    * `ops diff` plans its base in a forked child (`dev_json_diff`); with FLOYO_NO_FORK=1 it starts a fresh
      `python -m ops plan dev --json` instead, and the two diffs are the same, change for change and in order.
    * That fresh interpreter's plan is a `run_ops` child's plan of the same code (the project's, byte for byte),
      resource for resource, field for field, and output for output.

    The FLOYO_NO_FORK diff runs with a plan store of its own, empty: both of its sides are planned for real, and the
    fresh interpreter files the plan it prints in it, where this test reads it; the `run_ops` child plans without a
    store. Until docs/test-speed-cli-tests.md, this test compared its own fresh `python -m ops plan prod --json`
    with a `run_ops` child's, and tests/test_diff.py started the second fresh interpreter for the diff. The
    comparison is now made on dev: dev's plan holds every foundation type asserted here, and a `run_ops` child
    planning prod right after the fork server's dev plan does what every test process does (plan one stack after
    another in one process), which the rest of the suite relies on."""
    repo = changed_repo(tmp_path_factory)
    store = tmp_path / "plans"
    store.mkdir(mode=0o700)
    env = planning_env(**{FORK_ENV: "1", CACHE_ENV: str(store)})
    fresh_diff = run_ops("diff", "dev", "--base", "HEAD~1", "--format", "json", cwd=repo, env=env)
    assert fresh_diff.returncode == 0, fresh_diff.stderr
    diff = json.loads(fresh_diff.stdout)
    assert diff["base_error"] == ""  # the fresh `python -m ops plan dev --json` exited 0 and printed a plan
    assert diff == dev_json_diff(tmp_path_factory)
    assert len(diff["changes"]) >= 3

    key = plan_key(read_stack_config("dev"), ROOT / "__main__.py", PROJECT, env)  # the base is this code
    fresh: Plan = pickle.loads((store / f"{key}.pickle").read_bytes())
    assert len(list(store.glob("*.pickle"))) == 2  # the base's, and the changed head's
    result = run_ops("plan", "dev", "--json", env=planning_env())
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"project", "stack", "resources", "outputs"}
    assert {"urn", "type", "name", "parent", "inputs", "dependencies", "protect"} <= set(doc["resources"][0])
    types = {r["type"] for r in doc["resources"]}
    assert {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:ecs/cluster:Cluster",
            "aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition", "aws:lb/loadBalancer:LoadBalancer",
            "aws:lb/listener:Listener", "aws:lb/targetGroup:TargetGroup", "aws:appautoscaling/target:Target",
            "aws:appautoscaling/policy:Policy"} <= types
    assert by_urn(json.loads(json.dumps(fresh.as_json()))) == by_urn(doc)


def test_plan_tree_prints_components_and_counts() -> None:
    result = run("plan", "dev")
    assert result.returncode == 0, result.stderr
    assert "floyo:backend:BackendService  backend" in result.stdout
    assert "aws:ecs/service:Service  backend-service" in result.stdout
    assert " resources, " in result.stdout


def test_unknown_stack_is_a_clean_error() -> None:
    result = run("plan", "staging")
    assert result.returncode == 2
    assert "unknown stack 'staging'" in result.stderr and "Traceback" not in result.stderr


def test_broken_stack_file_names_every_key(tmp_path: Path) -> None:
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    text = text.replace("floyo-infra:tier: dev", "floyo-infra:tier: prod")
    broken = "  floyo-infra:backend:\n    cpu: nine\n    shoe_size: 44\n    min_tasks: 1\n"
    text = text.replace("  floyo-infra:backend:\n", broken)
    (tmp_path / "Pulumi.broken.yaml").write_text(text)
    result = run("plan", "broken", "--stack-dir", str(tmp_path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    for key in ("floyo-infra:backend.cpu", "floyo-infra:backend.shoe_size", "floyo-infra:backend.min_tasks"):
        assert key in result.stderr, result.stderr
    assert result.stdout == ""


def test_secure_values_become_marked_placeholders(tmp_path: Path) -> None:
    # every documented secret (cloudflare:apiToken among them) as a `secure:` value: the file
    # tests/test_secret_flow.py diffs, so the child finds its plan in the session's store when that ran first
    keys = documented_secret_keys()
    assert "cloudflare:apiToken" in keys
    (tmp_path / "Pulumi.dev.yaml").write_text(with_secure_values((ROOT / "Pulumi.dev.yaml").read_text(), keys))
    result = run("plan", "dev", "--stack-dir", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    assert CIPHERTEXT.startswith("v1:AAAA") and "v1:AAAA" not in result.stdout


@pytest.mark.parametrize(("text", "expected"), [
    ("config:\n  aws:region: us-east-1\n  floyo-infra:tier: [dev\n", r"Pulumi\.bad\.yaml:\d+: not valid YAML"),
    ("config:\n  - aws:region: us-east-1\n", r"Pulumi\.bad\.yaml:1: `config:` must be a mapping"),
    ("- config\n", r"Pulumi\.bad\.yaml: must be a mapping with a `config:` key"),
    ("config:\n  aws:region: us-east-1\n  region: us-east-1\n", r"Pulumi\.bad\.yaml:3: config key 'region' must be"),
])
def test_a_malformed_stack_file_is_one_message_naming_file_and_line(tmp_path: Path, text: str, expected: str) -> None:
    """Issue 11: YAML errors and a `config:` list gave Python tracebacks and exit 1."""
    (tmp_path / "Pulumi.bad.yaml").write_text(text)
    result = run("plan", "bad", "--stack-dir", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and re.match(r"error: " + expected, lines[0]), result.stderr


@pytest.mark.parametrize(("old", "new", "key"), [
    ("  aws:region: us-east-1\n", "", "aws:region: got nothing; this key is required"),
    ("  floyo-infra:backend:\n", "  floyo-infra:backend: big\n  floyo-infra:unused:\n",
     "floyo-infra:backend: got 'big'; must be a mapping"),
])
def test_wrong_shapes_name_the_file_and_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    """Issue 11: a missing `aws:region` gave a traceback; a section given as a string is named too."""
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    assert old in text
    (tmp_path / "Pulumi.bad.yaml").write_text(text.replace(old, new, 1))
    result = run("plan", "bad", "--stack-dir", str(tmp_path))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{tmp_path / 'Pulumi.bad.yaml'}: invalid settings for stack 'bad'" in result.stderr
    assert key in result.stderr, result.stderr


def test_an_unparsable_base_revision_is_one_message() -> None:
    result = run("diff", "dev", "--base", "HEAD~~not a revision")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "unknown git revision 'HEAD~~not a revision'" in result.stderr
