"""Secrets as documented (issue 11): placeholders that pass their field's checks, no secret in a
plain field, no user value over the program's own variables, masking limited to the secrets."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from ops.stackfile import ROOT, read_stack_config
from stacks import SettingsError, load_settings
from stacks.loader import offline_placeholder, secret_paths
from stacks.program_env import PROGRAM_ENV, PROGRAM_SECRETS, is_reserved
from tests.planning import container_definitions, one, settings_for, stack_plan, with_changes

CIPHERTEXT = "v1:AAAAbm90LWEtcmVhbC1jaXBoZXJ0ZXh0"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:floyo/x-AbCdEf"


def stack_file(tmp_path: Path, extra: str, stack: str = "dev") -> Path:
    """A copy of `stack`'s file with `extra` lines appended under `config:`."""
    path = tmp_path / f"Pulumi.{stack}.yaml"
    shutil.copy(ROOT / f"Pulumi.{stack}.yaml", path)
    with path.open("a") as fh:
        fh.write(extra)
    return path


def problems_in(tmp_path: Path, stack: str = "dev") -> dict[str, str]:
    config = read_stack_config(stack, tmp_path)
    with pytest.raises(SettingsError) as caught:
        load_settings(stack, config.values, config.secret_keys, config.secure_paths)
    return {p.path: f"got {p.given}; {p.allowed}" for p in caught.value.problems}


@pytest.mark.parametrize("path", secret_paths())
def test_each_secret_fields_placeholder_passes_its_checks(path: str, stack: str) -> None:
    """The offline placeholder of a `secure:` value used to fail `must be an https:// URL`."""
    section, key = path.split(".", 1)
    placeholder = offline_placeholder(f"floyo-infra:{path}")
    assert "offline-placeholder-secret-for-floyo-infra:" + path in placeholder
    config = with_changes(stack, {section: {key: placeholder}})
    config = dataclasses.replace(config, secret_keys=[*config.secret_keys, f"floyo-infra:{section}"],
                                 secure_paths=[*config.secure_paths, f"floyo-infra:{path}"])
    settings = settings_for(config)
    assert getattr(settings, section).model_dump()[key] is not None


@pytest.mark.parametrize("stack", ["dev", "prod"])
@pytest.mark.parametrize("path", secret_paths())
def test_a_plain_value_in_a_secret_field_is_refused(path: str, stack: str) -> None:
    """`monitoring.webhook_url: https://...` in plain text used to be accepted, so the secret sat in git."""
    section, key = path.split(".", 1)
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes(stack, {section: {key: offline_placeholder(f"floyo-infra:{path}")}}))
    assert f"floyo-infra:{path}: got a plain-text value; a secret field takes only" in str(caught.value)
    assert "offline-placeholder" not in str(caught.value)


def test_dev_may_accept_plain_secrets_by_name_and_prod_may_not() -> None:
    value = {"monitoring": {"webhook_url": offline_placeholder("floyo-infra:monitoring.webhook_url")},
             "allow_plain_secrets": True}
    assert settings_for(with_changes("dev", value)).allow_plain_secrets
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("prod", value))
    assert "floyo-infra:allow_plain_secrets" in str(caught.value)


def test_secret_fields_are_the_documented_ones() -> None:
    readme = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))])
    for path in secret_paths():
        assert f"pulumi config set --secret --path 'floyo-infra:{path}'" in readme, path


@pytest.mark.parametrize(("extra", "key"), [
    ("  floyo-infra:backend:\n    environment:\n      API_BASE:\n        secure: " + CIPHERTEXT + "\n", None),
    ("  floyo-infra:monitoring:\n    alert_emails:\n      - secure: " + CIPHERTEXT + "\n",
     "floyo-infra:monitoring.alert_emails[0]"),
    ("  floyo-infra:tier:\n    secure: " + CIPHERTEXT + "\n", "floyo-infra:tier"),
])
def test_a_secure_value_in_a_plain_field_is_refused_by_name(tmp_path: Path, extra: str, key: str | None) -> None:
    """A `secure:` value under backend.environment used to land in plain text in the task definition."""
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    if key is None:  # merge into dev's existing backend section
        text = text.replace("  floyo-infra:backend:\n", extra.split("\n", 1)[0] + "\n" + "    environment:\n"
                            f"      API_BASE:\n        secure: {CIPHERTEXT}\n", 1)
        key = "floyo-infra:backend.environment.API_BASE"
    elif key == "floyo-infra:tier":
        text = text.replace("  floyo-infra:tier: dev\n", extra)
    else:
        text += extra
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    problems = problems_in(tmp_path)
    assert key in problems, problems
    assert "not a secret field" in problems[key] and "monitoring.webhook_url, monitoring.sentry_dsn" in problems[key]
    assert CIPHERTEXT not in json.dumps(problems)


