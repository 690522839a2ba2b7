"""The GitHub environments (ops/ci/environments.py): every token reaches what its jobs' programs read, the
bootstrap creates each environment with its protection, and the docs say what the table says."""

from __future__ import annotations

import json
import re
import shlex

from ops.ci import main_ruleset
from ops.ci.bootstrap import script
from ops.ci.environments import APP_PROJECT, ENVIRONMENTS, describe, environment, may
from ops.ci.stacks import baseline_entries, matrices
from ops.stackfile import ROOT
from stacks.account import BASELINE_PROJECT
from tests.planning import stack_plan

REPO = "acme/floyo-infra"


def _referenced(stack: str) -> list[str]:
    """`<project>/<stack>` of every StackReference the stack's program reads (the org is the token's own)."""
    reads = [r.id for r in stack_plan(stack).reads if r.type == "pulumi:pulumi:StackReference"]
    return ["/".join(name.split("/")[-2:]) for name in reads]


def test_every_stack_reference_is_readable_with_the_token_of_every_job_running_the_program() -> None:
    seen = 0
    for entry in matrices()["all"]:
        stack = entry["stack"]
        deploy = environment(entry["environment"])
        assert may(deploy, "write", f"{APP_PROJECT}/{stack}"), f"{deploy.name} cannot deploy {stack}"
        for referenced in _referenced(stack):
            seen += 1
            for env in (deploy, environment("preview"), environment("drift")):
                assert may(env, "read", referenced), f"{env.name}'s token cannot read {referenced} ({stack} reads it)"
    assert seen, "prod reads its baseline: the check must have something to check"


def test_the_baseline_token_writes_every_baseline_stack_and_nothing_else() -> None:
    env = environment("baseline")
    assert all(may(env, "write", f"{BASELINE_PROJECT}/{e['stack']}") for e in baseline_entries())
    assert not may(env, "read", f"{APP_PROJECT}/prod")


def test_the_bootstrap_creates_every_environment_main_only_with_its_reviewers() -> None:
    text = script("123456789012", REPO, reviewer_team=42)
    for env in ENVIRONMENTS:
        line = next(x for x in text.splitlines() if x.startswith(f"gh api -X PUT repos/{REPO}/environments/{env.name} "))
        body = json.loads(shlex.split(line.split("<<<", 1)[1])[0])
        assert body["deployment_branch_policy"] == {"protected_branches": False, "custom_branch_policies": True}
        assert (body.get("reviewers") == [{"type": "Team", "id": 42}]) == env.reviewers, env.name
        assert body.get("prevent_self_review", False) == env.reviewers, env.name
        assert f"environments/{env.name}/deployment-branch-policies -f name=main -f type=branch" in text
        # created before any variable is set in it (gh variable set --env does not create it)
        assert text.index(line) < text.index(f"--env {env.name} ") if f"--env {env.name} " in text else True
    assert environment("preview").reviewers and environment("production").reviewers
    assert not environment("baseline").reviewers, "a reviewer on baseline would hold every merge's dev deploy"


def test_every_iam_and_oidc_step_is_guarded_so_a_rerun_converges() -> None:
    lines = script("123456789012", REPO).splitlines()
    for i, line in enumerate(lines):
        if re.match(r"\s*\|\|\s*aws iam create-", line):
            assert re.match(r"aws iam get-", lines[i - 1]), line
        else:
            assert not re.match(r"aws iam create-", line), f"unguarded: {line}"


def test_the_docs_give_each_environment_exactly_the_table_s_scopes() -> None:
    runbook = (ROOT / "docs" / "first-deploy.md").read_text()
    ci = (ROOT / "docs" / "ci.md").read_text()
    for env in ENVIRONMENTS:
        scopes = describe(env)
        documented = re.findall(rf"gh secret set PULUMI_ACCESS_TOKEN --repo ORG/REPO --env {env.name}\s+# (.*)", runbook)
        assert documented == [scopes], (env.name, documented, scopes)
        row = next(r for r in ci.splitlines() if r.startswith(f"| `{env.name}` |"))
        assert f"`PULUMI_ACCESS_TOKEN` ({scopes})" in row, (env.name, row)
        assert ("required reviewers" in row) == env.reviewers, row
        if env.cloudflare:
            assert f"`CLOUDFLARE_API_TOKEN` ({env.cloudflare})" in row
            assert re.search(rf"--env {env.name}\s+# {re.escape(env.cloudflare)}$", runbook, re.MULTILINE), env.name


def test_the_docs_say_what_the_secrecy_rests_on() -> None:
    """`main_only` keeps code out only while `main` is protected, and the preview's reach is said plainly."""
    ci = (ROOT / "docs" / "ci.md").read_text()
    runbook = (ROOT / "docs" / "first-deploy.md").read_text()
    assert f"`{main_ruleset.NAME}`" in ci and f"`{main_ruleset.NAME}`" in runbook
    assert "Rulesets** on a private repository need GitHub Pro, Team or Enterprise Cloud" in ci
    assert "depends on them for secrecy" not in ci, "secrecy rests on the ruleset and the preview's approval gate"
    assert "APPROVED review of exactly that commit" in ci
    if ("read", "*/*") in environment("preview").pulumi:
        assert "**A preview can decrypt every stack's secrets.**" in ci
