"""`python -m ops stacks`: the stacks the workflows deploy, preview and check, from the stack files.

Every `Pulumi.<stack>.yaml` in the project is a stack; nothing else is. The workflows build
their matrices from this command, never from a hard-coded list, so adding a stack file adds it
to the previews, the deploy path and the drift check.

Deploy order: `dev` (`FIRST`) deploys first and must be healthy before any other stack deploys;
the others follow. Each stack deploys in the GitHub environment `ENVIRONMENTS` names
(`prod` -> `production`, protected by required reviewers), any other stack in the environment
of its own name: GitHub creates a missing environment without protection and without
variables, so a stack whose environment was not set up fails at `configure-aws-credentials`
(no role ARN) instead of deploying unreviewed.

Standard library only: the workflows call `python3 -m ops.ci.stacks` on the runner's own Python
before anything is installed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The Pulumi project directory (holds Pulumi.yaml and the stack files)."""

FIRST = "dev"
"""The stack every change deploys to first; the others wait until it is healthy."""

ENVIRONMENTS = {"dev": "dev", "prod": "production"}
"""GitHub environment of a stack; a stack not listed uses the environment of its own name."""

DEFAULT_REGION = "us-east-1"
"""The region of a stack file without `aws:region` (what ops.stackfile assumes too)."""

_STACK_FILE = re.compile(r"^Pulumi\.([A-Za-z0-9_.-]+)\.yaml$")
_REGION = re.compile(r"^\s+aws:region:\s*[\"']?([a-z0-9-]+)[\"']?\s*(?:#.*)?$", re.MULTILINE)


class StackListError(Exception):
    """The stack files do not give a usable deploy order, or an unknown stack was asked for."""


def stack_names(root: Path = ROOT) -> list[str]:
    """Stack names from the stack files in `root`, `FIRST` first, the rest sorted."""
    names = sorted(m.group(1) for p in root.glob("Pulumi.*.yaml") if (m := _STACK_FILE.match(p.name)))
    if FIRST not in names:
        raise StackListError(f"no Pulumi.{FIRST}.yaml in {root}: every change deploys to {FIRST} first")
    return [FIRST, *(n for n in names if n != FIRST)]


def variable_suffix(stack: str) -> str:
    """The stack as a GitHub variable name suffix: `prod-eu` -> `PROD_EU`."""
    return re.sub(r"[^A-Z0-9_]", "_", stack.upper())


def region(stack: str, root: Path = ROOT) -> str:
    """`aws:region` of the stack file (a plain-text read: no YAML library before installs)."""
    found = _REGION.search((root / f"Pulumi.{stack}.yaml").read_text())
    return found.group(1) if found else DEFAULT_REGION


def entry(stack: str, root: Path = ROOT) -> dict[str, str]:
    """One matrix entry: the stack, its deploy environment and region, and its per-stack variable names."""
    suffix = variable_suffix(stack)
    return {
        "stack": stack,
        "environment": ENVIRONMENTS.get(stack, stack),
        "region": region(stack, root),
        "preview_role_var": f"AWS_PREVIEW_ROLE_ARN_{suffix}",
        "drift_role_var": f"AWS_DRIFT_ROLE_ARN_{suffix}",
    }


BASELINE_DIR = "baseline"
"""The account baseline project (one stack per account and region), deployed before the app stacks."""


def baseline_entries(root: Path = ROOT) -> list[dict[str, str]]:
    """One matrix entry per `baseline/Pulumi.<stack>.yaml`: it deploys in the `baseline` environment, and its
    role variables carry `BASELINE_` before the stack's suffix (`AWS_DRIFT_ROLE_ARN_BASELINE_MAIN_USE1`)."""
    folder = root / BASELINE_DIR
    names = sorted(m.group(1) for p in folder.glob("Pulumi.*.yaml") if (m := _STACK_FILE.match(p.name)))
    return [{"stack": n, "environment": "baseline", "region": region(n, folder),
             "preview_role_var": f"AWS_PREVIEW_ROLE_ARN_BASELINE_{variable_suffix(n)}",
             "drift_role_var": f"AWS_DRIFT_ROLE_ARN_BASELINE_{variable_suffix(n)}"} for n in names]


def matrices(root: Path = ROOT, only: str = "") -> dict[str, list[dict[str, str]]]:
    """`first` (dev's entry), `all` stacks (`FIRST` first) and the `later` ones (all but `FIRST`);
    `only` keeps one stack in `all` and `later` (and no baseline stack). `baseline`: the baseline's stacks."""
    names = stack_names(root)
    first = entry(FIRST, root)
    if only:
        if only not in names:
            raise StackListError(f"unknown stack '{only}': no Pulumi.{only}.yaml (known stacks: {', '.join(names)})")
        names = [only]
    return {"first": [first], "all": [entry(n, root) for n in names],
            "later": [entry(n, root) for n in names if n != FIRST],
            "baseline": [] if only else baseline_entries(root)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops stacks", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print {first, all, later} as one JSON object")
    parser.add_argument("--github-output", action="store_true",
                        help="print `first=<json>`, `all=<json>`, `later=<json>` and `baseline=<json>` lines for "
                        "$GITHUB_OUTPUT")
    parser.add_argument("--only", default="", help="keep only this stack (must have a stack file)")
    args = parser.parse_args(argv)
    try:
        found = matrices(only=args.only)
    except StackListError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.github_output:
        for key, value in found.items():
            print(f"{key}={json.dumps(value, separators=(',', ':'))}")
    elif args.json:
        print(json.dumps(found, indent=2))
    else:
        print("\n".join(e["stack"] for e in found["all"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
