"""`python -m ops bootstrap`: every role trusts exactly the environment of the job that assumes it."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

from components.drift_access import drift_role_name
from ops.ci import main_ruleset
from ops.ci.bootstrap import roles, script
from ops.ci.environments import ENVIRONMENTS
from tests.ops_cli import run_ops
from tests.planning import one, stack_plan
from tests.test_workflows import workflows

ACCOUNT, REPO = "123456789012", "acme/floyo-infra"


def _env(job: dict) -> str:
    env = job["environment"]
    return env["name"] if isinstance(env, dict) else env


def test_each_role_trusts_the_environment_its_job_runs_in() -> None:
    docs = workflows()
    preview_env = _env(docs["preview.yml"]["jobs"]["preview"])
    drift_env = _env(docs["drift.yml"]["jobs"]["drift"])
    baseline_env = _env(docs["deploy.yml"]["jobs"]["baseline"])
    assert _env(docs["deploy-stack.yml"]["jobs"]["deploy"]) == "${{ inputs.environment }}"
    found = roles(ACCOUNT)
    for role in found:
        subject = role.environment
        if role.name.endswith("-preview"):
            assert subject == preview_env
        elif role.name.endswith("-drift"):
            assert subject == drift_env
        elif role.name.startswith("floyo-baseline-"):
            assert subject == baseline_env == role.variable_environment
        else:
            assert subject == role.variable_environment and subject in {"dev", "production"}
    assert {r.name for r in found} >= {"floyo-dev-deploy", "floyo-prod-deploy", "floyo-dev-drift",
                                       "floyo-baseline-main-use1-deploy"}


def test_the_drift_role_is_the_one_the_stack_grants_its_secrets_to() -> None:
    plan = stack_plan("prod")
    policy = one(plan, "aws:iam/rolePolicy:RolePolicy", "drift-reads")
    assert policy.inputs["role"] == drift_role_name("prod") in {r.name for r in roles(ACCOUNT)}


def test_the_script_is_valid_shell_and_its_documents_are_json() -> None:
    text = script(ACCOUNT, REPO)
    assert subprocess.run(["bash", "-n"], input=text, text=True, check=False).returncode == 0
    documents = [json.loads(words[i + 1]) for line in text.replace("\\\n", " ").splitlines() if "aws iam" in line
                 for words in [shlex.split(line)] for i, w in enumerate(words) if w.endswith("-document")]
    trusts = [d for d in documents if d["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"]
    assert len(trusts) == 2 * len(roles(ACCOUNT)), "create-role if missing, then update-assume-role-policy"
    assert all(t["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
               .startswith(f"repo:{REPO}:environment:") for t in trusts)


def test_bad_input_is_refused_with_exit_2() -> None:
    """In a real child process (`tests.ops_cli.run_ops`: forked from the warm server, ~0.5 s of CPU less than a
    fresh interpreter importing the SDKs; test_cli.py keeps the run through a real `python -m ops`)."""
    done = run_ops("bootstrap", "--repo", "nope", "--account", ACCOUNT)
    assert done.returncode == 2 and "--repo" in done.stderr and "Traceback" not in done.stderr


def _ruleset_document(line: str) -> dict:
    return json.loads(shlex.split(line.split("<<<", 1)[1])[0])


def test_the_bootstrap_protects_main_with_a_ruleset_before_the_environments() -> None:
    """The environments admit `main` only: that keeps code out only while nobody can push to `main` unreviewed."""
    text = script(ACCOUNT, REPO)
    writes = [x for x in text.splitlines() if f"repos/{REPO}/rulesets" in x and "<<<" in x]
    assert len(writes) == 2 and {"-X PUT" in w for w in writes} == {True, False}
    assert text.index(writes[0]) < text.index(f"environments/{ENVIRONMENTS[0].name}")
    for line in writes:
        doc = _ruleset_document(line)
        assert doc["target"] == "branch" and doc["enforcement"] == "active" and doc["bypass_actors"] == []
        assert set(doc["conditions"]["ref_name"]["include"]) == {"~DEFAULT_BRANCH", "refs/heads/main"}
        rules = {r["type"]: r.get("parameters") for r in doc["rules"]}
        assert set(rules) == {"pull_request", "non_fast_forward", "deletion"}
        pr = rules["pull_request"]
        assert pr["required_approving_review_count"] >= 1
        assert pr["require_last_push_approval"] is True and pr["dismiss_stale_reviews_on_push"] is True


def _run_ruleset(tmp_path: Path, existing: list[dict]) -> list[str]:
    """The ruleset commands with a fake `gh` that lists `existing` rulesets and logs every call."""
    gh = tmp_path / "gh"
    (tmp_path / "list.json").write_text(json.dumps(existing))
    gh.write_text('#!/usr/bin/env bash\necho "$*" >> "$FAKE/calls"\n'
                  'if [ "$1 $2" = "api --paginate" ]; then jq -r "${@: -1}" "$FAKE/list.json"; fi\n'
                  'cat > /dev/null\n')
    gh.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "FAKE": str(tmp_path)}
    shell = "set -euo pipefail\n" + "\n".join(main_ruleset.commands(REPO))
    result = subprocess.run(["bash", "-c", shell], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return (tmp_path / "calls").read_text().splitlines()


def test_the_ruleset_step_updates_the_existing_ruleset_instead_of_adding_one(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    created = _run_ruleset(tmp_path / "a", [])
    assert [c for c in created if c.startswith("api -X")] == [f"api -X POST repos/{REPO}/rulesets --input -"]
    updated = _run_ruleset(tmp_path / "b", [{"id": 7, "name": "other"}, {"id": 42, "name": main_ruleset.NAME}])
    assert [c for c in updated if c.startswith("api -X")] == [f"api -X PUT repos/{REPO}/rulesets/42 --input -"]
