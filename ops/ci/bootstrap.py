"""`python -m ops bootstrap --repo ORG/REPO --account ID`: print the one-time AWS CLI and GitHub CLI sequence that
creates what the workflows assume before their first run (docs/first-deploy.md, step 3).

First the ruleset that protects `main` (ops/ci/main_ruleset.py: reviewed pull requests only, no force push, no
deletion), then the GitHub environments (`gh api -X PUT repos/ORG/REPO/environments/<env>`: `gh variable set --env` does not
create a missing one, cli/cli pkg/cmd/variable/set/http.go only POSTs to its variables endpoint, and gh has no
command that creates environments, cli/cli#5149), each with the protection ops/ci/environments.py gives: `main`-only
deployment branches, and required reviewers with prevent-self-review where the table asks for them and
`--reviewer-team` names a team. Then per AWS account: GitHub's OIDC provider. Per app stack and per baseline stack (from the
stack files, as `python -m ops stacks` lists them): a deploy, a preview and a drift role, each trusting exactly the
OIDC subject of the GitHub environment its job runs in (`repo:ORG/REPO:environment:<env>`, GitHub's default subject
format), and the variables that name them. Every step is idempotent (get || create, then the put/attach/update calls
that converge), so a run that stopped half-way is simply run again. Nothing runs: the output is a shell script to
read, then run with credentials of an account administrator (`python -m ops bootstrap ... > bootstrap.sh && bash
bootstrap.sh`).

Permissions (what each job does, docs/ci.md):
* deploy: `AdministratorAccess`. A first `pulumi up` creates IAM roles, KMS keys, VPCs, databases, ... across
  some 30 services; a narrower policy has not been written and tested against a real deploy (open gap).
  The first stack's deploy role (dev: every merge, no reviewer) also gets the Deny-only guard
  `floyo-prod-guard` (ops/ci/prod_guard.py): nothing on prod's or the baseline's resources;
* preview: `ReadOnlyAccess` and an explicit deny on reading any secret, parameter, object or session;
* drift: `ReadOnlyAccess` and the SSM tunnel to the stack's access host only; the secrets the refresh reads
  are granted by the stack itself (components/drift_access.py: inline policy `floyo-<stack>-drift-reads`, which
  the deploy role writes), so this role must exist, with exactly this name, before the stack's first deploy.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from dataclasses import dataclass
from typing import Any

from components.drift_access import drift_role_name
from ops.ci import main_ruleset
from ops.ci.environments import ENVIRONMENTS, Environment
from ops.ci.prod_guard import guard, guarded_roles
from ops.ci.stacks import baseline_entries, matrices
from stacks.db_access import ROLE_TAG

OIDC_HOST = "token.actions.githubusercontent.com"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
PREVIEW_DENY = ["secretsmanager:GetSecretValue", "kms:Decrypt", "ssm:GetParameter", "ssm:GetParameters",
                "ssm:GetParametersByPath", "ssm:StartSession", "s3:GetObject", "s3:GetObjectVersion"]


@dataclass(frozen=True)
class Role:
    """One role: its name, the GitHub environment it trusts, its policies and the variable naming it."""

    name: str
    environment: str
    managed: tuple[str, ...]
    inline: dict[str, dict[str, Any]]
    """Inline policies by name."""
    variable: str
    variable_environment: str | None
    """The GitHub environment holding the variable (None: a repository variable)."""


def trust(account: str, repo: str, environment: str) -> dict[str, Any]:
    """Only jobs of `repo` running in the GitHub `environment` may assume the role."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
        "Principal": {"Federated": f"arn:aws:iam::{account}:oidc-provider/{OIDC_HOST}"},
        "Condition": {"StringEquals": {f"{OIDC_HOST}:aud": "sts.amazonaws.com",
                                       f"{OIDC_HOST}:sub": f"repo:{repo}:environment:{environment}"}}}]}


def tunnel_policy(account: str, region: str, stack: str) -> dict[str, Any]:
    """SSM port forwarding to this stack's access host only (found by its Name tag, components/db_access.py)."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "PortForwardToTheAccessHost", "Effect": "Allow", "Action": "ssm:StartSession",
         "Resource": f"arn:aws:ec2:{region}:{account}:instance/*",
         "Condition": {"StringEquals": {"ssm:resourceTag/Name": f"floyo-{stack}-{ROLE_TAG}"}}},
        {"Sid": "ThePortForwardingDocument", "Effect": "Allow", "Action": "ssm:StartSession",
         "Resource": f"arn:aws:ssm:{region}::document/AWS-StartPortForwardingSessionToRemoteHost"},
        {"Sid": "EndOwnSessions", "Effect": "Allow", "Action": "ssm:TerminateSession",
         "Resource": f"arn:aws:ssm:{region}:{account}:session/${{aws:userid}}-*"},
        {"Sid": "FindTheHostOnline", "Effect": "Allow", "Action": "ssm:DescribeInstanceInformation", "Resource": "*"}]}


def preview_deny() -> dict[str, Any]:
    """Read-only, minus every read of data: a preview runs branch code."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoDataReads", "Effect": "Deny", "Action": PREVIEW_DENY, "Resource": "*"}]}


