"""Where GuardDuty's Fargate runtime-monitoring agent image lives, per region (AWS-owned ECR repositories)."""

from __future__ import annotations

from typing import Any

import pulumi

AGENT_REPOSITORY = "aws-guardduty-agent-fargate"

AGENT_ACCOUNTS = {
    "us-east-1": "593207742271",
    "us-west-2": "733349766148",
    "eu-west-1": "694911143906",
    "ap-southeast-2": "005257825471",
    "ap-northeast-2": "914738172881",
}
"""Region -> AWS account holding the agent repository (GuardDuty user guide, "Repository for GuardDuty agent
on AWS Fargate (Amazon ECS only)"). A region missing here gets the repository name in any account."""


def agent_pull_statement(region: pulumi.Input[str]) -> dict[str, Any]:
    """Execution-role statement to pull the GuardDuty agent sidecar, which GuardDuty adds to every task when
    the account's detector manages the Fargate agent ("Prerequisites for AWS Fargate (Amazon ECS only) support":
    the task execution role needs these ECR actions; without them the task fails to start)."""
    repository = pulumi.Output.from_input(region).apply(
        lambda r: f"arn:aws:ecr:{r}:{AGENT_ACCOUNTS.get(r, '*')}:repository/{AGENT_REPOSITORY}")
    return {"Sid": "PullGuardDutyAgent", "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": repository}
