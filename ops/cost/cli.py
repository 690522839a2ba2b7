"""The `cost` subcommand's arguments and its run (kept out of ops/__main__.py)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ops.cost.prices import PriceTableError


def add_cost_parser(commands: Any, run: Callable[[argparse.Namespace], int]) -> None:
    cost = commands.add_parser("cost", help="offline monthly cost estimate of a stack (vendored price table)")
    cost.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    cost.add_argument("--json", action="store_true",
                      help="print total_monthly_usd, resources (name, type, monthly_usd, basis) and unpriced")
    cost.add_argument("--format", choices=["text", "markdown"], default="text", help="text, or markdown (PR comment)")
    cost.add_argument("--project", default=None, help="price another project of the repository (e.g. baseline)")
    cost.add_argument("--stack-dir", type=Path, default=None, help="read Pulumi.<stack>.yaml from this directory")
    cost.add_argument("--set", action="append", default=[], metavar="KEY.PATH=VALUE",
                      help="price the stack as if Pulumi.<stack>.yaml set this (repeatable; the file is not edited), "
                           "e.g. --set database.reader_count=2")
    cost.add_argument("--write", action="store_true",
                      help="also write ops/cost/estimates/<stack>.json, the committed estimate the budget derives from")
    cost.set_defaults(run=run)


def run_cost(args: argparse.Namespace) -> int:
    from ops.cost import estimate_stack, render_markdown, render_text, write_estimate

    if args.write and (args.project or args.set):  # refused before the plan, not after it
        print("error: --write: only an app stack's own settings (no --project, no --set) make its committed "
              "estimate", file=sys.stderr)
        return 2
    try:
        estimate = estimate_stack(args.stack, args.project, args.stack_dir, args.set)
    except (PriceTableError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.write:
        from ops.stackfile import ROOT, load_stack

        _, settings = load_stack(args.stack, args.stack_dir or ROOT)
        path = write_estimate(args.stack, estimate, settings.cost.budget_enforcement)
        print(f"wrote {path}", file=sys.stderr)
    if args.json:
        json.dump(estimate.as_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.format == "markdown":
        print(render_markdown(args.stack, estimate))
    else:
        print(render_text(args.stack, estimate))
    return 0
