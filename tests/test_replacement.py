"""The replacement table covers every resource type the program declares, with inputs that exist."""

from __future__ import annotations

import importlib
import inspect
import re

import pytest

from ops.diff.replacement import REPLACEMENT, direct_replacements, missing
from ops.plan.planner import Plan

SDK = {"aws": "pulumi_aws", "cloudflare": "pulumi_cloudflare", "postgresql": "pulumi_postgresql", "random": "pulumi_random"}


def test_every_declared_type_has_a_replacement_entry(plan: Plan) -> None:
    declared = {r.type for r in plan.resources if r.custom}
    gaps = missing(declared)
    assert not gaps, ("no entry in ops/diff/replacement.py REPLACEMENT for: " + ", ".join(gaps)
                      + ' (add `"<type>": forces(...)`, `every_input(...)` or `none(...)` with its source)')


def test_missing_names_exactly_the_types_without_an_entry() -> None:
    assert missing(["aws:ec2/vpc:Vpc", "aws:ec2/fleet:Fleet", "x:y/z:Z"]) == ["aws:ec2/fleet:Fleet", "x:y/z:Z"]


def _sdk_inputs(token: str) -> set[str] | None:
    """The camelCase input names of `token`'s Python SDK class, or None for a provider resource."""
    package, module, cls = re.fullmatch(r"([a-z]+):([a-zA-Z0-9]+)(?:/[a-zA-Z0-9]+)?:(\w+)", token).groups()  # type: ignore[union-attr]
    if package not in SDK:
        return None
    mod = importlib.import_module(SDK[package] if module == "index" else f"{SDK[package]}.{module.lower()}")
    params = inspect.signature(getattr(mod, cls)._internal_init).parameters
    return {re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), p) for p in params}


@pytest.mark.parametrize("token", sorted(REPLACEMENT))
def test_each_entry_names_a_source_and_real_inputs(token: str) -> None:
    rule = REPLACEMENT[token]
    assert rule.source.strip(), f"{token}: say where the replace-forcing inputs were read"
    inputs = _sdk_inputs(token)
    if inputs is None:
        return
    named = {p.split(".")[0] for p in rule.forces} | set(rule.when) | set(rule.follows)
    unknown = sorted(named - inputs)
    assert not unknown, f"{token}: {unknown} are not inputs of the SDK resource (typo or snake_case?)"


def test_forcing_inputs_replace_and_other_inputs_update_in_place() -> None:
    vpc = "aws:ec2/vpc:Vpc"
    assert direct_replacements(vpc, {"cidrBlock": "10.0.0.0/16"}, {"cidrBlock": "10.1.0.0/16"}, ["cidrBlock"]) == [
        "cidrBlock"]
    assert direct_replacements(vpc, {"enableDnsHostnames": False}, {"enableDnsHostnames": True},
                               ["enableDnsHostnames"]) == []
    service = "aws:ecs/service:Service"  # a nested path: deploymentController.type
    before, after = {"deploymentController": {"type": "ECS"}}, {"deploymentController": {"type": "CODE_DEPLOY"}}
    assert direct_replacements(service, before, after, ["deploymentController.type"]) == ["deploymentController.type"]
    task = "aws:ecs/taskDefinition:TaskDefinition"  # every input but tags
    assert direct_replacements(task, {}, {}, ["cpu", "tags.team"]) == ["cpu"]


def test_conditional_inputs_replace_only_when_the_provider_says_so() -> None:
    redis = "aws:elasticache/replicationGroup:ReplicationGroup"
    up = direct_replacements(redis, {"engineVersion": "7.0"}, {"engineVersion": "7.1"}, ["engineVersion"])
    down = direct_replacements(redis, {"engineVersion": "7.1"}, {"engineVersion": "6.2"}, ["engineVersion"])
    assert up == [] and down == ["engineVersion"]
    to_valkey = direct_replacements(redis, {"engine": "redis"}, {"engine": "valkey"}, ["engine"])
    assert to_valkey == []
