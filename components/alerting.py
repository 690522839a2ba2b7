"""Alert routing: KMS-encrypted SNS topics (page / ticket) and their subscriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarm_catalogue import Severity
from components.aws_context import AwsContext, policy_json
from components.kms_key import KmsKey, KmsKeyArgs
from stacks.monitoring import MonitoringSettings


@dataclass(frozen=True)
class AlertTopics:
    """Where alarms of each severity notify (the same topic twice when severities aren't split)."""

    page: pulumi.Output[str]
    ticket: pulumi.Output[str]

    def for_severity(self, severity: Severity) -> pulumi.Output[str]:
        return self.page if severity == "page" else self.ticket


@dataclass(frozen=True)
class AlertingArgs:
    """Arguments of `Alerting`."""

    settings: MonitoringSettings
    """The stack's `monitoring` settings (destinations, split_severities)."""
    context: AwsContext
    """Account/partition (key and topic policies)."""
    region: str | None = None
    """Region of the topics when not the provider's: alarms notify only topics in their own
    region (Route 53 health-check alarms live in us-east-1). Default: the provider's."""
    protect: bool = False
    """Pulumi `protect` on the KMS key. Default false; prod passes true."""


PUBLISHERS = {
    "CloudWatchAlarms": "cloudwatch.amazonaws.com",
    "EventBridgeRules": "events.amazonaws.com",
    "Budgets": "budgets.amazonaws.com",
    "CostAnomalyDetection": "costalerts.amazonaws.com",
}
"""Services that publish to the alert topics (statement id prefix -> principal), each only on behalf
of this account (aws:SourceAccount, against the confused deputy): alarms, the account-event rules
(components/account_alerts.py), the stack's budget and cost-anomaly subscription."""


def publishers_key_statements(context: AwsContext) -> list[dict[str, Any]]:
    """Key-policy statements letting each of this account's `PUBLISHERS` use the encrypted topics' key."""
    return [{
        "Sid": f"{sid}Publish",
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": context.account_id}},
    } for sid, service in PUBLISHERS.items()]


class Alerting(pulumi.ComponentResource):
    """SNS topics alarms notify, encrypted with their own customer-managed key.

    * one topic (`alerts`), or `page` and `ticket` topics when `split_severities` is on;
    * the key policy and each topic policy let only this account's `PUBLISHERS` (CloudWatch alarms,
      EventBridge rules, Budgets, Cost Anomaly Detection) publish (plus the account itself), and refuse
      publishing without TLS;
    * subscriptions: every address in `alert_emails` (each confirms once by email) and the
      secret `webhook_url` over HTTPS (the endpoint must confirm the SNS subscription).
    """

    topics: AlertTopics
    topic_arns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: AlertingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:monitoring:Alerting", name, None, opts)
        s, ctx = args.settings, args.context
        stack = pulumi.get_stack()
        child = pulumi.ResourceOptions(parent=self)
        key = KmsKey(f"{name}-key", KmsKeyArgs(
            context=ctx, description=f"floyo {stack}: alert topics ({args.region or 'stack region'})",
            alias=f"floyo-{stack}-{name}", service_statements=publishers_key_statements(ctx),
            region=args.region, protect=args.protect,
        ), opts=child)
        kinds = ["page", "ticket"] if s.split_severities else ["alerts"]
        created: dict[str, aws.sns.Topic] = {}
        for kind in kinds:
            topic = aws.sns.Topic(
                f"{name}-{kind}",
                name=f"floyo-{stack}-{kind}" + (f"-{args.region}" if args.region else ""),
                display_name=f"floyo {stack} {kind}",
                kms_master_key_id=key.arn,
                region=args.region,
                opts=child,
            )
            aws.sns.TopicPolicy(
                f"{name}-{kind}", arn=topic.arn, policy=self._topic_policy(topic, ctx), region=args.region,
                opts=child,
            )
            for index, address in enumerate(s.alert_emails):
                aws.sns.TopicSubscription(
                    f"{name}-{kind}-email-{index}", topic=topic.arn, protocol="email", endpoint=address,
                    region=args.region, opts=child,
                )
            if s.webhook_url is not None:
                aws.sns.TopicSubscription(
                    f"{name}-{kind}-webhook", topic=topic.arn, protocol="https",
                    endpoint=pulumi.Output.secret(s.webhook_url.get_secret_value()),
                    endpoint_auto_confirms=False, confirmation_timeout_in_minutes=5,
                    region=args.region, opts=child,
                )
            created[kind] = topic
        page = created.get("page", created.get("alerts"))
        ticket = created.get("ticket", created.get("alerts"))
        assert page is not None and ticket is not None
        self.topics = AlertTopics(page=page.arn, ticket=ticket.arn)
        self.topic_arns = [t.arn for t in created.values()]
        self.register_outputs({"topic_arns": self.topic_arns})

    @staticmethod
    def _topic_policy(topic: aws.sns.Topic, ctx: AwsContext) -> pulumi.Output[str]:
        return policy_json([
            {"Sid": "AccountManages", "Effect": "Allow",
             "Principal": {"AWS": pulumi.Output.concat("arn:", ctx.partition, ":iam::", ctx.account_id, ":root")},
             "Action": ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
                        "sns:ListSubscriptionsByTopic"],
             "Resource": topic.arn},
            *({"Sid": f"{sid}Publish", "Effect": "Allow", "Principal": {"Service": service}, "Action": "sns:Publish",
               "Resource": topic.arn, "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}}}
              for sid, service in PUBLISHERS.items()),
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
             "Resource": topic.arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ])
