"""One identity per stack: a stack name AWS accepts everywhere it is used, and a tier that fits it.

The stack name (`pulumi stack select <name>`, the `<name>` of `Pulumi.<name>.yaml`) builds the
physical names below. Each must satisfy the rules of the API it reaches, so the name is checked
once, here, against the tightest of them, before any resource is declared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stacks.base import PROJECT, Tier
from stacks.errors import Problem

STACK_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
"""Lower-case letters and digits in hyphen-separated words, starting with a letter: no underscore,
no double or trailing hyphen. The intersection of the rules below (RDS and ElastiCache identifiers:
letters, digits, hyphens, first a letter, no `--`, no trailing `-`; S3 bucket names: lower case)."""


@dataclass(frozen=True)
class DerivedName:
    """A physical name built from the stack name, and the longest value its API accepts."""

    template: str
    """The name with `{stack}` where the stack name goes (its longest form: the longest suffix used)."""
    what: str
    """Which resource and attribute, and where the limit comes from."""
    limit: int

    def room(self) -> int:
        """Characters left for the stack name."""
        return self.limit - len(self.template.replace("{stack}", ""))


DERIVED_NAMES: tuple[DerivedName, ...] = (
    DerivedName("floyo-{stack}-alb-logs-", "S3 bucket_prefix of the load balancer's access logs (components/"
                "load_balancer.py): bucket names are at most 63, the provider appends a 26-character unique "
                "suffix, so the prefix is at most 37 (terraform-provider-aws aws_s3_bucket: "
                "StringLenBetween(0, 63-id.UniqueIDSuffixLength))", 37),
    DerivedName("floyo-{stack}", "ElastiCache replication group id (components/redis.py): 1 to 40 "
                "characters (CreateReplicationGroup, ReplicationGroupId)", 40),
    DerivedName("floyo-{stack}-default", "ElastiCache user ids floyo-<stack>-backend/-default (components/"
                "cache_auth.py): the API reference gives no maximum (CreateUser, UserId); held to 40 like "
                "ElastiCache's other identifiers, which leaves more room than the S3 prefix", 40),
    DerivedName("floyo-{stack}-read-only", "RDS Proxy endpoint name (components/postgres.py): at most 63 "
                "(CreateDBProxyEndpoint, DBProxyEndpointName)", 63),
    DerivedName("floyo-{stack}-15", "RDS instance identifier (components/postgres.py, writer + up to 15 "
                "readers): at most 63 (CreateDBInstance, DBInstanceIdentifier)", 63),
    DerivedName("floyo-{stack}", "RDS cluster identifier and RDS Proxy name (components/postgres.py): at most "
                "63 (CreateDBCluster, DBClusterIdentifier; CreateDBProxy, DBProxyName)", 63),
    DerivedName("floyo-{stack}-final", "final snapshot identifiers of the cluster and the replication group", 255),
    DerivedName("floyo-{stack}-backend", "ECS task definition family (components/backend.py)", 255),
)
"""Every physical name built from the stack name, with its API's length limit. Other uses
(`/floyo/<stack>/...` log groups and secrets, alarm and topic names, KMS aliases, the dashboard)
allow 255 to 512 characters and accept everything `STACK_NAME` allows."""

MAX_STACK_NAME = min(d.room() for d in DERIVED_NAMES)
"""The longest stack name every derived name fits (21: the S3 bucket prefix is the tightest)."""

PROD_NAME = re.compile(r"^prod")
"""Stack names that are production by name (`prod`, `prod-eu`, ...): they run with `tier: prod`."""


def stack_name_problems(stack: str) -> list[Problem]:
    """Why AWS would refuse a name built from `stack` (empty when it is fine)."""
    if STACK_NAME.match(stack) and len(stack) <= MAX_STACK_NAME:
        return []
    tightest = min(DERIVED_NAMES, key=DerivedName.room)
    if not STACK_NAME.match(stack):
        why = ("must be lower-case letters and digits in hyphen-separated words, starting with a letter "
               "(no underscore, capital, double or trailing hyphen), since it builds RDS, ElastiCache and S3 "
               "names such as " + tightest.template.replace("{stack}", stack))
    else:
        why = (f"is {len(stack)} characters; at most {MAX_STACK_NAME}, since it builds "
               f"{tightest.template.replace('{stack}', stack)!r} ({tightest.what})")
    return [Problem("stack name", repr(stack), why)]


def tier_problems(stack: str, tier: Tier | None, override: str | None) -> list[Problem]:
    """A stack named `prod*` runs with `tier: prod`, unless `tier_override` names this very stack."""
    if tier is None or tier == "prod" or not PROD_NAME.match(stack) or override == stack:
        return []
    return [Problem(f"{PROJECT}:tier", repr(tier),
                    f"stack '{stack}' is a production stack by name (prod*), so it runs with tier: prod "
                    f"(dev switches every prod guardrail off); to run it as dev on purpose, also set "
                    f"{PROJECT}:tier_override: {stack}")]
