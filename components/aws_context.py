"""Account, region and partition of the AWS provider, looked up once per program."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    """Where the program deploys: used to build ARNs and service principals."""

    account_id: pulumi.Output[str]
    region: pulumi.Output[str]
    partition: pulumi.Output[str]


def aws_context() -> AwsContext:
    """Look up the account, region and partition of the default AWS provider (call once)."""
    return AwsContext(
        account_id=aws.get_caller_identity_output().account_id,
        region=aws.get_region_output().region,
        partition=aws.get_partition_output().partition,
    )


def policy_json(statements: list[dict[str, Any]] | pulumi.Input[list[Any]]) -> pulumi.Output[str]:
    """An IAM policy document (version 2012-10-17) from statements that may hold Outputs."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": statements})


def assume_role_policy(service: str, context: AwsContext) -> pulumi.Output[str]:
    """Trust policy letting one AWS service principal assume a role, on behalf of this
    account only (`aws:SourceAccount`, against the confused-deputy problem)."""
    return policy_json([{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": context.account_id}},
    }])
