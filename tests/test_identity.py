"""One identity per stack (issue 11): names AWS accepts, a tier that fits the name, a zone of its own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ops.plan.planner import plan_config
from ops.stackfile import ROOT, StackConfig, read_stack_config
from stacks import SettingsError, load_settings
from stacks.identity import DERIVED_NAMES, MAX_STACK_NAME
from tests.planning import as_stack, settings_for, with_changes


def problems_of(stack: str, config: StackConfig) -> dict[str, str]:
    with pytest.raises(SettingsError) as caught:
        load_settings(stack, config.values, config.secret_keys, config.secure_paths)
    return {p.path: f"got {p.given}; {p.allowed}" for p in caught.value.problems}


@pytest.mark.parametrize("name", ["prod_eu", "Prod", "prod--eu", "prod-", "1prod", "staging.eu"])
def test_stack_names_aws_refuses_are_refused(name: str) -> None:
    """`prod_eu` used to give an RDS cluster id with an underscore."""
    problems = problems_of(name, with_changes("dev"))
    assert "lower-case letters and digits" in problems["stack name"], problems


def test_a_stack_name_too_long_for_a_derived_id_is_refused() -> None:
    """A 38-character stack name used to give a 44-character ElastiCache replication group id (limit 40)."""
    name = "staging-" + "x" * 30
    problems = problems_of(name, with_changes("dev"))
    assert f"at most {MAX_STACK_NAME}" in problems["stack name"], problems
    load_settings("s" * MAX_STACK_NAME, as_stack(with_changes("dev"), "s" * MAX_STACK_NAME).values)  # fits
    assert "stack name" in problems_of("s" * (MAX_STACK_NAME + 1), with_changes("dev"))


def test_the_longest_stack_name_fits_every_physical_name_in_the_plan() -> None:
    """Plan with the longest allowed name and hold each AWS identifier to its API's limit."""
    stack = "q" * MAX_STACK_NAME
    config = as_stack(with_changes("prod"), stack)
    plan = plan_config(StackConfig(stack, config.values, config.secret_keys, config.secure_paths))
    limits = {  # resource type -> identifier input -> the API's length limit
        "aws:rds/cluster:Cluster": {"clusterIdentifier": 63},
        "aws:rds/clusterInstance:ClusterInstance": {"identifier": 63},
        "aws:rds/proxy:Proxy": {"name": 63},
        "aws:rds/proxyEndpoint:ProxyEndpoint": {"dbProxyEndpointName": 63},
        "aws:elasticache/replicationGroup:ReplicationGroup": {"replicationGroupId": 40},
        "aws:s3/bucket:Bucket": {"bucketPrefix": 37},
        "aws:ecs/taskDefinition:TaskDefinition": {"family": 255},
    }
    checked = 0
    for resource in plan.resources:
        for key, limit in limits.get(resource.type, {}).items():
            value = resource.inputs.get(key)
            if isinstance(value, str) and stack in value:
                assert len(value) <= limit, f"{resource.type} {key} {value!r} is {len(value)} > {limit}"
                checked += 1
    assert checked >= 7, checked
    assert any(d.room() == MAX_STACK_NAME for d in DERIVED_NAMES)


def test_a_prod_stack_cannot_quietly_run_as_dev() -> None:
    """`tier: dev` on prod used to switch every prod guardrail off without a word."""
    problems = problems_of("prod", with_changes("prod", {"tier": "dev"}))
    assert "floyo-infra:tier" in problems and "tier_override: prod" in problems["floyo-infra:tier"]
    for name in ("prod-eu", "production"):
        assert "floyo-infra:tier" in problems_of(name, with_changes("prod", {"tier": "dev"}))


def test_the_tier_override_must_name_the_stack_itself() -> None:
    copied = with_changes("prod", {"tier": "dev", "tier_override": "prod-eu"})
    assert "floyo-infra:tier" in problems_of("prod", copied)
    settings = settings_for(with_changes("prod", {"tier": "dev", "tier_override": "prod", "network": {"az_count": 3}}))
    assert settings.tier == "dev"


def test_no_zone_defaults_to_production() -> None:
    """A stack copied from dev without a cdn section used to target prod's zone, floyo.app."""
    problems = problems_of("staging", with_changes("dev", drop=("cdn",)))
    assert problems["floyo-infra:cdn.zone"] == "got nothing; this key is required"


def test_two_stack_files_cannot_share_a_zone(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Pulumi.dev.yaml", tmp_path / "Pulumi.dev.yaml")
    shutil.copy(ROOT / "Pulumi.dev.yaml", tmp_path / "Pulumi.staging.yaml")
    with pytest.raises(SettingsError) as caught:
        read_stack_config("staging", tmp_path)
    (problem,) = caught.value.problems
    assert problem.path == "floyo-infra:cdn.zone" and "Pulumi.dev.yaml already uses this zone" in problem.allowed
    text = (tmp_path / "Pulumi.staging.yaml").read_text().replace("zone: floyo.dev", "zone: floyo-staging.dev")
    (tmp_path / "Pulumi.staging.yaml").write_text(text)
    assert json.loads(read_stack_config("staging", tmp_path).values["floyo-infra:cdn"])["zone"] == "floyo-staging.dev"


def test_the_committed_stacks_have_their_own_zones() -> None:
    for stack in ("dev", "prod"):
        read_stack_config(stack)  # raises on a shared zone
