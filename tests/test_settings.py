"""Settings are the contract of every stack: each bad value is rejected, by name."""

from __future__ import annotations

import json

import pytest

from stacks import SettingsError, load_settings
from stacks.backend import FARGATE_MEMORY
from tests.planning import settings_for, with_changes

GOOD_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/floyo-backend@sha256:" + "a" * 64


def error_for(stack: str, changes: dict, drop: tuple[str, ...] = ()) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes(stack, changes, drop))
    return caught.value


def test_committed_stacks_are_valid(stack: str) -> None:
    settings = settings_for(with_changes(stack))
    assert settings.tier == stack


def test_profiles_fill_tier_defaults() -> None:
    dev = settings_for(with_changes("dev"))
    prod = settings_for(with_changes("prod"))
    assert (dev.network.az_count, prod.network.az_count) == (2, 3)
    assert (dev.network.nat, prod.network.nat) == ("single", "per_az")
    assert dev.backend.min_tasks == 1 and prod.backend.min_tasks >= 2
    assert prod.backend.deletion_protection is True


@pytest.mark.parametrize(
    ("changes", "path", "hint"),
    [
        ({"backend": {"cpu": 300}}, "floyo-infra:backend.cpu", "256, 512, 1024"),
        ({"backend": {"cpu": "lots"}}, "floyo-infra:backend.cpu", "256"),
        ({"backend": {"cpu": 512, "memory": 999}}, "floyo-infra:backend.memory", "1024, 2048, 3072, 4096"),
        ({"backend": {"image": "floyo/backend:latest"}}, "floyo-infra:backend.image", "sha256"),
        ({"backend": {"image": "repo@sha256:abc"}}, "floyo-infra:backend.image", "digest"),
        ({"backend": {"bogus": 1}}, "floyo-infra:backend.bogus", "valid keys here"),
        ({"backend": {"min_tasks": 3, "max_tasks": 2}}, "floyo-infra:backend.max_tasks", "min_tasks"),
        ({"backend": {"environment": {"DB_PASSWORD": "x"}}}, "floyo-infra:backend.environment", "secrets"),
        ({"backend": {"environment": {"lower": "x"}}}, "floyo-infra:backend.environment", "UPPER_SNAKE_CASE"),
        ({"backend": {"secrets": {"API": "plain-value"}}}, "floyo-infra:backend.secrets", "ARN"),
        ({"backend": {"log_retention_days": 10}}, "floyo-infra:backend.log_retention_days", "14"),
        ({"backend": {"health_check": {"path": "health"}}}, "floyo-infra:backend.health_check.path", "/health"),
        ({"backend": {"health_check": {"interval_seconds": 5, "timeout_seconds": 5}}},
         "floyo-infra:backend.health_check.timeout_seconds", "interval_seconds"),
        ({"backend": {"tls_policy": "ELBSecurityPolicy-2016-08"}}, "floyo-infra:backend.tls_policy", "TLS13"),
        ({"network": {"az_count": 1}}, "floyo-infra:network.az_count", "greater than or equal to 2"),
        ({"network": {"cidr": "10.0.0.0/8"}}, "floyo-infra:network.cidr", "/16 to /20"),
        ({"network": {"cidr": "8.8.0.0/16"}}, "floyo-infra:network.cidr", "private"),
        ({"network": {"nat": "many"}}, "floyo-infra:network.nat", "single"),
        ({"cdn": {"zone": "Not A Zone"}}, "floyo-infra:cdn.zone", "DNS name"),
        ({"tier": "staging"}, "floyo-infra:tier", "'dev' or 'prod'"),
        ({"tenants": [{"slug": "Bad-Slug"}]}, "floyo-infra:tenants[Bad-Slug].slug", "pattern"),
        ({"surprise": {"x": 1}}, "floyo-infra:surprise", "valid keys here: account, allow_plain_secrets, backend"),
    ],
)
def test_bad_value_is_named(stack: str, changes: dict, path: str, hint: str) -> None:
    message = str(error_for(stack, changes))
    assert f"{path}:" in message
    assert hint in message


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"network": {"nat": "single"}}, "floyo-infra:network.nat"),
        ({"backend": {"min_tasks": 1}}, "floyo-infra:backend.min_tasks"),
        ({"backend": {"deletion_protection": False}}, "floyo-infra:backend.deletion_protection"),
        ({"network": {"az_count": 1}}, "floyo-infra:network.az_count"),
    ],
)
def test_prod_guardrails(changes: dict, path: str) -> None:
    assert path + ":" in str(error_for("prod", changes))
    # The same relaxation is allowed in dev, except where AWS itself needs two AZs.
    if path != "floyo-infra:network.az_count":
        settings_for(with_changes("dev", changes))


def test_every_problem_in_one_error() -> None:
    err = error_for("prod", {"backend": {"cpu": 3, "bogus": True, "min_tasks": 1}, "network": {"nat": "single"}})
    paths = {p.path for p in err.problems}
    assert paths == {"floyo-infra:backend.cpu", "floyo-infra:backend.bogus",
                     "floyo-infra:backend.min_tasks", "floyo-infra:network.nat"}
    assert str(err).startswith("invalid settings for stack 'prod' (4 problems)")


def test_missing_required_keys() -> None:
    err = error_for("dev", {}, drop=("backend",))
    assert "floyo-infra:backend.image: got nothing; this key is required" in str(err)


def test_secret_values_are_masked_in_errors() -> None:
    secret = "hunter2-super-secret"
    config = {"floyo-infra:tier": "dev", "floyo-infra:backend": json.dumps({"image": GOOD_IMAGE, "cpu": secret})}
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", config, secret_keys=["floyo-infra:backend"])
    assert secret not in str(caught.value)
    assert "[secret]" in str(caught.value)


@pytest.mark.parametrize("cpu", sorted(FARGATE_MEMORY))
def test_every_fargate_pair_is_accepted(cpu: int) -> None:
    for memory in FARGATE_MEMORY[cpu]:
        settings_for(with_changes("dev", {"backend": {"cpu": cpu, "memory": memory}}))


def test_other_namespaces_are_left_to_providers() -> None:
    config = with_changes("dev")
    values = dict(config.values) | {"aws:skipCredentialsValidation": "true", "cloudflare:apiToken": "x"}
    load_settings("dev", values)
