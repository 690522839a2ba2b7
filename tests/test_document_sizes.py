"""Derived documents within AWS's hard limits: the policy on planned resources (policy/floyo_policies/
document_sizes.py) and the settings-level estimates that refuse input before anything is declared
(stacks/doc_limits.py). Each limit's source is cited where it is encoded."""

from __future__ import annotations

import json

import pytest

from stacks import SettingsError
from stacks.doc_limits import TASK_DEFINITION_ALLOWANCE
from tests.data_variants import DEV_DATA, FLAGS, dev_data, prod_tenants, prod_tenants_config
from tests.planning import container_definitions, one, settings_for, stack_plan, with_changes
from tests.policy_fixtures import check, messages, res

POLICY = "derived-document-sizes"


def _doc(chars: int) -> str:
    """A policy document of about `chars` characters without whitespace."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::" + "b" * max(chars - 100, 1)}]})


def test_managed_policy_over_6144_characters_is_refused() -> None:
    assert "managed policy big: " in messages(check(res("aws:iam/policy:Policy", "big", {"policy": _doc(6300)}),
                                                    policy=POLICY), POLICY)[0]
    assert not check(res("aws:iam/policy:Policy", "ok", {"policy": _doc(6000)}), policy=POLICY).findings


def test_a_roles_inline_policies_count_together_against_10240() -> None:
    role = res("aws:iam/role:Role", "exec", {"assumeRolePolicy": _doc(200)})
    parts = [res("aws:iam/rolePolicy:RolePolicy", f"p{i}", {"policy": _doc(5500)}, refs={"role": [role]})
             for i in range(2)]
    found = messages(check(role, *parts, policy=POLICY), POLICY)
    assert len(found) == 1 and "inline policies of" in found[0] and "10240 per role" in found[0]
    assert not check(role, parts[0], policy=POLICY).findings


def test_trust_policy_and_task_definition_and_dashboard_limits() -> None:
    role = res("aws:iam/role:Role", "r", {"assumeRolePolicy": _doc(2200)})
    task = res("aws:ecs/taskDefinition:TaskDefinition", "t", {"containerDefinitions": json.dumps(
        [{"name": "app", "environment": [{"name": f"V{i}", "value": "x" * 60} for i in range(1000)]}])})
    board = res("aws:cloudwatch/dashboard:Dashboard", "ops", {"dashboardBody": json.dumps(
        {"widgets": [{"type": "metric", "properties": {"metrics": [["A", "B"]] * 500}}] * 6})})
    found = messages(check(role, task, board, policy=POLICY), POLICY)
    assert any("trust policy of" in m for m in found)
    assert any("task definition t: " in m and "of them container definitions" in m and "65536" in m for m in found)
    assert any("dashboard ops: 3000 metrics" in m for m in found)


def test_the_task_definitions_other_fields_count_against_64_kib() -> None:
    """Container definitions just under 64 KiB, plus volumes that take it over: ECS refuses the whole document."""
    containers = json.dumps([{"name": "app", "environment": [{"name": "V", "value": "x" * (64 * 1024 - 200)}]}])
    assert len(containers.encode()) < 64 * 1024
    volumes = [{"name": f"volume-{i:04d}", "hostPath": "/" + "v" * 30} for i in range(200)]
    over = res("aws:ecs/taskDefinition:TaskDefinition", "t", {"containerDefinitions": containers, "volumes": volumes})
    found = messages(check(over, policy=POLICY), POLICY)
    assert len(found) == 1 and "task definition t: " in found[0]
    alone = res("aws:ecs/taskDefinition:TaskDefinition", "t", {"containerDefinitions": containers,
                                                               "tags": {"k": "v" * 250}})
    assert not check(alone, policy=POLICY).findings  # tags are not part of the definition


def test_the_planned_stacks_fit_every_document_limit() -> None:
    for stack in ("dev", "prod"):
        assert not check(*stack_plan(stack).resources, policy=POLICY).findings, stack


def test_thousands_of_feature_flags_are_refused_before_any_resource() -> None:
    """Issue 22: 3,000 flags made a task definition over ECS's 64 KiB and passed offline."""
    flags = {f"flag_{i:05d}_{'x' * 30}": True for i in range(2000)}
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("dev", {"backend": {"feature_flags": flags}}))
    assert "floyo-infra:backend: got 2002 variables" in str(caught.value)  # with dev's own flag and APP_VERSION
    assert "65536 bytes (64 KiB" in str(caught.value)
    settings_for(with_changes("dev", {"backend": {"feature_flags": dict(list(flags.items())[:100])}}))


def test_the_allowance_covers_what_the_settings_do_not_size() -> None:
    """What the settings-level estimate leaves out (image, ports, program variables, sidecars) fits its allowance,
    and every user variable it counts is in the planned container definitions."""
    # fifty flags (FLAGS) in each stack's variant, both planned whole
    for stack, config, plan in (("dev", with_changes("dev", DEV_DATA), dev_data()),
                                ("prod", prod_tenants_config(), prod_tenants())):
        settings = settings_for(config)
        assert FLAGS.items() <= settings.backend.feature_flags.items()
        text = one(plan, "aws:ecs/taskDefinition:TaskDefinition", "backend-task").inputs["containerDefinitions"]
        b = settings.backend
        counted = {**b.environment, "APP_VERSION": b.app_version,
                   **{f"FEATURE_{f.upper()}": "true" if on else "false" for f, on in b.feature_flags.items()}}
        names = {e["name"] for c in container_definitions(plan) for e in c.get("environment", [])}
        assert set(counted) <= names
        estimate = len(json.dumps([{"name": k, "value": v} for k, v in counted.items()]))
        assert len(text.encode()) - estimate < TASK_DEFINITION_ALLOWANCE, stack


@pytest.mark.parametrize(("flags", "hint"), [
    ({"new-editor": True}, "letters, digits and underscores"),
    ({"new editor": True}, "letters, digits and underscores"),
    ({"beta": True, "BETA": False}, "become the same variable"),
])
def test_feature_flags_whose_variable_names_would_be_refused(flags: dict[str, bool], hint: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("dev", {"backend": {"feature_flags": flags}}))
    assert "floyo-infra:backend.feature_flags: got names" in str(caught.value) and hint in str(caught.value)


def test_many_secret_arns_overflow_the_execution_roles_policy() -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:floyo/dev/{}-AbCdEf"
    secrets = {f"S_{i}": arn.format("x" * 40 + str(i)) for i in range(120)}
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("dev", {"backend": {"secrets": secrets}}))
    assert "floyo-infra:backend.secrets: got 120 secret ARNs" in str(caught.value)
