"""`python -m ops promote`: on temporary copies of the stack files in a scratch git repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from ops.plan.planner import Plan
from ops.release.promote import release_keys
from ops.stackfile import ROOT
from tests.ops_cli import run_ops, run_ops_here
from tests.scratch_repos import git

DEV_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/floyo-backend@sha256:" + "ab" * 32


def promote(stacks: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_ops("promote", "--from", "dev", "--to", "prod", "--stack-dir", str(stacks), *args, env=env)


def load(path: Path) -> dict:
    return YAML(typ="safe").load(path.read_text())["config"]


@pytest.fixture
def stacks(tmp_path: Path) -> Path:
    """Committed copies of the real stack files; prod gets a comment to keep, dev a new release."""
    shutil.copy(ROOT / "Pulumi.dev.yaml", tmp_path)
    prod = (ROOT / "Pulumi.prod.yaml").read_text()
    sized = "  floyo-infra:backend:  # the prod service\n    cpu: 2048  # sized for launch\n    memory: 4096\n"
    prod = prod.replace("  floyo-infra:backend:\n", sized, 1)
    (tmp_path / "Pulumi.prod.yaml").write_text(prod)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "stacks")
    return tmp_path


def set_dev(stacks: Path, old: str, new: str) -> None:
    dev = stacks / "Pulumi.dev.yaml"
    text = dev.read_text()
    assert old in text
    dev.write_text(text.replace(old, new))


def test_release_keys_come_from_the_schema() -> None:
    keys = release_keys()
    assert {("backend", "image"), ("backend", "app_version"), ("backend", "feature_flags")} <= set(keys)
    assert ("backend", "cpu") not in keys and ("tier",) not in keys


def test_only_release_keys_change_and_comments_survive(stacks: Path) -> None:
    before_text = (stacks / "Pulumi.prod.yaml").read_text()
    before = load(stacks / "Pulumi.prod.yaml")
    dev = load(stacks / "Pulumi.dev.yaml")
    result = promote(stacks)
    assert result.returncode == 0, result.stderr
    after_text = (stacks / "Pulumi.prod.yaml").read_text()
    after = load(stacks / "Pulumi.prod.yaml")
    for key in ("image", "app_version", "feature_flags"):
        assert after["floyo-infra:backend"][key] == dev["floyo-infra:backend"][key]
    assert after["floyo-infra:backend"]["cpu"] == 2048 and after["floyo-infra:backend"]["memory"] == 4096
    strip = {k: v for k, v in after["floyo-infra:backend"].items() if k not in ("image", "app_version", "feature_flags")}
    assert strip == {k: v for k, v in before["floyo-infra:backend"].items()
                     if k not in ("image", "app_version", "feature_flags")}
    assert {k: v for k, v in after.items() if k != "floyo-infra:backend"} == \
        {k: v for k, v in before.items() if k != "floyo-infra:backend"}
    assert "# the prod service" in after_text and "cpu: 2048  # sized for launch" in after_text
    assert after_text.splitlines()[:2] == before_text.splitlines()[:2]  # the header comment
    # the printed config change and the offline diff of prod it causes
    assert "floyo-infra:backend.image:" in result.stdout and "offline diff of stack 'prod'" in result.stdout


def test_prod_diff_after_promotion_is_the_release_and_nothing_else(stacks: Path) -> None:
    result = promote(stacks, "--dry-run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # the service's task definition and the migrate task definition (same image), nothing else
    assert "0 to add, 2 to change, 0 to remove" in out
    changed = [line.strip() for line in out.splitlines() if line.strip().startswith("~ ")]
    tasks = [c for c in changed if c.startswith("~ aws:ecs/taskDefinition:TaskDefinition  ")]
    assert sorted(c.split()[2] for c in tasks) == ["backend-migrate", "backend-task"], changed
    # the service reads the replaced task definition: listed as updated in place because of it, nothing else
    follows = [c for c in changed if "` reads " in c]
    assert follows and all(c.startswith("~ aws:ecs/service:Service  backend-service  [`taskDefinition` reads "
                                        "aws:ecs/taskDefinition:TaskDefinition backend-task]") for c in follows), follows
    rest_changed = [c for c in changed if c not in tasks and c not in follows]
    assert all(c.split(":")[0] in ("~ app_version", "~ backend_image") for c in rest_changed), changed
    for task, container in (("backend-task", "backend"), ("backend-migrate", "migrate")):
        flag, _, rest = out.split(f"TaskDefinition  {task}", 1)[1].partition("\n")
        # a task definition cannot be updated in place: the release registers a new revision (ops/diff/replacement.py)
        assert "replaced (delete + create) because `containerDefinitions` changed" in flag
        lines = [line.strip() for line in rest.split("outputs:")[0].splitlines()]
        props = [p for p in lines[:next((i for i, p in enumerate(lines) if p.startswith("~ ")), len(lines))] if p]
        assert props and all(p.startswith(f"containerDefinitions[{container}].") for p in props), props
        assert any(p.startswith(f"containerDefinitions[{container}].image: ") for p in props)
    assert "dry run" in out
    assert git(stacks, "status", "--porcelain") == ""  # nothing written


def test_refuses_a_mutable_tag(stacks: Path) -> None:
    """Fuzz, session 2: a tag was refused (exit 1) before the one loader ran, so a file the settings refuse was
    not reported as bad input. The settings refuse a tag in every stack (stacks/backend.py, `ECR_IMAGE`): exit 2."""
    set_dev(stacks, "floyo-backend@sha256:3f1c", "floyo-backend:latest  # @sha256:3f1c")
    result = run_ops_here("promote", "--from", "dev", "--to", "prod", "--stack-dir", str(stacks))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: {stacks / 'Pulumi.dev.yaml'}: invalid settings for stack 'dev'")
    assert "floyo-infra:backend.image: got " in result.stderr and "pinned by digest" in result.stderr
    assert "Traceback" not in result.stderr
    assert git(stacks, "status", "--porcelain", "Pulumi.prod.yaml") == ""


def test_refuses_invalid_source_settings(stacks: Path) -> None:
    set_dev(stacks, "  floyo-infra:backend:\n", "  floyo-infra:backend:\n    cpu: 300\n")
    result = promote(stacks)
    assert result.returncode == 2  # bad input: the same message and exit code as every command (issue 22)
    assert "Pulumi.dev.yaml: invalid settings for stack 'dev'" in result.stderr
    assert "floyo-infra:backend.cpu" in result.stderr
    assert "Traceback" not in result.stderr


def test_refuses_uncommitted_target_edits(stacks: Path) -> None:
    prod = stacks / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text() + "# local edit\n")
    result = promote(stacks)
    assert result.returncode == 1 and "uncommitted edits" in result.stderr
    assert prod.read_text().endswith("# local edit\n")


@pytest.mark.parametrize("why", ["not in a git repository", "no git on PATH"])
def test_cannot_tell_whether_committed_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, why: str,
) -> None:
    """Fuzz, session 2: `--stack-dir` outside a git work tree gave "refused: cannot tell whether Pulumi.dev.yaml is
    committed", exit 1, naming one file; without git, a traceback. It is still refused, as bad input of the
    operator's environment: exit 2, one message naming both files and what is needed."""
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    for stack in ("dev", "prod"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", stacks)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # git looks no higher than this test's folder
    if why == "no git on PATH":
        git(stacks, "init", "-q")
        monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    for dry_run in (["--dry-run"], []):
        result = run_ops_here("promote", "--from", "dev", "--to", "prod", "--stack-dir", str(stacks), *dry_run)
        assert result.returncode == 2, result.stderr
        first, *rest = result.stderr.splitlines()
        assert first == (f"error: {stacks / 'Pulumi.dev.yaml'}, {stacks / 'Pulumi.prod.yaml'}: cannot tell whether "
                         "they are committed; promote copies only committed, reviewed stack files:"), result.stderr
        assert rest and ("not a git repository" if why != "no git on PATH" else "`git` is not on PATH") in rest[0]
        assert "Traceback" not in result.stderr and result.stdout == ""
    for stack in ("dev", "prod"):
        assert (stacks / f"Pulumi.{stack}.yaml").read_text() == (ROOT / f"Pulumi.{stack}.yaml").read_text()


def test_nothing_to_promote_is_not_a_refusal(stacks: Path) -> None:
    """Issue 11: a no-op promotion exited 1 as if refused; it is a success that changes nothing."""
    assert promote(stacks).returncode == 0
    git(stacks, "commit", "-qam", "promoted")
    result = promote(stacks)
    assert result.returncode == 0, result.stderr
    assert "nothing to promote" in result.stdout and result.stderr == ""
    assert git(stacks, "status", "--porcelain") == ""


def test_check_deployed_compares_dev_outputs(stacks: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    dev = load(stacks / "Pulumi.dev.yaml")["floyo-infra:backend"]
    bin_dir = tmp_path_factory.mktemp("bin")
    fake = bin_dir / "pulumi"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}

    def deployed(image: str) -> subprocess.CompletedProcess[str]:
        fake.write_text(f"#!/bin/sh\necho '{{\"backend_image\": \"{image}\", \"app_version\": \"{dev['app_version']}\"}}'\n")
        fake.chmod(0o755)
        return promote(stacks, "--check-deployed", "--dry-run", env=env)

    stale = deployed(DEV_IMAGE)
    assert stale.returncode == 1 and "is not running what its config says" in stale.stderr
    assert "deployed backend_image" in stale.stderr
    current = deployed(dev["image"])
    assert current.returncode == 0, current.stderr
    assert "deployed outputs of 'dev' match its config" in current.stdout


def test_check_deployed_without_the_cli_says_so(stacks: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + "/usr/bin:/bin"}
    if shutil.which("pulumi", path=env["PATH"]):
        pytest.skip("a pulumi CLI is installed here")
    result = promote(stacks, "--check-deployed", env=env)
    assert result.returncode == 1 and "`pulumi` CLI is not on PATH" in result.stderr


def test_the_program_exports_what_check_deployed_compares(plan: Plan) -> None:
    from ops.release.promote import DEPLOYED_OUTPUTS, _get

    config = load(ROOT / f"Pulumi.{plan.stack}.yaml")
    for output, path in DEPLOYED_OUTPUTS.items():
        assert plan.outputs[output] == _get(config, path)


def test_refuses_uncommitted_source_edits(stacks: Path) -> None:
    """Issue 11: promotion copied uncommitted edits of the source file."""
    set_dev(stacks, "app_version: 2026.11.3", "app_version: 2026.11.4")
    result = promote(stacks)
    assert result.returncode == 1 and "Pulumi.dev.yaml has uncommitted edits" in result.stderr
    assert git(stacks, "status", "--porcelain", "Pulumi.prod.yaml") == ""


def test_refuses_a_source_file_git_ignores(tmp_path: Path) -> None:
    """Review: `git status --porcelain` prints nothing for an ignored file, which passed as committed."""
    (tmp_path / ".gitignore").write_text("Pulumi.*.yaml\n")
    shutil.copy(ROOT / "Pulumi.dev.yaml", tmp_path)
    shutil.copy(ROOT / "Pulumi.prod.yaml", tmp_path)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".gitignore")
    git(tmp_path, "commit", "-qm", "ignore the stack files")
    set_dev(tmp_path, "app_version: 2026.11.3", "app_version: 2099.1.1")
    result = promote(tmp_path)
    assert result.returncode == 1 and "Pulumi.dev.yaml is not committed (ignored by .gitignore)" in result.stderr
    assert "2099.1.1" not in (tmp_path / "Pulumi.prod.yaml").read_text()


