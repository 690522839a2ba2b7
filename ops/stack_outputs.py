"""Read a deployed stack's outputs (`pulumi stack output --json`) for the release commands."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


class ReleaseError(Exception):
    """A release step can't run or failed; the message says why and what to check."""


def stack_outputs(stack: str, required: Sequence[str], cwd: Path = ROOT) -> dict[str, Any]:
    """The stack's outputs, refusing when one of `required` is missing or empty."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise ReleaseError("the `pulumi` CLI is not on PATH: install it and log in (it reads the stack's outputs)")
    result = subprocess.run([pulumi, "stack", "output", "--json", "--stack", stack], cwd=cwd,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ReleaseError(f"`pulumi stack output --json --stack {stack}` failed: "
                           f"{result.stderr.strip() or result.stdout.strip()}")
    try:
        outputs = json.loads(result.stdout or "{}")
    except json.JSONDecodeError:
        raise ReleaseError(f"`pulumi stack output` did not print JSON: {result.stdout[:200]!r}") from None
    missing = [key for key in required if not outputs.get(key)]
    if missing:
        raise ReleaseError(f"stack '{stack}' has no output {', '.join(missing)}: run `pulumi up` with this "
                           "program first (the release's first phase declares them)")
    return dict(outputs)
