"""`python -m ops bootstrap`: every role trusts exactly the environment of the job that assumes it."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

from components.drift_access import drift_role_name
from ops.bootstrap import roles, script
from ops.stackfile import ROOT
from tests.planning import one, stack_plan
from tests.test_workflows import workflows

ACCOUNT, REPO = "123456789012", "acme/floyo-infra"


def _env(job: dict) -> str:
    env = job["environment"]
    return env["name"] if isinstance(env, dict) else env


def test_each_role_trusts_the_environment_its_job_runs_in() -> None:
    docs = workflows()
    preview_env = _env(docs["pr.yml"]["jobs"]["preview"])
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
    documents = [json.loads(words[i + 1]) for line in text.splitlines() if line.startswith("aws iam")
                 for words in [shlex.split(line)] for i, w in enumerate(words) if w.endswith("-document")]
    trusts = [d for d in documents if d["Statement"][0]["Action"] == "sts:AssumeRoleWithWebIdentity"]
    assert len(trusts) == len(roles(ACCOUNT))
    assert all(t["Statement"][0]["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
               .startswith(f"repo:{REPO}:environment:") for t in trusts)


def test_bad_input_is_refused_with_exit_2() -> None:
    done = subprocess.run([sys.executable, "-m", "ops", "bootstrap", "--repo", "nope", "--account", ACCOUNT],
                          cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "--repo" in done.stderr and "Traceback" not in done.stderr
