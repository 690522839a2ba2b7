"""The cache lets no one in without authenticating, and has no static shared token.

* `cache-authenticates`: a replication group names a user group (RBAC) and sets no AUTH token: without a
  user group every connection is the account's built-in `default` user (`on ~* +@all nopass`), and an AUTH
  token is one shared secret that never rotates (docs/tenant-isolation.md, "The cache: ElastiCache IAM
  authentication"); a user named `default` that needs no password is `off`, or any connection is it.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from ._core import HIGH, MANDATORY, FloyoResourcePolicy, label

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
USER = "aws:elasticache/user:User"


def _authenticates(args: ResourceValidationArgs, report: ReportViolation) -> None:
    p = args.props
    if args.resource_type == GROUP:
        if p.get("authToken") or p.get("authTokenWo"):
            report(f"{label(args)}: an AUTH token is one static shared secret; use a user group with IAM users "
                   "(user_group_ids)", None)
        elif not p.get("userGroupIds"):
            report(f"{label(args)}: no user group: every connection is the built-in `default` user (on ~* +@all "
                   "nopass); attach a user group (user_group_ids) whose `default` is off", None)
    elif args.resource_type == USER and p.get("userName") == "default":
        mode = (p.get("authenticationMode") or {}).get("type")
        passwordless = p.get("noPasswordRequired") is True or mode == "no-password-required"
        if passwordless and str(p.get("accessString", "")).split()[:1] != ["off"]:
            report(f"{label(args)}: a `default` user without a password must be off (access string starting with "
                   "`off`), or any connection is it", None)


cache_authenticates = FloyoResourcePolicy(
    "cache-authenticates",
    "The cache's replication group uses a user group and no AUTH token; a password-less `default` user is off.",
    _authenticates, MANDATORY, HIGH, ["FSBP ElastiCache.6"])

POLICIES = [cache_authenticates]
