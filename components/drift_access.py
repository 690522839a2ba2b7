"""What the drift check's `pulumi refresh --run-program` reads beyond AWS's `ReadOnlyAccess`, derived from the
resources this program declares.

The drift role (created once per stack by the bootstrap, docs/first-deploy.md: `ReadOnlyAccess` plus the SSM
tunnel) cannot read secret values: `ReadOnlyAccess` has no `secretsmanager:GetSecretValue` and no
`kms:Decrypt`. A refresh reads them all the same:

* every `aws.secretsmanager.SecretVersion`: its Read calls GetSecretValue (terraform-provider-aws
  internal/service/secretsmanager/secret_version.go, `findSecretVersion`), and Secrets Manager decrypts with the
  secret's KMS key on the caller's behalf, so the caller needs `kms:Decrypt` on that key (Secrets Manager user
  guide, "Secret encryption and decryption": the caller needs kms:Decrypt on a customer managed key);
* `--run-program` runs the program, which reads the RDS-managed master secret of every Aurora cluster
  (components/database_objects.py) to configure the postgresql provider.

`DriftReads.collect()` (first thing in the program) watches every resource declared after it; `declare()`
(last) grants the drift role exactly those secrets and the customer-managed keys they are encrypted with, as an
inline policy the deploy writes. Whatever secrets the program declares later (or stops declaring) changes the
grant with it: nothing here names a secret.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
CLUSTER = "aws:rds/cluster:Cluster"


def drift_role_name(stack: str) -> str:
    """The drift role the bootstrap creates for `stack` (docs/first-deploy.md) and this policy is attached to."""
    return f"floyo-{stack}-drift"


def drift_statements(versions: Sequence[str], secrets: Sequence[tuple[str, str | None]],
                     master_secrets: Sequence[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """The statements for concrete values: `versions` are the secret IDs (ARNs) the SecretVersions write,
    `secrets` and `master_secrets` (ARN, KMS key or None for the AWS managed key) what the program declares."""
    read = sorted({*versions, *(arn for arn, _ in master_secrets)})
    keys = sorted({key for arn, key in [*secrets, *master_secrets] if key and arn in read})
    statements: list[dict[str, Any]] = []
    if read:
        statements.append({"Sid": "ReadDeclaredSecretValues", "Effect": "Allow",
                           "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                           "Resource": read})
    if keys:
        statements.append({"Sid": "DecryptThoseSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                           "Resource": keys,
                           "Condition": {"StringLike": {"kms:ViaService": "secretsmanager.*.amazonaws.com"}}})
    return statements


@dataclass
class DriftReads:
    """Collects the secrets, secret versions and clusters the program declares (see the module docstring)."""

    _by_type: dict[str, list[pulumi.Resource]] = field(default_factory=dict)

    @classmethod
    def collect(cls) -> DriftReads:
        """Start watching: call before the first resource is declared."""
        reads = cls()

        def watch(args: pulumi.ResourceTransformationArgs) -> None:
            if args.type_ in (SECRET, SECRET_VERSION, CLUSTER):
                reads._by_type.setdefault(args.type_, []).append(args.resource)

        pulumi.runtime.register_stack_transformation(watch)
        return reads

    def of_type(self, token: str) -> list[Any]:
        return list(self._by_type.get(token, []))

    def declare(self, stack: str, opts: pulumi.ResourceOptions | None = None) -> aws.iam.RolePolicy:
        """The drift role's inline policy `floyo-<stack>-drift-reads` (call after the last resource)."""
        versions = [v.secret_id for v in self.of_type(SECRET_VERSION)]
        secrets = [pulumi.Output.all(s.arn, s.kms_key_id) for s in self.of_type(SECRET)]
        masters = [c.master_user_secrets for c in self.of_type(CLUSTER)]

        def document(values: list[Any]) -> str:
            n, m = len(versions), len(secrets)
            found_versions, found_secrets = values[:n], values[n:n + m]
            found_masters = [(ms.get("secret_arn") or ms.get("secretArn"), ms.get("kms_key_id") or ms.get("kmsKeyId"))
                             if isinstance(ms, dict) else (ms.secret_arn, ms.kms_key_id)
                             for group in values[n + m:] for ms in (group or [])]
            statements = drift_statements(found_versions, [(a, k) for a, k in found_secrets],
                                          [(a, k) for a, k in found_masters if a])
            return json.dumps({"Version": "2012-10-17", "Statement": statements or [
                {"Sid": "NothingToRead", "Effect": "Deny", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})

        component = pulumi.ComponentResource("floyo:ci:DriftAccess", "drift", None, opts)
        policy = aws.iam.RolePolicy(
            "drift-reads", name=f"floyo-{stack}-drift-reads", role=drift_role_name(stack),
            policy=pulumi.Output.all(*versions, *secrets, *masters).apply(document),
            # fixed role and policy name: replaced create-first, the old policy's delete would remove the new one
            opts=pulumi.ResourceOptions(parent=component, delete_before_replace=True))
        component.register_outputs({"policy": policy.name})
        return policy
