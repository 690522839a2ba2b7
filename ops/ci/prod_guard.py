"""The guard on the first stack's deploy role: dev's deploy role may not touch prod's or the baseline's resources.

Dev and prod share one AWS account (baseline/Pulumi.main-use1.yaml), and `floyo-dev-deploy` holds
`AdministratorAccess`; it is assumed by every merge's dev deploy, with no reviewer. Without a guard, a
program change merged for dev could modify or delete prod's database, keys, secrets or the baseline's vaults.
`python -m ops bootstrap` puts this document on every deploy role except prod's and the baseline's as the
inline policy `floyo-prod-guard`. Explicit Deny statements win over any Allow (IAM policy evaluation logic).

What it denies:
* `ProtectedByTag`: every action on a resource whose `aws:ResourceTag/stack` is a protected stack's
  (`prod`, `baseline-*`: the `aws:defaultTags` of those stack files, so every resource they create carries it).
  Services whose actions honour `aws:ResourceTag` for existing resources (the "Actions, resources, and
  condition keys" pages of the Service Authorization Reference): RDS, ElastiCache, KMS, Secrets Manager, ECS,
  Elastic Load Balancing v2, EC2, IAM roles, CloudWatch alarms and Logs, SNS, Backup, Lambda, SSM. A Deny
  whose condition key is absent from a request does not apply, so dev's own work is unaffected.
* `ProtectedByName`: S3 does not evaluate `aws:ResourceTag` for most bucket and object actions, so
  protected buckets (named `floyo-<stack>-*` by their bucket prefix) are denied by ARN; the baseline's
  audit (trail) bucket and vaults (`floyo-account*`) likewise, and every backup plan (dev has none).
* `NoIamOnProtectedRoles`: `iam:*` on the bootstrap's roles of protected stacks, on the baseline's roles,
  and on this role itself (so it cannot delete its own guard) and the OIDC provider (so it cannot rewrite
  who may assume what).
* `NoTrailTampering`: stopping, deleting or reconfiguring CloudTrail trails (the baseline's audit trail).

Residual gap, stated plainly: a role with `iam:CreateRole` and `iam:PassRole` can create a fresh role
without this guard and run code as it (a Lambda function, an ECS task). The guard stops a dev program change,
by mistake or by copy-paste, from touching prod, and stops direct tampering; it does not stop deliberately
malicious merged code. The real boundary is a separate prod account (the multi-account layout: one baseline
stack per account, `account.baseline_stack` per app stack), where `floyo-dev-deploy` has no rights at all.
"""

from __future__ import annotations

from typing import Any

from ops.ci.stacks import BASELINE_DIR, FIRST, baseline_entries, matrices

OIDC_PROVIDER = "token.actions.githubusercontent.com"
ACCOUNT_PREFIX = "floyo-account"
"""The baseline's physical names start with it (its audit bucket `floyo-account-audit-`, its vaults)."""


def protected_stack_tags() -> list[str]:
    """The `stack` tag values of every stack the first stack's deploy role must not touch."""
    return sorted([e["stack"] for e in matrices()["all"] if e["stack"] != FIRST]
                  + [f"{BASELINE_DIR}-{e['stack']}" for e in baseline_entries()])


def guarded_roles() -> list[str]:
    """The deploy roles that get the guard: every app stack's deploy role that may run unreviewed (dev)."""
    return [f"floyo-{FIRST}-deploy"]


def guard(account: str, role: str) -> dict[str, Any]:
    """The Deny-only policy document for `role` (a guarded deploy role) in `account`."""
    tags = protected_stack_tags()
    app = [t for t in tags if not t.startswith(f"{BASELINE_DIR}-")]
    iam = f"arn:aws:iam::{account}"
    buckets = [f"arn:aws:s3:::floyo-{s}-*" for s in app] + [f"arn:aws:s3:::{ACCOUNT_PREFIX}-*"]
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ProtectedByTag", "Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"StringLike": {"aws:ResourceTag/stack": tags}}},
        {"Sid": "ProtectedByName", "Effect": "Deny", "Action": ["s3:*", "backup:*"],
         "Resource": [*buckets, *(f"{b}/*" for b in buckets),
                      f"arn:aws:backup:*:{account}:backup-vault:{ACCOUNT_PREFIX}*",
                      f"arn:aws:backup:*:{account}:backup-plan:*"]},
        {"Sid": "NoIamOnProtectedRoles", "Effect": "Deny", "Action": "iam:*",
         "Resource": [*(f"{iam}:role/floyo-{s}-*" for s in app), f"{iam}:role/floyo-baseline-*",
                      f"{iam}:role/{role}", f"{iam}:role/floyo-{FIRST}-preview",
                      f"{iam}:oidc-provider/{OIDC_PROVIDER}"]},
        {"Sid": "NoTrailTampering", "Effect": "Deny",
         "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                    "cloudtrail:PutEventSelectors", "cloudtrail:PutInsightSelectors"],
         "Resource": "*"},
    ]}