def roles(account: str) -> list[Role]:
    """Every role the workflows assume, from the stack files."""
    found: list[Role] = []
    for entry in matrices()["all"]:
        stack, region = entry["stack"], entry["region"]
        found += [
            Role(deploy := f"floyo-{stack}-deploy", entry["environment"], (ADMIN,),
                 {"floyo-prod-guard": guard(account, deploy)} if deploy in guarded_roles() else {},
                 "AWS_DEPLOY_ROLE_ARN", entry["environment"]),
            Role(f"floyo-{stack}-preview", "preview", (READ_ONLY,), {"floyo-bootstrap": preview_deny()},
                 entry["preview_role_var"], None),
            Role(drift_role_name(stack), "drift", (READ_ONLY,),
                 {"floyo-bootstrap": tunnel_policy(account, region, stack)}, entry["drift_role_var"], None),
        ]
    for entry in baseline_entries():
        stack = entry["stack"]
        found += [
            Role(f"floyo-baseline-{stack}-deploy", "baseline", (ADMIN,), {}, "AWS_DEPLOY_ROLE_ARN", "baseline"),
            Role(f"floyo-baseline-{stack}-preview", "preview", (READ_ONLY,), {"floyo-bootstrap": preview_deny()},
                 entry["preview_role_var"], None),
            Role(f"floyo-baseline-{stack}-drift", "drift", (READ_ONLY,), {}, entry["drift_role_var"], None),
        ]
    return found


def environment_commands(repo: str, env: Environment, reviewer_team: int | None) -> list[str]:
    """Create or update one GitHub environment with its protection (GitHub REST, PUT is create-or-update),
    then its `main` branch policy unless it has one (POST would add a duplicate)."""
    q = shlex.quote
    body: dict[str, Any] = {"deployment_branch_policy": (
        {"protected_branches": False, "custom_branch_policies": True} if env.main_only else None)}
    if env.reviewers and reviewer_team is not None:
        body |= {"reviewers": [{"type": "Team", "id": reviewer_team}], "prevent_self_review": True}
    path = f"repos/{repo}/environments/{env.name}"
    lines = [f"# environment `{env.name}`: "
             + ("main only" if env.main_only else "any branch")
             + ("; required reviewers, no self-review" if env.reviewers else "")
             + (" (NOT SET: no --reviewer-team given; GitHub offers reviewers on Free/Pro/Team only for public"
                " repositories)" if env.reviewers and reviewer_team is None else ""),
             f"gh api -X PUT {q(path)} --input - <<< {q(json.dumps(body))}"]
    if env.main_only:
        lines.append(f"gh api {q(path + '/deployment-branch-policies')} --jq '.branch_policies[].name' "
                     f"| grep -x main >/dev/null \\\n  || gh api -X POST {q(path + '/deployment-branch-policies')} "
                     "-f name=main -f type=branch >/dev/null")
    return lines


def script(account: str, repo: str, reviewer_team: int | None = None) -> str:
    """The shell script: the environments, the OIDC provider, then per role get-or-create, converge, variable."""
    q = shlex.quote
    lines = ["#!/usr/bin/env bash",
             "# generated by python -m ops bootstrap: review, then run as an account administrator and a",
             "# repository admin. Idempotent: after a failure, fix the cause and run it again.",
             "set -euo pipefail", ""]
    # main first: the environments below admit main only, which keeps code out only while main is protected
    lines += [*main_ruleset.commands(repo), ""]
    for env in ENVIRONMENTS:
        lines += [*environment_commands(repo, env, reviewer_team), ""]
    provider = f"arn:aws:iam::{account}:oidc-provider/{OIDC_HOST}"
    lines += ["# GitHub's OIDC provider, once per account",
              f"aws iam get-open-id-connect-provider --open-id-connect-provider-arn {provider} >/dev/null 2>&1 \\",
              f"  || aws iam create-open-id-connect-provider --url https://{OIDC_HOST} "
              "--client-id-list sts.amazonaws.com", ""]
    for role in roles(account):
        arn = f"arn:aws:iam::{account}:role/{role.name}"
        document = q(json.dumps(trust(account, repo, role.environment)))
        lines += [f"# {role.name}: trusted by jobs in the GitHub environment `{role.environment}`",
                  f"aws iam get-role --role-name {q(role.name)} >/dev/null 2>&1 \\",
                  f"  || aws iam create-role --role-name {q(role.name)} --max-session-duration 7200 "
                  f"--assume-role-policy-document {document} >/dev/null",
                  f"aws iam update-assume-role-policy --role-name {q(role.name)} --policy-document {document}",
                  f"aws iam update-role --role-name {q(role.name)} --max-session-duration 7200"]
        lines += [f"aws iam attach-role-policy --role-name {q(role.name)} --policy-arn {p}" for p in role.managed]
        lines += [f"aws iam put-role-policy --role-name {q(role.name)} --policy-name {q(name)} "
                  f"--policy-document {q(json.dumps(doc))}" for name, doc in role.inline.items()]
        scope = f" --env {q(role.variable_environment)}" if role.variable_environment else ""
        lines += [f"gh variable set {role.variable} --repo {q(repo)}{scope} --body {q(arn)}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops bootstrap", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repo", required=True, help="the GitHub repository, ORG/REPO")
    parser.add_argument("--account", required=True, help="the AWS account ID (12 digits)")
    parser.add_argument("--reviewer-team", type=int, default=None, help=(
        "id of the GitHub team whose members approve jobs in the environments needing reviewers "
        "(`gh api orgs/ORG/teams/SLUG --jq .id`); without it those environments get no reviewers"))
    args = parser.parse_args(argv)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.repo):
        print(f"error: --repo: {args.repo!r} is not ORG/REPO", file=sys.stderr)
        return 2
    if not re.fullmatch(r"\d{12}", args.account):
        print(f"error: --account: {args.account!r} is not a 12-digit AWS account ID", file=sys.stderr)
        return 2
    print(script(args.account, args.repo, args.reviewer_team))
    return 0


if __name__ == "__main__":
    sys.exit(main())
