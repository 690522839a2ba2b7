"""Tenant isolation: no database role reaches two tenants, and no principal may `rds-db:connect` as anyone.

* `tenant-role-reach`: a *tenant role* is the owner of a declared `postgresql.Schema` (each tenant's schema
  is owned by its own role). A role reaches a tenant role when it is that role, is a member of it (directly
  or through other roles: `Role.roles`, `GrantRole`), or owns its schema. PostgreSQL lets a member
  `SET ROLE` to any role it belongs to, whatever INHERIT says, so a role reaching two tenant roles can act as
  both: one injected statement reads the other tenant (the former gateway did exactly that).
* `rds-db-connect-names-users`: every `rds-db:connect` resource names one proxy or cluster resource id and
  one database user, or a user prefix such as `tenant_*`; never `*`, a wildcard account, region or id, or a
  bare `/*` (any user, the master included).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from ._core import CRITICAL, MANDATORY, FloyoResourcePolicy, FloyoStackPolicy, allow_statements, label, of_type, strings

ROLE = "postgresql:index/role:Role"
GRANT_ROLE = "postgresql:index/grantRole:GrantRole"
SCHEMA = "postgresql:index/schema:Schema"
POLICY_DOCUMENTS = {
    "aws:iam/rolePolicy:RolePolicy": "policy", "aws:iam/policy:Policy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy", "aws:iam/groupPolicy:GroupPolicy": "policy",
}
DBUSER = re.compile(r"^arn:aws[a-z-]*:rds-db:[a-z0-9-]+:\d{12}:dbuser:(prx|cluster|db)-[A-Za-z0-9]+/"
                    r"(?P<user>[a-z_][a-z0-9_$]*(?:_\*)?)$")
"""A `dbuser` ARN naming one resource id and one user, or a `<prefix>_*` user pattern (RDS user guide,
"Creating and using an IAM policy for IAM database access": arn:aws:rds-db:REGION:ACCOUNT:dbuser:ID/USER)."""


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _reach(args: StackValidationArgs, report: ReportViolation) -> None:
    roles = of_type(args.resources, ROLE)
    tenant_roles = {owner for s in of_type(args.resources, SCHEMA) if (owner := _text(s.props.get("owner")))}
    if not tenant_roles:
        args.not_applicable("no schema declared")
    member_of: dict[str, set[str]] = {}  # role -> roles it is directly a member of
    declared: dict[str, str] = {}  # role name -> URN, for the report
    for role in roles:
        name = _text(role.props.get("name"))
        if name:
            declared[name] = role.urn
            member_of.setdefault(name, set()).update(g for g in strings(role.props.get("roles")) if g)
    for grant in of_type(args.resources, GRANT_ROLE):
        member, granted = _text(grant.props.get("role")), _text(grant.props.get("grantRole"))
        if member and granted:
            member_of.setdefault(member, set()).add(granted)
            declared.setdefault(member, grant.urn)
    owned: dict[str, set[str]] = {}
    for schema in of_type(args.resources, SCHEMA):
        owner = _text(schema.props.get("owner"))
        if owner:
            owned.setdefault(owner, set()).add(owner)
    for name in sorted(declared):
        seen, todo = {name}, [name]
        while todo:
            for parent in member_of.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        reached = sorted((seen | owned.get(name, set())) & tenant_roles)
        if len(reached) > 1:
            report(f"role {name} reaches {len(reached)} tenants' roles ({', '.join(reached[:5])}"
                   f"{', ...' if len(reached) > 5 else ''}): any session of it can SET ROLE to each of them, so "
                   "one injected statement reads another tenant; give each tenant its own login instead", declared[name])


tenant_role_reach = FloyoStackPolicy(
    "tenant-role-reach",
    "No database role reaches more than one tenant's role, by membership (Role.roles, GrantRole) or ownership.",
    _reach, MANDATORY, CRITICAL, ["docs/tenant-isolation.md"])


def _connect(args: ResourceValidationArgs, report: ReportViolation) -> None:
    documents = [args.props.get(POLICY_DOCUMENTS[args.resource_type])] if args.resource_type in POLICY_DOCUMENTS else []
    if args.resource_type == "aws:iam/role:Role":
        documents += [p.get("policy") for p in args.props.get("inlinePolicies") or [] if isinstance(p, Mapping)]
    for document in documents:
        for st in allow_statements(document, args.name):
            if not any(a.lower() in ("rds-db:connect", "rds-db:*", "*") for a in st.actions):
                continue
            loose = [r for r in st.resources if not DBUSER.match(r)]
            if loose:
                report(f"{label(args)}: rds-db:connect on {', '.join(loose)}; name each database user on one proxy "
                       "or cluster (arn:aws:rds-db:REGION:ACCOUNT:dbuser:prx-ID/USER, or a prefix like tenant_*)", None)


rds_db_connect_names_users = FloyoResourcePolicy(
    "rds-db-connect-names-users",
    "rds-db:connect names one proxy/cluster resource id and one database user (or a user prefix), never \"*\".",
    _connect, MANDATORY, CRITICAL, ["FSBP IAM.21", "docs/tenant-isolation.md"])

POLICIES = [tenant_role_reach, rds_db_connect_names_users]
