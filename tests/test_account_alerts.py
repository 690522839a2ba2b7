"""The app's side of the account baseline: alert routing, topic publishers, budget, backups tag, PII masking."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from components.account_alerts import IAM_POLICY_CHANGES
from components.alerting import PUBLISHERS
from components.guardduty_agent import AGENT_REPOSITORY
from components.log_data_protection import PERSONAL_DATA
from ops.plan.mocks import ACCOUNT_ID, FloyoMocks, baseline_outputs
from ops.plan.planner import Plan, plan_config
from stacks.account import aurora_backup_tag, baseline_stack_reference
from stacks.errors import SettingsError
from tests.planning import one, settings_for, with_changes


def topic_arns(plan: Plan) -> dict[str, str]:
    """Kind (page/ticket/alerts) -> topic ARN of the stack's own region."""
    return {t.inputs["name"].rsplit("-", 1)[1]: t.id for t in plan.of_type("aws:sns/topic:Topic")
            if "region" not in t.inputs}


def rules(plan: Plan) -> dict[str, tuple[dict[str, Any], str]]:
    """Rule suffix -> (event pattern, ARN its target sends to)."""
    targets = plan.of_type("aws:cloudwatch/eventTarget:EventTarget")
    found = {}
    for rule in plan.of_type("aws:cloudwatch/eventRule:EventRule"):
        if rule.name.startswith("account-alerts-"):
            (target,) = [t for t in targets if rule.urn in t.dependencies]
            found[rule.name.removeprefix("account-alerts-")] = (json.loads(rule.inputs["eventPattern"]),
                                                                target.inputs["arn"])
    return found


def test_only_the_stack_receiving_account_events_routes_them(plan: Plan, stack: str) -> None:
    found = rules(plan)
    if stack == "dev":
        assert not found and not plan.of_type("aws:costexplorer/anomalySubscription:AnomalySubscription")
        return
    topics = topic_arns(plan)
    assert set(found) == {"guardduty", "securityhub-critical", "backup-failed", "root-use", "iam-policy-change"}
    assert found["guardduty"][0]["detail"]["severity"] == [{"numeric": [">=", 7.0]}]
    assert found["securityhub-critical"][0]["detail"]["findings"]["Severity"]["Label"] == ["CRITICAL"]
    assert set(found["backup-failed"][0]["detail"]["state"]) >= {"FAILED", "ABORTED"}
    assert found["root-use"][0]["detail"]["userIdentity"]["type"] == ["Root"]
    assert found["iam-policy-change"][0]["detail"]["eventName"] == IAM_POLICY_CHANGES
    assert {name: target for name, (_, target) in found.items()} == {
        "guardduty": topics["page"], "securityhub-critical": topics["page"], "root-use": topics["page"],
        "backup-failed": topics["ticket"], "iam-policy-change": topics["ticket"]}