def test_a_secure_provider_setting_that_is_not_a_credential_is_refused(tmp_path: Path) -> None:
    text = (ROOT / "Pulumi.dev.yaml").read_text().replace(
        "      managed-by: pulumi\n", f"      managed-by: pulumi\n      owner:\n        secure: {CIPHERTEXT}\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(text + f"  cloudflare:apiToken:\n    secure: {CIPHERTEXT}\n")
    problems = problems_in(tmp_path)
    assert "aws:defaultTags.tags.owner" in problems and "cloudflare:apiToken" not in problems, problems


def test_masking_covers_only_the_secret_keys(tmp_path: Path) -> None:
    """One secret in a section used to mask every value of it in errors (`got [secret]`)."""
    stack_file(tmp_path, f"  floyo-infra:monitoring:\n    alert_emails: [ops@floyo.dev]\n    webhook_url:\n"
                         f"      secure: {CIPHERTEXT}\n    tracing_sample_rate: 7\n")
    problems = problems_in(tmp_path)
    assert problems == {"floyo-infra:monitoring.tracing_sample_rate": "got 7; Input should be less than or equal to 1"}


def test_an_invalid_secret_is_still_masked() -> None:
    secret = "http://not-https.example.com/hook-token-1234"
    config = with_changes("dev", {"monitoring": {"webhook_url": secret}})
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", config.values, ["floyo-infra:monitoring"], ["floyo-infra:monitoring.webhook_url"])
    assert secret not in str(caught.value) and "floyo-infra:monitoring.webhook_url: got [secret]" in str(caught.value)


@pytest.mark.parametrize(("section", "name"), [
    ("environment", "DATABASE_URL"), ("environment", "DATABASE_HOST"), ("environment", "FEATURE_NEW_EDITOR"),
    ("environment", "OTEL_SERVICE_NAME"), ("secrets", "REDIS_URL"), ("secrets", "SENTRY_DSN"),
])
def test_names_the_program_sets_are_refused(section: str, name: str) -> None:
    """DATABASE_URL, REDIS_URL, DATABASE_HOST under backend used to be silently overridden or duplicated."""
    value = ARN if section == "secrets" else "x"
    config = with_changes("dev", {"backend": {section: {name: value}}})
    with pytest.raises(SettingsError) as caught:
        settings_for(config)
    (problem,) = caught.value.problems
    assert problem.path == f"floyo-infra:backend.{section}" and name in problem.given
    assert "reserved names: DATABASE_URL, DATABASE_READ_URL, REDIS_URL, REDIS_AUTH_TOKEN" in problem.allowed


def test_a_name_both_plain_and_secret_is_refused() -> None:
    config = with_changes("dev", {"backend": {"environment": {"API_BASE": "x"}, "secrets": {"API_BASE": ARN}}})
    with pytest.raises(SettingsError) as caught:
        settings_for(config)
    assert "either plain or secret" in str(caught.value)


def test_the_reserved_list_is_what_the_program_sets(stack: str) -> None:
    """Every variable the program gives the container is listed, so the settings refuse all of them."""
    plan = stack_plan(stack)
    settings = settings_for(with_changes(stack))
    backend = next(c for c in container_definitions(plan) if c["name"] == "backend")
    env = {e["name"] for e in backend["environment"]} - set(settings.backend.environment)
    secrets = {s["name"] for s in backend["secrets"]} - set(settings.backend.secrets)
    assert env
    assert all(is_reserved(n) for n in env | secrets), sorted(n for n in env | secrets if not is_reserved(n))
    assert secrets <= set(PROGRAM_SECRETS)
    assert not {"REDIS_URL", "REDIS_AUTH_TOKEN"} & secrets  # the cache: IAM, no token reaches the task
    assert not {"DATABASE_URL", "DATABASE_READ_URL"} & secrets  # IAM tokens: no database password reaches the task
    assert {n for n in env if not n.startswith("FEATURE_")} <= set(PROGRAM_ENV)
    one(plan, "aws:ecs/taskDefinition:TaskDefinition", "backend-task")


def test_missing_region_is_named() -> None:
    config = with_changes("dev")
    values = {k: v for k, v in config.values.items() if k != "aws:region"}
    with pytest.raises(SettingsError) as caught:
        load_settings("dev", values)
    assert "aws:region: got nothing; this key is required" in str(caught.value)
