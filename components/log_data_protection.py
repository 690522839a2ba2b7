"""A CloudWatch Logs data-protection policy: personal data in a log group is masked (GDPR)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

PERSONAL_DATA = (
    "Address", "CreditCardNumber", "DateOfBirth", "EmailAddress", "IpAddress", "Name",
    "PhoneNumber-DE", "PhoneNumber-ES", "PhoneNumber-FR", "PhoneNumber-GB", "PhoneNumber-IT", "PhoneNumber-US",
    "AwsSecretKey",
)
"""CloudWatch Logs managed data identifiers masked by default: contact data of people (names, addresses,
emails, phone numbers of the EU markets, IPs), card numbers, and leaked AWS secret keys."""


def policy_document(identifiers: Sequence[str]) -> str:
    """The policy: audit (count) and de-identify (mask) every identifier ("Version": "2021-06-01")."""
    arns = [f"arn:aws:dataprotection::aws:data-identifier/{i}" for i in identifiers]
    return json.dumps({
        "Name": "floyo-personal-data", "Description": "Mask personal data (GDPR)", "Version": "2021-06-01",
        "Statement": [
            {"Sid": "audit", "DataIdentifier": arns, "Operation": {"Audit": {"FindingsDestination": {}}}},
            {"Sid": "mask", "DataIdentifier": arns, "Operation": {"Deidentify": {"MaskConfig": {}}}},
        ],
    })


@dataclass(frozen=True)
class LogDataProtectionArgs:
    """Arguments of `LogDataProtection`."""

    log_group_name: pulumi.Input[str]
    """The log group to protect (one policy per log group)."""
    identifiers: Sequence[str] = PERSONAL_DATA
    """Managed data identifiers to mask. Default `PERSONAL_DATA`."""


class LogDataProtection(pulumi.ComponentResource):
    """Masks personal data in a log group as it is ingested.

    Readers see `****` unless they hold `logs:Unmask`; findings are counted (Audit) in the
    group's metrics. Cost: CloudWatch charges per GB scanned by data protection, on top of ingestion.
    """

    def __init__(self, name: str, args: LogDataProtectionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:monitoring:LogDataProtection", name, None, opts)
        aws.cloudwatch.LogDataProtectionPolicy(
            f"{name}-policy", log_group_name=args.log_group_name,
            policy_document=policy_document(args.identifiers), opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
