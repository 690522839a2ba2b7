"""The GitHub workflows: actionlint-clean, pinned, least-privilege, exact comment markers."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ops.diff import MARKER
from ops.lint import LintSetupError, lint, node_executable
from ops.stackfile import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
UPSERT = ROOT / ".github" / "scripts" / "upsert-comment.cjs"


def workflows() -> dict[str, dict]:
    return {p.name: YAML(typ="safe").load(p.read_text()) for p in sorted(WORKFLOWS.glob("*.yml"))}


@pytest.fixture(scope="module")
def linter_ready() -> None:
    try:
        lint(Path("/nonexistent"))
    except LintSetupError as exc:
        pytest.fail(f"actionlint is not installed ({exc}); `./run test` installs it")


def test_the_four_workflows_exist() -> None:
    assert set(workflows()) == {"pr.yml", "deploy.yml", "promote.yml", "drift.yml"}


def test_actionlint_passes_on_the_committed_workflows(linter_ready: None) -> None:
    assert lint(WORKFLOWS) == []


def test_actionlint_catches_a_broken_workflow(linter_ready: None, tmp_path: Path) -> None:
    broken = (WORKFLOWS / "pr.yml").read_text()
    broken = broken.replace("${{ github.event.pull_request.base.sha }}", "${{ secret.X }}")
    broken = broken.replace("timeout-minutes: 30", "timeout-minutes: thirty", 1)
    (tmp_path / "pr.yml").write_text(broken)
    messages = [str(f["message"]) for f in lint(tmp_path)]
    assert any('undefined variable "secret"' in m for m in messages), messages
    assert any("float number literal" in m for m in messages), messages  # timeout-minutes: thirty


def test_every_action_is_pinned_to_a_full_version() -> None:
    uses = re.findall(r"uses:\s*(\S+)", "\n".join(p.read_text() for p in WORKFLOWS.glob("*.yml")))
    assert uses
    for ref in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+\.\d+\.\d+", ref), f"{ref} is not pinned to a full version"


def test_permissions_are_least_privilege() -> None:
    for name, doc in workflows().items():
        assert doc["permissions"] == {}, f"{name}: default token permissions must be none"
        for job_name, job in doc["jobs"].items():
            perms = job.get("permissions")
            assert perms is not None, f"{name}:{job_name} must declare its permissions"
            assert all(v in ("read", "write") for v in perms.values())
            writes = {k for k, v in perms.items() if v == "write"}
            assert writes <= {"pull-requests", "id-token", "contents"}, f"{name}:{job_name}: {writes}"
            if "id-token" in writes:  # only jobs that assume the AWS role via OIDC
                steps = " ".join(str(s.get("uses", "")) for s in job["steps"])
                assert "aws-actions/configure-aws-credentials" in steps


def test_deploys_never_overlap_and_prod_needs_approval() -> None:
    docs = workflows()
    assert docs["deploy.yml"]["concurrency"] == {"group": "deploy-dev", "cancel-in-progress": False}
    deploy_prod = docs["promote.yml"]["jobs"]["deploy-prod"]
    assert deploy_prod["environment"]["name"] == "production"
    assert deploy_prod["concurrency"] == {"group": "deploy-prod", "cancel-in-progress": False}
    assert "prod" not in json.dumps(docs["deploy.yml"]["jobs"]["deploy"])  # a merge deploys dev only
    drift = docs["drift.yml"]["jobs"]["drift"]
    assert "--preview-only --expect-no-changes" in json.dumps(drift)


def test_pr_markers_match_ops_diff() -> None:
    text = (WORKFLOWS / "pr.yml").read_text()
    assert "const marker = `" + MARKER.format(stack="${process.env.STACK}") + "`;" in text


def _node(script: str) -> str:
    result = subprocess.run([node_executable(), "-e", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_markers_are_exact_per_stack() -> None:
    """dev's comment never matches dev-eu's (nor a human quoting the marker); duplicates heal."""
    script = f"""
    const upsert = require({json.dumps(str(UPSERT))});
    const bot = {{ login: "github-actions[bot]" }};
    const comments = [
      {{ id: 1, user: bot, body: "<!-- floyo-diff:dev-eu -->\\nEU" }},
      {{ id: 2, user: {{ login: "alice" }}, body: "<!-- floyo-diff:dev -->\\nquoted by a human" }},
      {{ id: 3, user: bot, body: "see <!-- floyo-diff:dev -->" }},
      {{ id: 4, user: bot, body: "<!-- floyo-diff:prod -->\\nPROD" }},
    ];
    const calls = [];
    const github = {{
      paginate: async () => comments,
      rest: {{ issues: {{
        listComments: () => {{}},
        createComment: async (a) => {{ calls.push(["create", a.body]); comments.push({{ id: 9, user: bot, body: a.body }}); }},
        updateComment: async (a) => calls.push(["update", a.comment_id, a.body]),
        deleteComment: async (a) => calls.push(["delete", a.comment_id]),
      }} }},
    }};
    const context = {{ repo: {{ owner: "o", repo: "r" }}, issue: {{ number: 7 }} }};
    (async () => {{
      const first = await upsert({{ github, context, marker: "<!-- floyo-diff:dev -->", body: "<!-- floyo-diff:dev -->\\nv1" }});
      const second = await upsert({{ github, context, marker: "<!-- floyo-diff:dev -->", body: "<!-- floyo-diff:dev -->\\nv2" }});
      comments.push({{ id: 10, user: bot, body: "<!-- floyo-diff:prod -->\\nduplicate" }});
      const third = await upsert({{ github, context, marker: "<!-- floyo-diff:prod -->", body: "new prod" }});
      console.log(JSON.stringify({{ first, second, third, calls }}));
    }})();
    """
    out = json.loads(_node(script))
    assert out["first"] == "created" and out["second"] == "updated" and out["third"] == "updated"
    assert out["calls"][0] == ["create", "<!-- floyo-diff:dev -->\nv1"]
    assert out["calls"][1] == ["update", 9, "<!-- floyo-diff:dev -->\nv2"]  # its own comment, not dev-eu's (1)
    assert out["calls"][2] == ["update", 4, "<!-- floyo-diff:prod -->\nnew prod"]
    assert out["calls"][3] == ["delete", 10]
    assert len(out["calls"]) == 4