def test_cost_anomalies_reach_the_ticket_topic_from_the_baselines_monitor() -> None:
    from tests.planning import plan_with

    plan = plan_with("prod", {})
    subscription = one(plan, "aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert subscription.inputs["monitorArnLists"] == [baseline_outputs("us-east-1")["anomaly_monitor_arn"]]
    assert subscription.inputs["subscribers"] == [{"type": "SNS", "address": topic_arns(plan)["ticket"]}]
    assert subscription.inputs["frequency"] == "IMMEDIATE"  # SNS subscribers take only IMMEDIATE


def test_each_stack_has_a_budget_on_its_own_stack_tag(plan: Plan, stack: str) -> None:
    budget = one(plan, "aws:budgets/budget:Budget")
    assert budget.inputs["costFilters"] == [{"name": "TagKeyValue", "values": [f"user:stack${stack}"]}]
    ticket = topic_arns(plan).get("ticket") or topic_arns(plan)["alerts"]
    kinds = {(n["notificationType"], n["threshold"]) for n in budget.inputs["notifications"]}
    assert kinds == {("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100)}
    assert all(n["subscriberSnsTopicArns"] == [ticket] for n in budget.inputs["notifications"])


def test_topics_and_their_key_accept_each_publisher_from_this_account_only(plan: Plan) -> None:
    services = set(PUBLISHERS.values())
    assert services == {"cloudwatch.amazonaws.com", "events.amazonaws.com", "budgets.amazonaws.com",
                        "costalerts.amazonaws.com"}
    for topic_policy in plan.of_type("aws:sns/topicPolicy:TopicPolicy"):
        statements = json.loads(topic_policy.inputs["policy"])["Statement"]
        allowed = {s["Principal"]["Service"]: s for s in statements
                   if s["Effect"] == "Allow" and isinstance(s["Principal"], dict) and "Service" in s["Principal"]}
        assert set(allowed) == services
        for statement in allowed.values():
            assert statement["Action"] == "sns:Publish"
            assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    keys = [k for k in plan.of_type("aws:kms/key:Key") if "alert topics" in k.inputs["description"]]
    assert keys
    for key in keys:
        statements = json.loads(key.inputs["policy"])["Statement"]
        granted = {s["Principal"]["Service"]: s for s in statements if "Service" in s["Principal"]}
        assert set(granted) == services
        assert all(s["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}} for s in granted.values())


def test_aurora_cluster_carries_the_backup_tag_of_its_tier(plan: Plan) -> None:
    # only a baseline of the same tier selects it (tests/test_backup_selection.py)
    key, value = aurora_backup_tag(plan.stack)
    assert one(plan, "aws:rds/cluster:Cluster").inputs["tags"][key] == value


def test_execution_role_can_pull_the_guardduty_agent(plan: Plan) -> None:
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-execution").inputs["policy"])
    agent = next(s for s in policy["Statement"] if s.get("Sid") == "PullGuardDutyAgent")
    assert agent["Resource"] == f"arn:aws:ecr:us-east-1:593207742271:repository/{AGENT_REPOSITORY}"
    assert set(agent["Action"]) == {"ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}


def test_backend_logs_mask_personal_data(plan: Plan) -> None:
    protection = one(plan, "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy")
    log_group = one(plan, "aws:cloudwatch/logGroup:LogGroup", "backend-logs")
    assert protection.inputs["logGroupName"] == log_group.inputs["name"]
    document = json.loads(protection.inputs["policyDocument"])
    audit, mask = document["Statement"]
    assert "Audit" in audit["Operation"] and mask["Operation"] == {"Deidentify": {"MaskConfig": {}}}
    assert audit["DataIdentifier"] == mask["DataIdentifier"]  # CloudWatch requires the same identifiers in both
    assert {i.rsplit("/", 1)[1] for i in mask["DataIdentifier"]} == set(PERSONAL_DATA) >= {"EmailAddress", "Name"}


def test_account_settings_tier_defaults_and_errors() -> None:
    assert settings_for(with_changes("prod")).account.receives_account_events is True
    assert settings_for(with_changes("dev")).account.receives_account_events is False
    with pytest.raises(SettingsError) as error:
        settings_for(with_changes("dev", {"account": {"baseline_stack": "floyo-baseline/main-use1"}}))
    assert "floyo-infra:account.baseline_stack" in str(error.value)


def test_the_default_baseline_stack_resolves_in_the_running_stacks_organization(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Pulumi Cloud resolves `organization/...` only for an organization of that name; the default is qualified
    # with the organization the program runs in (pulumi.get_organization()), whatever the backend
    read: list[str] = []
    original = FloyoMocks.new_resource

    def recording(self: FloyoMocks, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == "pulumi:pulumi:StackReference":
            read.append(args.name)
        return original(self, args)

    monkeypatch.setattr(FloyoMocks, "new_resource", recording)
    monkeypatch.setattr(pulumi, "get_organization", lambda: "acme")  # a Pulumi Cloud organization
    plan_config(with_changes("prod"))
    assert read == ["acme/floyo-baseline/main-use1"]
    assert baseline_stack_reference("main-use1", "acme") == "acme/floyo-baseline/main-use1"
    assert baseline_stack_reference("other/floyo-baseline/x", "acme") == "other/floyo-baseline/x"


@pytest.mark.parametrize(("changes", "path"), [
    ({"network": {"flow_log_retention_days": 90}}, "floyo-infra:network.flow_log_retention_days"),
    ({"database": {"log_retention_days": 90}}, "floyo-infra:database.log_retention_days"),
    ({"backend": {"access_log_retention_days": 90}}, "floyo-infra:backend.access_log_retention_days"),
])
def test_prod_keeps_audit_relevant_logs_a_year(changes: dict[str, Any], path: str) -> None:
    prod = settings_for(with_changes("prod"))
    assert prod.network.flow_log_retention_days >= 365 and prod.database.log_retention_days >= 365
    assert prod.backend.access_log_retention_days >= 365
    with pytest.raises(SettingsError) as error:
        settings_for(with_changes("prod", changes))
    assert [p.path for p in error.value.problems] == [path] and "365" in str(error.value)
    settings_for(with_changes("dev", changes))  # dev may keep them shorter
