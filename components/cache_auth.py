"""Who may open a connection to the cache: ElastiCache RBAC users, one IAM-authenticated, no stored secret.

* The backend's user authenticates with IAM (`authentication_mode {type: iam}`): the app signs a short-lived
  token itself (docs/backend-contract.md), the task role holds `elasticache:Connect` on exactly this
  replication group and this user. IAM auth needs `user_id == user_name` (ElastiCache guide, "Authenticating
  with IAM", Limitations).
* Every user group must hold a user named `default` (API error `DefaultUserRequired`; CloudFormation
  AWS::ElastiCache::UserGroup, UserIds: "A user named default must be included"). The account's built-in
  `default` user is `on ~* +@all nopass`, so the group gets its own `default` (another user id) that is
  switched off (`off`: nobody can authenticate as it), may run nothing (`-@all`) and has a random password
  nobody holds (see `DEFAULT_PASSWORD_LENGTH`).
* Users and the group use engine `redis`: a Valkey cache accepts `redis` user groups (a `valkey` group may
  only hold users that authenticate, password or IAM; ElastiCache guide, "Role-Based Access Control (RBAC)",
  limitations). `redis` also works for `cache.engine = redis`, whose caches take `redis` groups only; and the
  engine of a user group forces its replacement, so it stays `redis`.
* Quotas per account and region: 1,000 users, 100 user groups, 100 users per group (same page); this stack
  uses 2 users and 1 group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_random as random

USER_ENGINE = "redis"
"""Engine of the users and the user group (see the module docstring)."""

BACKEND_ACCESS = "on ~* +@all -@dangerous"
"""The backend's rights: every key, every command but `@dangerous` ones (FLUSHALL, FLUSHDB, KEYS,
CONFIG, DEBUG, MONITOR, ...), which an application cache never needs and an injected command must not run."""

LEGACY_ACCESS = "on ~* +@all"
"""What the AUTH token allowed (the built-in `default` user's rights): kept only while migrating."""

DEFAULT_PASSWORD_LENGTH = 64
"""The disabled `default` user's random password (ElastiCache: 16-128 printable characters; letters and digits
here, so none of the refused characters). Type `password`, not `no-password-required`: AWS reads a
password-less user back as `no-password` (botocore's `AuthenticationType` enum: password | no-password | iam;
the input enum `InputAuthenticationType` says no-password-required), and terraform-provider-aws
`internal/service/elasticache/user.go` stores that type on read with no DiffSuppressFunc, so every run would
diff. Stored only as a Pulumi secret (RandomPassword `result`), never in Secrets Manager or an env: nobody uses it."""

DISABLED_ACCESS = "off -@all"
"""The group's `default` user: off (no connection can authenticate as it) and allowed no command."""


@dataclass(frozen=True)
class CacheUsers:
    """The user group and the backend's IAM user."""

    user_group_id: pulumi.Output[str]
    """Goes into the replication group's `user_group_ids`."""
    backend_user_name: str
    """The name the backend authenticates as (`REDIS_USER`); equal to its user id."""
    backend_user_arn: pulumi.Output[str]
    """For `elasticache:Connect`."""


def cache_users(
    name: str, identifier: str, legacy_token: pulumi.Input[str] | None, opts: pulumi.ResourceOptions,
) -> CacheUsers:
    """The users and user group of the replication group `identifier` (`floyo-<stack>`).

    `legacy_token`: migration only (`cache.legacy_auth_token`): the group's `default` user takes the old AUTH
    token as its password with the old rights, so clients still sending `AUTH <token>` (which authenticates as
    `default`) keep working while the backend moves to IAM; None (the normal case) disables `default` and gives
    it a random password (RandomPassword `<name>-default-password`).
    """
    backend_name = f"{identifier}-backend"  # user ids: [a-zA-Z][a-zA-Z0-9-]*, unique per account and region
    backend = aws.elasticache.User(
        f"{name}-backend-user",
        user_id=backend_name, user_name=backend_name,  # IAM auth: must be equal
        engine=USER_ENGINE, access_string=BACKEND_ACCESS,
        authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="iam"),
        tags={"Name": backend_name}, opts=opts,
    )
    if legacy_token is None:  # a password nobody knows on a user that is `off` anyway: see DEFAULT_PASSWORD_LENGTH
        password: pulumi.Input[str] = pulumi.Output.secret(random.RandomPassword(
            f"{name}-default-password", length=DEFAULT_PASSWORD_LENGTH, special=False, opts=opts).result)
    else:
        password = legacy_token
    default = aws.elasticache.User(
        f"{name}-default-user",
        user_id=f"{identifier}-default", user_name="default",
        engine=USER_ENGINE, access_string=DISABLED_ACCESS if legacy_token is None else LEGACY_ACCESS,
        authentication_mode=aws.elasticache.UserAuthenticationModeArgs(type="password", passwords=[password]),
        tags={"Name": f"{identifier}-default"}, opts=opts,
    )
    group = aws.elasticache.UserGroup(
        f"{name}-users",
        user_group_id=identifier,  # [a-z][a-z0-9-]*, stored lowercase
        engine=USER_ENGINE, user_ids=[default.user_id, backend.user_id],
        tags={"Name": identifier}, opts=opts,
    )
    return CacheUsers(user_group_id=group.user_group_id, backend_user_name=backend_name, backend_user_arn=backend.arn)


def cache_connect_statement(
    replication_group_arn: pulumi.Input[str], user_arn: pulumi.Input[str],
) -> pulumi.Output[dict[str, Any]]:
    """`elasticache:Connect` on exactly the replication group and the backend's user: IAM auth checks both
    (ElastiCache guide, "Authenticating with IAM", Setup: the policy names the cache and the user)."""
    return pulumi.Output.all(replication_group_arn, user_arn).apply(lambda arns: {
        "Sid": "ConnectToCacheAsBackend", "Effect": "Allow", "Action": "elasticache:Connect", "Resource": sorted(arns),
    })


def backend_cache_environment(users: CacheUsers, replication_group_id: pulumi.Input[str],
                              region: pulumi.Input[str]) -> dict[str, pulumi.Input[str]]:
    """The backend's cache env besides host, port and TLS: who it authenticates as and what it signs for
    (docs/backend-contract.md, "The cache"). No secret: the token is signed by the app."""
    return {
        "REDIS_AUTH": "iam", "REDIS_USER": users.backend_user_name,
        "REDIS_CACHE_NAME": replication_group_id, "REDIS_REGION": region,
    }
