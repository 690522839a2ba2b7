"""`python -m ops plan` as an operator runs it: a child process, its real exit codes and output
(`tests.ops_cli.run_ops`), and once through a fresh `python -m ops` interpreter."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ops.stackfile import ROOT
from tests.ops_cli import planning_env, run_ops
from tests.test_secret_flow import CIPHERTEXT, documented_secret_keys, with_secure_values


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_ops(*args)


def run_interpreter(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m ops` in a new interpreter, as an operator starts it."""
    return subprocess.run([sys.executable, "-m", "ops", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=env)


def test_plan_json_holds_the_foundation() -> None:
    """Also the entry point as an operator starts it (a new `python -m ops` interpreter), and the evidence
    that `run_ops`, which the other CLI tests use, stands in for it: the same exit code, resources and outputs."""
    env = planning_env()  # both plan for real, not from the session's plan store
    result, fresh = run_ops("plan", "prod", "--json", env=env), run_interpreter("plan", "prod", "--json", env=env)
    assert result.returncode == fresh.returncode == 0, result.stderr + fresh.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"project", "stack", "resources", "outputs"}
    assert {"urn", "type", "name", "parent", "inputs", "dependencies", "protect"} <= set(doc["resources"][0])
    types = {r["type"] for r in doc["resources"]}
    assert {"aws:ec2/vpc:Vpc", "aws:ec2/subnet:Subnet", "aws:ec2/natGateway:NatGateway", "aws:ecs/cluster:Cluster",
            "aws:ecs/service:Service", "aws:ecs/taskDefinition:TaskDefinition", "aws:lb/loadBalancer:LoadBalancer",
            "aws:lb/listener:Listener", "aws:lb/targetGroup:TargetGroup", "aws:appautoscaling/target:Target",
            "aws:appautoscaling/policy:Policy"} <= types

    def by_urn(out: str) -> tuple[dict[str, dict], dict]:
        plan = json.loads(out)
        return {r["urn"]: r for r in plan["resources"]}, plan["outputs"]

    assert by_urn(fresh.stdout) == by_urn(result.stdout)


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
