"""`python -m ops deploy STACK [--dry-run]`: real `pulumi up` runs in the order a deploy needs, then a check.

The postgresql provider reaches the database only through the tunnel (`ops tunnel`), and the
tunnel needs the access host, which the same program declares. So:

0. **policy-venv**: `python -m ops policy-venv`, the policy pack's virtualenv (Pulumi never creates it);
1. **bootstrap** (only while the stack has no access host, i.e. the first deploy into an empty
   account): `pulumi up` with every resource of the postgresql providers, the ECS service, and
   everything that depends on them excluded (`--exclude <URN>` each, computed from the offline plan);
2. **up-except-service** (after a bootstrap, or when the hook adds phases): `pulumi up` through the
   tunnel without the ECS service, so the login roles exist before a task tries to log in;
3. **migrate** (`before_service_phases`): `python -m ops migrate STACK`, the one-off migration task of
   the new image; a failure stops the deploy before the service update;
4. **up**: the full `pulumi up`, through the tunnel (the gradual rollout with alarm rollback);
   then **canary-gate** (`after_up_phases`): `python -m ops canary-gate STACK`;
5. **verify**: the ECS service's PRIMARY deployment runs the task definition this deploy declared
   and its rollout COMPLETED (`aws ecs describe-services`), so a circuit-breaker rollback fails the
   deploy instead of hiding behind a green `pulumi up` and a /health answered by the old tasks.

Before any phase, a **preflight** `pulumi preview --json` (database objects planned without the tunnel,
as the workflow's policy preview does) refuses a deploy whose preview would stop halfway
(`ops.diff.danger.HALTED_REPLACEMENT`: a replaced cluster with deletion protection on deletes its instances,
then fails on the cluster), so dev's automatic deploy never starts one.

`--dry-run` prints the phases and their commands and runs nothing but read-only look-ups
(`pulumi stack output`, to tell a first deploy from a later one).
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.deployed.shell import Runner
from ops.deployed.tunnel import (
    Target,
    locate,
    open_tunnel,
    require_tools,
    session_command,
    stack_outputs,
    stack_region_and_port,
    wait_until_online,
)
from ops.diff.danger import halted_replacement
from ops.plan.planner import Plan
from ops.plan.urns import leaf_type

POSTGRES_PROVIDER = "pulumi:providers:postgresql"
ECS_SERVICE = "aws:ecs/service:Service"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
MIGRATE_TASK = "backend-migrate"
"""The `migrate` task definition's resource name (components/backend.py)."""
CANARY = "aws:synthetics/canary:Canary"
ACCESS_OUTPUT = "database_access_instance_id"
"""Stack output present once the access host exists (then no bootstrap phase is needed)."""


class DeployError(Exception):
    """A phase failed or the deploy did not deliver what it declared."""


@dataclass(frozen=True)
class Phase:
    """One command of a deploy."""

    name: str
    why: str
    argv: tuple[str, ...]
    tunnel: bool
    """Runs with the tunnel open (anything that lets the postgresql provider connect)."""


def dependents(plan: Plan, roots: Iterable[str]) -> set[str]:
    """`roots` and every resource that needs one of them: through its provider, its parent or a dependency
    (what the engine refuses to create while a resource it needs is excluded)."""
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for res in plan.resources:
            if res.urn not in found and (res.provider in found or res.parent in found or found & set(res.dependencies)):
                found.add(res.urn)
                grew = True
    return found


def database_object_urns(plan: Plan) -> set[str]:
    """The postgresql providers and everything that needs them (roles, grants, schemas, ...)."""
    return dependents(plan, (r.urn for r in plan.of_type(POSTGRES_PROVIDER)))


def service_urns(plan: Plan) -> set[str]:
    """The ECS service and everything that needs it (for a phase that updates all but the service)."""
    return dependents(plan, (r.urn for r in plan.of_type(ECS_SERVICE)))


POLICY_PACK = "policy/"
"""The CrossGuard pack every `pulumi up` of a deploy runs with: a MANDATORY violation stops the update."""


def pulumi_up(stack: str, exclude: Iterable[str] = ()) -> tuple[str, ...]:
    excluded = [arg for urn in sorted(exclude) for arg in ("--exclude", urn)]
    return ("pulumi", "up", "--stack", stack, "--yes", "--non-interactive", "--diff", "--policy-pack", POLICY_PACK,
            *excluded, *(("--exclude-dependents",) if excluded else ()))


