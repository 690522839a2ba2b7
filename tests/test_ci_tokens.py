"""Which job can reach which token (issue 19, major 6): tokens live in GitHub environments only.

* No repository secret is referenced: a job sees a token only through its environment.
* Write tokens (Pulumi Stack Write, Cloudflare edit) live in `dev`, `production` and `baseline`, which only jobs
  of push/dispatch workflows on main use (the environments' deployment-branch rule, main only, is the
  server-side half: docs/ci.md).
* A pull-request job gets tokens only in `preview` (read-only tokens, required reviewers).
"""

from __future__ import annotations

import re
from typing import Any

from tests.test_workflows import ROOT, WORKFLOWS, _load, _on, workflows

WRITE_ENVIRONMENTS = {"dev", "production", "baseline", "${{ inputs.environment }}", "${{ matrix.environment }}"}
READ_ENVIRONMENTS = {"preview", "drift", "promote"}
SECRET = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")


def _environment(job: dict[str, Any]) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def _jobs() -> list[tuple[str, str, dict[str, Any]]]:
    return [(name, job_name, job) for name, doc in workflows().items() for job_name, job in doc["jobs"].items()]


def test_no_job_reads_a_token_outside_an_environment() -> None:
    for name, job_name, job in _jobs():
        used = set(SECRET.findall(str({k: v for k, v in job.items() if k != "secrets"}))) - {"GITHUB_TOKEN"}
        if used:
            assert _environment(job) in WRITE_ENVIRONMENTS | READ_ENVIRONMENTS, (
                f"{name}:{job_name} reads {sorted(used)} without an environment: a repository secret")


def test_no_workflow_takes_or_passes_named_secrets() -> None:
    for name, doc in workflows().items():
        call = _on(doc).get("workflow_call") or {}
        assert "secrets" not in call, f"{name}: a called workflow gets its tokens from its job's environment"
        for job_name, job in doc["jobs"].items():
            if "uses" in job and "secrets" in job:
                assert job["secrets"] == "inherit", f"{name}:{job_name} passes repository secrets by name"
                called = _load(ROOT / str(job["uses"]).removeprefix("./"))
                assert all(_environment(j) for j in called["jobs"].values()), f"{job['uses']}: job without environment"


def test_write_environments_are_reached_only_from_main() -> None:
    for name, job_name, job in _jobs():
        if _environment(job) in WRITE_ENVIRONMENTS or "uses" in job:
            triggers = set(_on(workflows()[name]))
            assert triggers <= {"push", "workflow_dispatch", "workflow_call"}, f"{name}:{job_name}: {triggers}"
            if "push" in triggers:
                assert _on(workflows()[name])["push"] == {"branches": ["main"]}


def test_pull_request_jobs_get_read_only_environments_only() -> None:
    for name, doc in workflows().items():
        if "pull_request" not in _on(doc) and "pull_request_target" not in _on(doc):
            continue
        assert "pull_request_target" not in _on(doc), f"{name}: would run with the base repository's secrets"
        for job_name, job in doc["jobs"].items():
            env = _environment(job)
            assert env in (None, "preview"), f"{name}:{job_name} runs in {env}"
            if env == "preview":
                assert "production" not in str(job) and "AWS_DEPLOY_ROLE_ARN" not in str(job)


def test_docs_say_what_each_environment_holds() -> None:
    ci = (ROOT / "docs" / "ci.md").read_text()
    for env in ("dev", "production", "baseline", "preview", "drift", "promote"):
        assert f"`{env}`" in ci, env
    for workflow in WORKFLOWS.glob("*.yml"):
        assert workflow.name in ci, workflow.name
