"""docs/first-deploy.md's commands agree with the program: the image platform, the registry's region, the
organization every stack is created in."""

from __future__ import annotations

import re

from ops.ci.stacks import baseline_entries, matrices
from ops.stackfile import ROOT
from tests.planning import stack_plan

RUNBOOK = ROOT / "docs" / "first-deploy.md"
PLATFORMS = {"X86_64": "linux/amd64", "ARM64": "linux/arm64"}
"""ECS `runtimePlatform.cpuArchitecture` -> Docker's `--platform`."""


def _commands(prefix: str) -> list[str]:
    return [line for line in RUNBOOK.read_text().splitlines() if line.startswith(prefix)]


def test_the_image_is_built_for_the_architecture_every_task_definition_declares() -> None:
    builds = _commands("docker build")
    assert builds, "the runbook builds the first image"
    platforms = {m.group(1) for b in builds if (m := re.search(r"--platform (\S+)", b))}
    assert len(platforms) == len(builds), f"a build without --platform gives the builder's own arch: {builds}"
    # the one image is promoted from dev to prod: every stack's tasks must run it
    declared = {PLATFORMS[task.inputs["runtimePlatform"]["cpuArchitecture"]]
                for entry in matrices()["all"]
                for task in stack_plan(entry["stack"]).of_type("aws:ecs/taskDefinition:TaskDefinition")}
    assert declared and platforms == declared, (platforms, declared)


def test_the_registry_login_names_the_region_of_the_baseline_that_holds_the_repository() -> None:
    logins = _commands("aws ecr get-login-password")
    assert logins and all(re.search(r"--region (\S+)", x) for x in logins), logins
    regions = {e["region"] for e in baseline_entries()}
    assert {re.search(r"--region (\S+)", x).group(1) for x in logins} <= regions  # type: ignore[union-attr]


def test_every_stack_is_created_in_the_organization() -> None:
    text = RUNBOOK.read_text()
    assert "pulumi org set-default ORG" in text
    inits = [line.split()[3] for line in _commands("pulumi stack init")]
    assert inits and all(re.fullmatch(r"ORG/[a-z-]+/[a-z0-9-]+", s) for s in inits), inits
