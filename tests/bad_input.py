"""Shared by the malformed-file corpus and the mutation fuzz: every `python -m ops` command that reads a stack
file, pointed at a directory of bad files (`--stack-dir`, run in the project itself, so the fork server's
imports are reused), and `ops diff`, which reads the project's own files, in a scratch copy of the repository."""

from __future__ import annotations

import shutil
from pathlib import Path

from ops.stackfile import ROOT

STACK = "bad"
"""The stack name the bad files are written under."""


def commands(stack_dir: Path) -> dict[str, list[str]]:
    """Every command that reads a stack file given by name, as an operator would type it, reading
    `stack_dir/Pulumi.bad.yaml` (`tunnel`, `migrate` and `canary-gate` read the same file through the same
    loader, then need AWS). A new command belongs here."""
    where = ["--stack-dir", str(stack_dir)]
    return {
        "plan": ["plan", STACK, *where],
        "plan --project baseline": ["plan", "--project", "baseline", STACK, *where],
        "check": ["check", STACK, *where],
        "tenants list": ["tenants", STACK, "list", *where],
        "tenants add": ["tenants", STACK, "add", "newco", "--no-diff", *where],
        "promote --from": ["promote", "--from", STACK, "--to", "dev", "--dry-run", *where],
        "promote --to": ["promote", "--from", "dev", "--to", STACK, "--dry-run", *where],
        "deploy --dry-run": ["deploy", STACK, "--dry-run", *where],
    }


DIFF = ["diff", STACK, "--base", "HEAD"]
"""`ops diff` reads the project's own stack files (its base from git): run in a scratch copy of the project
(`tests.scratch_repos.project_history`)."""
BASELINE_COMMANDS = {"plan --project baseline"}
"""Commands that validate the file as a baseline stack (`floyo-baseline:`); the others as the app's."""
PLANNING = {"plan", "plan --project baseline", "check", "deploy --dry-run", "diff"}
"""Commands that plan a valid file (seconds each): the fuzz runs them only on files the loader refuses."""


def stack_dir_with_dev(path: Path) -> Path:
    """A stack directory holding a copy of the dev stack file (promote's other side)."""
    shutil.copy(ROOT / "Pulumi.dev.yaml", path / "Pulumi.dev.yaml")
    return path
