"""The release phases, in order: `pulumi up` without the ECS service, the migration, the full
`pulumi up`, the synthetic-check gate. Each phase must succeed before the next one starts, so a
failed migration stops the release before any task of the new revision serves traffic.

`release_phases()` is what a deploy command runs (it passes its own `pulumi up` command line, e.g.
with the database tunnel's environment); `python -m ops.release STACK` prints the phases.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ops.plan import PROJECT

SERVICE_URN_TAIL = "floyo:backend:BackendService$aws:ecs/service:Service::backend-service"
"""Type chain and name of the ECS service (parent component type, then the resource's)."""


def service_urn(stack: str) -> str:
    """The ECS service's URN in `stack` (excluded from the first `pulumi up`)."""
    return f"urn:pulumi:{stack}::{PROJECT}::{SERVICE_URN_TAIL}"


@dataclass(frozen=True)
class Phase:
    """One step of a release: a name for the log and the command line."""

    name: str
    command: list[str]


def release_phases(stack: str, pulumi_up: Sequence[str] | None = None, python: str = sys.executable) -> list[Phase]:
    """The four phases for `stack`; `pulumi_up` is the base `pulumi up` command (default
    `pulumi up --yes --stack STACK`)."""
    up = list(pulumi_up) if pulumi_up is not None else ["pulumi", "up", "--yes", "--stack", stack]
    return [
        Phase("declare everything but the service (the migrate task definition of the new image)",
              [*up, "--exclude", service_urn(stack)]),
        Phase("migrate the database (one-off task, new image, migrator login)", [python, "-m", "ops", "migrate", stack]),
        Phase("update the service (gradual rollout, alarm rollback)", up),
        Phase("wait for the synthetic check", [python, "-m", "ops", "canary-gate", stack]),
    ]


def run_phases(phases: Sequence[Phase], runner: Callable[[list[str]], int] | None = None,
               say: Callable[[str], None] = print) -> int:
    """Run the phases in order; the first non-zero exit code stops the release and is returned."""
    run = runner or (lambda command: subprocess.run(command, check=False).returncode)
    for number, phase in enumerate(phases, start=1):
        say(f"release phase {number}/{len(phases)}: {phase.name}")
        code = run(phase.command)
        if code != 0:
            say(f"release STOPPED at phase {number} ({phase.name}): exit code {code}; later phases did not run")
            return code
    say("release complete")
    return 0


if __name__ == "__main__":
    for phase in release_phases(sys.argv[1] if len(sys.argv) > 1 else "STACK", python="python"):
        print(" ".join(repr(a) if "$" in a else a for a in phase.command), "  #", phase.name)
