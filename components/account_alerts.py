"""Account-level alerts routed to this stack's topics: EventBridge rules, the stack's budget, cost anomalies."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.alarm_catalogue import Severity
from components.alerting import AlertTopics
from stacks.account import AccountSettings

IAM_POLICY_CHANGES = [
    "AttachGroupPolicy", "AttachRolePolicy", "AttachUserPolicy", "CreatePolicy", "CreatePolicyVersion",
    "DeleteGroupPolicy", "DeletePolicy", "DeletePolicyVersion", "DeleteRolePolicy", "DeleteUserPolicy",
    "DetachGroupPolicy", "DetachRolePolicy", "DetachUserPolicy", "PutGroupPolicy", "PutRolePolicy",
    "PutUserPolicy", "SetDefaultPolicyVersion", "UpdateAssumeRolePolicy",
]
"""IAM calls that change who may do what (CIS AWS Foundations, "IAM policy changes" monitoring)."""


def event_patterns(guardduty_min_severity: float) -> dict[str, tuple[Severity, str, dict[str, Any]]]:
    """Rule name -> (severity, description, EventBridge pattern) of each account event that alerts.

    IAM and console sign-in events are delivered to EventBridge in us-east-1 only (global services), so the
    receiving stack should run there (the app stacks do)."""
    return {
        "guardduty": ("page", f"GuardDuty finding of severity >= {guardduty_min_severity}", {
            "source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"],
            "detail": {"severity": [{"numeric": [">=", guardduty_min_severity]}]}}),
        "securityhub-critical": ("page", "Security Hub critical finding (new, active)", {
            "source": ["aws.securityhub"], "detail-type": ["Security Hub Findings - Imported"],
            "detail": {"findings": {"Severity": {"Label": ["CRITICAL"]}, "Workflow": {"Status": ["NEW"]},
                                    "RecordState": ["ACTIVE"]}}}),
        "backup-failed": ("ticket", "AWS Backup backup, copy or restore job failed", {
            "source": ["aws.backup"],
            "detail-type": ["Backup Job State Change", "Copy Job State Change", "Restore Job State Change"],
            "detail": {"state": ["FAILED", "ABORTED", "EXPIRED"]}}),
        "root-use": ("page", "The account's root user signed in or called an API", {
            "detail-type": ["AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"],
            "detail": {"userIdentity": {"type": ["Root"]}}}),
        "iam-policy-change": ("ticket", "An IAM policy was created, changed, attached or detached", {
            "source": ["aws.iam"], "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["iam.amazonaws.com"], "eventName": IAM_POLICY_CHANGES}}),
    }


BUDGET_ENFORCEMENT_TAG = "budget-enforcement"
"""Tag on the budget naming its gate's level (policy/floyo_policies/budget.py reads it)."""


@dataclass(frozen=True)
class AccountAlertsArgs:
    """Arguments of `AccountAlerts`."""

    settings: AccountSettings
    """The stack's `account` settings."""
    monthly_budget_usd: float
    """The budget's monthly limit in USD (stacks/budget.py: the setting, or the committed estimate x margin)."""
    topics: AlertTopics
    """Where alerts go: page for threats and root use, ticket for the rest."""
    budget_enforcement: Literal["advisory", "mandatory"]
    """`cost.budget_enforcement`, carried on the budget as the `budget-enforcement` tag: the policy pack's
    budget gate reads the stack's level from the plan, so a stack that chose mandatory fails its preview
    even when its committed estimate file is missing."""
    anomaly_monitor_arn: pulumi.Input[str] | None = None
    """The baseline's cost-anomaly monitor (StackReference output), subscribed when this stack receives
    account events. Default none."""


class AccountAlerts(pulumi.ComponentResource):
    """What reaches this stack's alert topics from outside its own resources.

    * always: a monthly cost budget of this stack (resources tagged `stack=<stack>`; the tag must be an
      activated cost-allocation tag, which the baseline does), ticketing at 80% and 100% actual and 100%
      forecast spend;
    * with `receives_account_events` (one stack per account): an EventBridge rule per `event_patterns`
      entry, and a subscription of the ticket topic to the baseline's cost-anomaly monitor.

    The topics' and their key's policies let EventBridge, Budgets and Cost Anomaly Detection publish
    (components/alerting.py).
    """

    def __init__(self, name: str, args: AccountAlertsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:monitoring:AccountAlerts", name, None, opts)
        s, stack = args.settings, pulumi.get_stack()
        child = pulumi.ResourceOptions(parent=self)
        aws.budgets.Budget(
            f"{name}-budget", name=f"floyo-{stack}", budget_type="COST", time_unit="MONTHLY",
            limit_amount=f"{args.monthly_budget_usd:.2f}", limit_unit="USD",
            cost_filters=[aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[f"user:stack${stack}"])],
            notifications=[aws.budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN", threshold=threshold, threshold_type="PERCENTAGE",
                notification_type=kind, subscriber_sns_topic_arns=[args.topics.ticket],
            ) for kind, threshold in (("ACTUAL", 80), ("ACTUAL", 100), ("FORECASTED", 100))],
            tags={BUDGET_ENFORCEMENT_TAG: args.budget_enforcement},
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True))  # fixed name
        if not s.receives_account_events:
            self.register_outputs({})
            return
        for rule_name, (severity, description, pattern) in event_patterns(s.guardduty_min_severity).items():
            rule = aws.cloudwatch.EventRule(
                f"{name}-{rule_name}", description=f"floyo {stack}: {description}",
                event_pattern=json.dumps(pattern), opts=child)
            aws.cloudwatch.EventTarget(
                f"{name}-{rule_name}", rule=rule.name, arn=args.topics.for_severity(severity), opts=child)
        if args.anomaly_monitor_arn is not None:
            aws.costexplorer.AnomalySubscription(
                f"{name}-cost-anomalies", name=f"floyo-{stack}-cost-anomalies", frequency="IMMEDIATE",
                monitor_arn_lists=[args.anomaly_monitor_arn],
                subscribers=[aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=args.topics.ticket)],
                threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                    dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                        key="ANOMALY_TOTAL_IMPACT_ABSOLUTE", match_options=["GREATER_THAN_OR_EQUAL"],
                        values=[f"{s.anomaly_threshold_usd:g}"])),
                opts=child)
        self.register_outputs({})