def test_the_target_changes_only_on_the_promoted_lines(stacks: Path) -> None:
    """Issue 11: promotion re-dumped prod's YAML and re-indented unrelated lists."""
    prod = stacks / "Pulumi.prod.yaml"
    odd = prod.read_text().replace("    - slug: acme\n", "      - slug: acme  # first tenant\n")
    for slug in ("globex", "initech"):
        odd = odd.replace(f"    - slug: {slug}\n", f"      - slug: {slug}\n")
    odd = odd.replace("      - oncall@floyo.app\n", "    - 'oncall@floyo.app'\n")
    prod.write_text(odd)
    git(stacks, "commit", "-qam", "odd but valid indentation")
    set_dev(stacks, "      new_editor: true\n", "      new_editor: true\n      fast_upload: true\n")
    git(stacks, "commit", "-qam", "new flag")
    result = promote(stacks, "--no-diff")  # the edited lines only: the tests above check the diff
    assert result.returncode == 0, result.stderr
    before, after = odd.splitlines(keepends=True), prod.read_text().splitlines(keepends=True)
    removed = [line for line in before if line not in after]
    added = [line for line in after if line not in before]
    assert [line.split(":")[0].strip() for line in removed] == ["image", "app_version", "new_editor"], removed
    assert [line.split(":")[0].strip() for line in added] == ["image", "app_version", "new_editor", "fast_upload"]
    assert added[-1] == "      fast_upload: true\n"
    assert [line for line in after if line not in added] == [line for line in before if line not in removed]
    assert "floyo-infra:backend.feature_flags.fast_upload: (not set) -> true" in result.stdout


