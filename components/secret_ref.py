"""How a task definition names one key of a JSON secret."""

from __future__ import annotations

import pulumi


def json_key(secret_arn: pulumi.Input[str], key: str) -> pulumi.Output[str]:
    """`<secret arn>:<key>::`: the `valueFrom` that hands a container the value of `key` in the secret's JSON,
    at its current version (AWSCURRENT). ECS's form is `arn:...:secret:name:json-key:version-stage:version-id`
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html); the
    execution role's grant is on the secret's ARN, so the reference and the grant name the same secret."""
    return pulumi.Output.from_input(secret_arn).apply(lambda arn: f"{arn}:{key}::")