def before_service_phases(stack: str, plan: Plan) -> list[Phase]:
    """HOOK: phases that run after the database objects and the new `migrate` task definition are in place
    and before the ECS service rolls out: the database migration (`python -m ops migrate`, a one-off
    Fargate task of the new image as `migrator`). `deploy_phases` runs them between a `pulumi up` that
    excludes the service (`service_urns`) and the full `pulumi up`; a failed migration stops the deploy
    before any task of the new revision serves traffic. None when the plan declares no migrate task."""
    if not any(r.name == MIGRATE_TASK for r in plan.of_type(TASK_DEFINITION)):
        return []
    return [Phase("migrate", "the schema migration as `migrator`, one-off task of the new image (ops/release/migrate.py)",
                  (sys.executable, "-m", "ops", "migrate", stack), tunnel=True)]


def after_up_phases(stack: str, plan: Plan) -> list[Phase]:
    """The release gate after the service update: the synthetic check's next runs must pass
    (`python -m ops canary-gate`). None when the plan declares no canary (dev may turn it off)."""
    if not plan.of_type(CANARY):
        return []
    return [Phase("canary-gate", "the synthetic check's next runs pass through Cloudflare (ops/release/canary_gate.py)",
                  (sys.executable, "-m", "ops", "canary-gate", stack), tunnel=False)]


def deploy_phases(stack: str, plan: Plan, bootstrap: bool) -> list[Phase]:
    """The commands of a deploy, in order."""
    # Every `pulumi up` below runs --policy-pack policy/, which Pulumi starts from the venv
    # PulumiPolicy.yaml names and never creates (ops/release/policy_venv.py): create it first.
    phases: list[Phase] = [Phase("policy-venv", "the policy pack's virtualenv, which Pulumi runs but never creates",
                                 (sys.executable, "-m", "ops", "policy-venv"), tunnel=False)]
    service = service_urns(plan)
    if bootstrap:
        phases.append(Phase(
            "bootstrap", "first deploy: all but the database objects (no access host yet) and the ECS service",
            pulumi_up(stack, exclude=database_object_urns(plan) | service), tunnel=False,
        ))
    hooked = before_service_phases(stack, plan)
    if bootstrap or hooked:
        phases.append(Phase(
            "up-except-service", "the database objects and the rest, before the service starts tasks that log in",
            pulumi_up(stack, exclude=service), tunnel=True,
        ))
    phases += hooked
    phases.append(Phase("up", "the whole stack, the database objects through the tunnel", pulumi_up(stack), tunnel=True))
    return phases + after_up_phases(stack, plan)


def describe_service_command(region: str, cluster: str, service: str) -> list[str]:
    return ["aws", "ecs", "describe-services", "--region", region, "--cluster", cluster, "--services", service,
            "--query", "services[0].deployments", "--output", "json"]


def verify_rollout(outputs: Mapping[str, Any], region: str, runner: Runner, timeout: float = 1800,
                   interval: float = 15) -> str:
    """Wait until the PRIMARY deployment runs the declared task definition and its rollout COMPLETED."""
    missing = [k for k in ("ecs_cluster_name", "ecs_service_name", "ecs_task_definition_arn") if not outputs.get(k)]
    if missing:
        raise DeployError(f"cannot check the rollout: the stack has no output {', '.join(missing)}")
    declared = str(outputs["ecs_task_definition_arn"])
    command = describe_service_command(region, str(outputs["ecs_cluster_name"]), str(outputs["ecs_service_name"]))
    waited = 0.0
    while True:
        result = runner.run(command)
        if result.returncode != 0:
            raise DeployError(f"`{shlex.join(command)}` failed: {result.stderr.strip()} (needs ecs:DescribeServices)")
        deployments = json.loads(result.stdout or "[]") or []
        primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
        if primary is None:
            raise DeployError("the ECS service has no PRIMARY deployment")
        running, state = primary.get("taskDefinition"), primary.get("rolloutState")
        if running != declared:
            raise DeployError(f"the service's PRIMARY deployment runs {running}, not {declared} which this deploy "
                              "declared: the deployment circuit breaker rolled back (see the service's events "
                              "and the backend logs)")
        if state == "COMPLETED":
            return f"rollout completed: PRIMARY deployment runs {declared}"
        if state == "FAILED":
            raise DeployError(f"the rollout of {declared} FAILED: {primary.get('rolloutStateReason', '')}")
        if waited >= timeout:
            raise DeployError(f"the rollout of {declared} is still {state} after {timeout:g} s")
        runner.say(f"rollout {state}: {primary.get('runningCount')}/{primary.get('desiredCount')} tasks; "
                   f"waiting {interval:g} s")
        runner.sleep(interval)
        waited += interval


PREVIEW_ENV = "FLOYO_PREVIEW_WITHOUT_DB_CREDENTIALS=1"
"""The preflight preview plans the database objects without the tunnel (components/database_objects.py)."""
REPLACE_OPS = frozenset({"replace", "create-replacement", "delete-replaced"})
"""Step ops of a replacement in `pulumi preview --json`: its `steps[]` carry `op`, `urn`, `oldState` and
`newState` (apitype.ResourceV3: `type`, `inputs`, `outputs`) (pulumi/pulumi sdk/go/common/display PreviewDigest, PreviewStep)."""


