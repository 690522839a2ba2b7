"""`python -m ops <command>`: operator tooling that needs no cloud account."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ops.render import tree
from ops.stackfile import UnknownStackError
from stacks.errors import SettingsError


def _plan(args: argparse.Namespace) -> int:
    from ops.plan import plan_stack

    plan = plan_stack(args.stack, stack_dir=args.stack_dir)
    if args.json:
        json.dump(plan.as_json(), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        print(tree(plan))
    return 0


def _alerts_table(args: argparse.Namespace) -> int:
    from ops.alerts_table import alerts_table, write_readme

    if args.write:
        write_readme()
    else:
        print(alerts_table())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    plan = commands.add_parser("plan", help="offline preview of a stack (no cloud, no Pulumi CLI)")
    plan.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument("--stack-dir", type=Path, default=None,
                      help="read Pulumi.<stack>.yaml from this directory (default: the project)")
    plan.set_defaults(run=_plan)

    alerts = commands.add_parser("alerts-table", help="the alert catalogue as a markdown table (README)")
    alerts.add_argument("--write", action="store_true", help="rewrite the README's alert table in place")
    alerts.set_defaults(run=_alerts_table)

    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except (SettingsError, UnknownStackError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
