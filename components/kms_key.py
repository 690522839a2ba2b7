"""A customer-managed KMS key with rotation, an alias and a least-privilege key policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, policy_json


@dataclass(frozen=True)
class KmsKeyArgs:
    """Arguments of `KmsKey`."""

    context: AwsContext
    """Account/region/partition the key lives in."""
    description: str
    """What the key encrypts; shown in the KMS console."""
    alias: str
    """Alias name without the `alias/` prefix, e.g. `floyo-prod-data`."""
    service_statements: Sequence[pulumi.Input[dict[str, Any]]] = field(default_factory=list)
    """Extra key-policy statements granting AWS services use of the key. Default none
    (then only IAM policies of the account can grant use)."""
    deletion_window_days: int = 30
    """Days a scheduled key deletion can still be cancelled, 7-30. Default 30 (the maximum)."""
    region: str | None = None
    """Region of the key when it is not the provider's (a key serves only its own region).
    Default: the provider's."""
    protect: bool = False
    """Pulumi `protect` on the key: a key's deletion makes everything it encrypted unreadable.
    Default false; prod passes true."""


class KmsKey(pulumi.ComponentResource):
    """A symmetric KMS key with yearly rotation and an alias.

    The key policy keeps the account root as administrator (so IAM policies govern
    use, as AWS recommends) and adds only the service statements given.
    """

    key: aws.kms.Key
    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(self, name: str, args: KmsKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:security:KmsKey", name, None, opts)
        ctx = args.context
        root = {
            "Sid": "AccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": pulumi.Output.concat("arn:", ctx.partition, ":iam::", ctx.account_id, ":root")},
            "Action": "kms:*",
            "Resource": "*",
        }
        self.key = aws.kms.Key(
            f"{name}-key",
            description=args.description,
            enable_key_rotation=True,
            rotation_period_in_days=365,
            deletion_window_in_days=args.deletion_window_days,
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            policy=policy_json([root, *args.service_statements]),
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.kms.Alias(
            f"{name}-alias",
            name=f"alias/{args.alias}",
            target_key_id=self.key.key_id,
            region=args.region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.key.arn
        self.key_id = self.key.key_id
        self.register_outputs({"arn": self.arn, "key_id": self.key_id})


def logs_statement(context: AwsContext) -> dict[str, Any]:
    """Key-policy statement letting CloudWatch Logs use the key for this account's log groups."""
    return {
        "Sid": "CloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": pulumi.Output.concat("logs.", context.region, ".amazonaws.com")},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": pulumi.Output.concat(
            "arn:", context.partition, ":logs:", context.region, ":", context.account_id, ":log-group:*")}},
    }