def preview_command(stack: str) -> tuple[str, ...]:
    return ("env", PREVIEW_ENV, "pulumi", "preview", "--stack", stack, "--json", "--non-interactive")


def halted_replacements(preview: Mapping[str, Any]) -> list[str]:
    """The replacements in a `pulumi preview --json` document that would stop halfway, with why."""
    found: dict[str, str] = {}
    for step in preview.get("steps") or []:
        if step.get("op") not in REPLACE_OPS:
            continue
        # only the cluster that exists now decides whether RDS refuses its delete: the old state's
        # deletionProtection (inputs or outputs), never the replacement's (newState)
        old = step.get("oldState") or {}
        urn = str(step.get("urn", ""))
        token = old.get("type") or (step.get("newState") or {}).get("type") or leaf_type(urn)
        why = halted_replacement(token, old.get("inputs") or {}) or halted_replacement(token, old.get("outputs") or {})
        if why:
            found[urn] = f"{urn}: {why}"
    return sorted(found.values())


def preview_errors(doc: Any) -> list[str]:
    """The `diagnostics[]` of severity `error` in a `pulumi preview --json` digest (`urn`, `message`,
    `severity`: pulumi/pulumi PreviewDiagnostic), where a failed preview says why (policy violations too)."""
    if not isinstance(doc, dict):
        return []
    found: list[str] = []
    for d in doc.get("diagnostics") or []:
        if isinstance(d, dict) and d.get("severity") == "error":
            message = str(d.get("message", "")).strip()
            found.append(f"{d['urn']}: {message}" if d.get("urn") else message)
    return found


def preflight(stack: str, runner: Runner) -> None:
    """Refuse the deploy, before any phase, when its preview holds a replacement that would stop halfway."""
    runner.say(f"== preflight: {shlex.join(preview_command(stack))}")
    result = runner.run(preview_command(stack))
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        doc = None
    if result.returncode != 0 or not isinstance(doc, dict):
        errors = preview_errors(doc)
        raise DeployError(f"preflight preview failed (exit {result.returncode}): "
                          + ("; ".join(errors) + "; " if errors else "") + result.stderr.strip()[-500:])
    halted = halted_replacements(doc)
    if halted:
        raise DeployError("refused before any phase, the update would stop halfway: " + "; ".join(halted))


def _print_plan(stack: str, phases: list[Phase], outputs: Mapping[str, Any], region: str, port: int) -> None:
    def output(name: str) -> str:
        return str(outputs.get(name) or f"<{name}>")

    target = Target("", region, output(ACCESS_OUTPUT), output("database_writer_endpoint"), port)
    print("# preflight: refused if a replacement in the preview would stop halfway (ops.diff.danger.HALTED_REPLACEMENT)")
    print(shlex.join(preview_command(stack)))
    for i, phase in enumerate(phases, 1):
        print(f"# phase {i}/{len(phases)} {phase.name}: {phase.why}")
        if phase.tunnel:
            print(f"#   inside the tunnel: {shlex.join(session_command(target))}")
        print(shlex.join(phase.argv))
    print("# then: the PRIMARY deployment must run ecs_task_definition_arn and its rollout be COMPLETED")
    print(shlex.join(describe_service_command(region, output("ecs_cluster_name"), output("ecs_service_name"))))


def deploy(stack: str, runner: Runner, plan: Plan, stack_dir: Path | None = None, dry_run: bool = False,
           ssm_timeout: float = 600) -> int:
    """The CLI command: 0 when every phase ran and the rollout completed. Raises `DeployError`/`TunnelError`."""
    require_tools(runner, ("pulumi",) if dry_run else ("pulumi", "aws", "session-manager-plugin"))
    region, port = stack_region_and_port(stack, stack_dir)
    outputs = stack_outputs(stack, runner)
    phases = deploy_phases(stack, plan, bootstrap=ACCESS_OUTPUT not in outputs)
    if dry_run:
        _print_plan(stack, phases, outputs, region, port)
        return 0
    preflight(stack, runner)
    with ExitStack() as tunnel:
        opened = False
        for i, phase in enumerate(phases, 1):
            if phase.tunnel and not opened:
                target = locate(stack, runner, stack_outputs(stack, runner), region, port)
                wait_until_online(target, runner, ssm_timeout)
                tunnel.enter_context(open_tunnel(target, runner))
                opened = True
            runner.say(f"== phase {i}/{len(phases)} {phase.name}: {phase.why}")
            code = runner.run(phase.argv, capture=False).returncode
            if code != 0:
                raise DeployError(f"phase {phase.name} failed (exit {code}): {shlex.join(phase.argv[:4])} ...")
    runner.say(verify_rollout(stack_outputs(stack, runner), region, runner))
    return 0

