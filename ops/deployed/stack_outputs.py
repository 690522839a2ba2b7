"""Read a deployed stack's outputs (`pulumi stack output --json`) for the release commands."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[2]


class Ran(Protocol):
    """What a finished command left: `subprocess.CompletedProcess` or `ops.deployed.shell.Completed`."""

    @property
    def returncode(self) -> int: ...
    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...


class ReleaseError(Exception):
    """A release step can't run or failed; the message says why and what to check."""


def parse_outputs(stack: str, result: Ran, error: type[Exception],
                  hint: str = "") -> dict[str, Any]:
    """The outputs `pulumi stack output --json --stack STACK` printed ({} for a stack never deployed), or
    `error` saying why not; `hint` is appended to a failed command's message."""
    if result.returncode != 0:
        raise error(f"`pulumi stack output --json --stack {stack}` failed: "
                    f"{result.stderr.strip() or result.stdout.strip()}{hint}")
    try:
        outputs = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        raise error(f"`pulumi stack output` did not print JSON: {result.stdout[:200]!r}") from None
    return outputs if isinstance(outputs, dict) else {}


def stack_outputs(stack: str, required: Sequence[str], cwd: Path = ROOT) -> dict[str, Any]:
    """The stack's outputs, refusing when one of `required` is missing or empty."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise ReleaseError("the `pulumi` CLI is not on PATH: install it and log in (it reads the stack's outputs)")
    result = subprocess.run([pulumi, "stack", "output", "--json", "--stack", stack], cwd=cwd,
                            capture_output=True, text=True, check=False)
    outputs = parse_outputs(stack, result, ReleaseError)
    missing = [key for key in required if not outputs.get(key)]
    if missing:
        raise ReleaseError(f"stack '{stack}' has no output {', '.join(missing)}: run `pulumi up` with this "
                           "program first (the release's first phase declares them)")
    return dict(outputs)
