"""Scratch git repositories of the project, for the tests that run `python -m ops diff` (which reads the project's
own files and its git history, so it runs in a copy of the project, never in this checkout).

Each repository is made once per test process (`_once`) and shared by the modules of that process that only read
it; a test that adds a file to one removes it again (in a `finally`). The copies hold the project's code byte for
byte, so a `python -m ops` child planning a committed stack in one finds the plan the session already made in its
store (`ops.plan.cache` keys a plan by the code's content, not by where it lies).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ops.stackfile import ROOT
from tests.ops_cli import run_ops

PROJECT_FILES = ["__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml", "ops", "stacks", "components",
                 "policy"]
"""What a copy of the app project holds: the program, its stack files and the packages beside it."""

_made: dict[tuple[str, Path], Path] = {}
_dev_diffs: dict[Path, dict] = {}


def git(repo: Path, *args: str) -> str:
    """`git ARGS` in `repo` as a fixed committer; raises on failure; its stdout."""
    result = subprocess.run(["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args], cwd=repo,
                            capture_output=True, text=True, check=True)
    return result.stdout


def ops_in(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m ops *args` run in `repo` (its own copy of the code), in a child process."""
    return run_ops(*args, cwd=repo)


def copy_project(path: Path) -> Path:
    """`PROJECT_FILES` copied into `path` (without bytecode caches or a policy virtualenv)."""
    for name in PROJECT_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, path / name, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
        else:
            shutil.copy(src, path / name)
    return path


def project_repo(path: Path) -> Path:
    """A git repo at `path` holding the project as one commit, on branch main."""
    copy_project(path)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", ".")
    git(path, "commit", "-qm", "base")
    return path


def _once(name: str, factory: pytest.TempPathFactory, make: Callable[[Path], Path]) -> Path:
    """`make(a new temporary directory)`, once per test session and process; the same path afterwards."""
    key = (name, factory.getbasetemp())
    if key not in _made:
        _made[key] = make(factory.mktemp(name))
    return _made[key]


def _project_history(path: Path) -> Path:
    copy_project(path)
    git(path, "init", "-q", "-b", "main")
    git(path, "add", ".")
    git(path, "rm", "-q", "--cached", "Pulumi.dev.yaml")
    git(path, "commit", "-qm", "the project before its dev stack")
    git(path, "add", "Pulumi.dev.yaml")
    git(path, "commit", "-qm", "the project")
    return path


def project_history(factory: pytest.TempPathFactory) -> Path:
    """The project as it is at HEAD (and in the working tree); HEAD~1 is the same without Pulumi.dev.yaml, a
    revision from before the dev stack existed. `ops diff dev|prod --base HEAD` plans the committed stacks
    (from the session's store), `ops diff dev --base HEAD~1` diffs dev against a base without it."""
    return _once("project-history", factory, _project_history)


def _changed(path: Path) -> Path:
    project_repo(path)
    dev = path / "Pulumi.dev.yaml"
    bigger = "  floyo-infra:backend:\n    cpu: 1024\n    memory: 2048\n"
    dev.write_text(dev.read_text().replace("  floyo-infra:backend:\n", bigger))
    lb = path / "components" / "load_balancer.py"
    text = lb.read_text()
    # a rename of a stateful resource (new URN) and a new resource: delete + create of the log bucket
    old = 'f"{name}-access-logs", bucket_prefix='
    assert text.count(old) == 1
    lb.write_text(text.replace(old, 'f"{name}-alb-logs", bucket_prefix='))
    (path / "__main__.py").write_text((path / "__main__.py").read_text() + "\npulumi.export(\"diff_probe\", 1)\n")
    git(path, "commit", "-qam", "change")
    return path


def changed_repo(factory: pytest.TempPathFactory) -> Path:
    """A git repo with two commits: the project as is, then a change with a cpu and memory bump in dev, a rename
    of the ALB's log bucket and a new output (`diff_probe`). Read only."""
    return _once("changed-repo", factory, _changed)


def dev_json_diff(factory: pytest.TempPathFactory) -> dict:
    """`python -m ops diff dev --base HEAD~1 --format json` in `changed_repo`, parsed: run once per process in a
    forked child (its plans may come from the session's store), for the tests that read it."""
    repo = changed_repo(factory)
    if repo not in _dev_diffs:
        result = ops_in(repo, "diff", "dev", "--base", "HEAD~1", "--format", "json")
        assert result.returncode == 0, result.stderr
        _dev_diffs[repo] = json.loads(result.stdout)
    return copy.deepcopy(_dev_diffs[repo])