def test_a_held_flag_stays_off_in_the_target(stacks: Path) -> None:
    """Issue 11: the whole feature_flags map was copied, so prod could not keep a flag off."""
    prod = stacks / "Pulumi.prod.yaml"
    prod.write_text(prod.read_text() + "  floyo-infra:promote:\n    hold: [backend.feature_flags.new_editor]\n")
    git(stacks, "commit", "-qam", "hold new_editor")
    set_dev(stacks, "      new_editor: true\n", "      new_editor: true\n      fast_upload: true\n")
    git(stacks, "commit", "-qam", "new flag")
    result = promote(stacks, "--no-diff")
    assert result.returncode == 0, result.stderr
    assert "(offline diff skipped: --no-diff)" in result.stdout and "offline diff of stack" not in result.stdout
    flags = load(prod)["floyo-infra:backend"]["feature_flags"]
    assert flags == {"new_editor": False, "fast_upload": True}
    assert "held: floyo-infra:backend.feature_flags.new_editor stays false (source: true" in result.stdout
    git(stacks, "commit", "-qam", "promoted")
    again = promote(stacks)
    assert again.returncode == 0 and "nothing to promote" in again.stdout


def test_a_flag_dropped_in_the_source_is_dropped_in_the_target(stacks: Path) -> None:
    set_dev(stacks, "    feature_flags:\n      new_editor: true\n", "")
    git(stacks, "commit", "-qam", "no flags")
    result = promote(stacks, "--no-diff")
    assert result.returncode == 0, result.stderr
    backend = load(stacks / "Pulumi.prod.yaml")["floyo-infra:backend"]
    assert "feature_flags" not in backend and backend["cpu"] == 2048


def test_hold_names_only_release_keys() -> None:
    from stacks import SettingsError
    from tests.planning import settings_for, with_changes

    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("prod", {"promote": {"hold": ["backend.cpu", "backend.feature_flags.x"]}}))
    (problem,) = caught.value.problems
    assert problem.path == "floyo-infra:promote.hold" and "['backend.cpu'] are not release keys" in problem.allowed
