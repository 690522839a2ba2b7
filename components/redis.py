"""ElastiCache (Valkey or Redis OSS): a primary and replicas, TLS only, IAM-authenticated users (no AUTH token)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.cache_auth import CacheUsers, cache_users
from components.final_snapshot import final_snapshot_name
from components.secret_ref import json_key
from stacks.cache import CacheSettings
from stacks.resilience import FIS_TARGET_TAG, fis_target

PORT = 6379

VENDED_LOGS_PREFIX = "/aws/vendedlogs/"
"""ElastiCache delivers slow and engine logs as vended logs: on delivery AWS adds the log group to the
account's CloudWatch Logs resource policy (5,120 characters, at most 10 policies per region), unless
the group's name starts with this prefix, which one standing statement covers (CloudWatch Logs User
Guide, "Logs sent to CloudWatch Logs" under "Enabling logging from AWS services")."""


@dataclass(frozen=True)
class RedisArgs:
    """Arguments of `Redis`."""

    settings: CacheSettings
    """The stack's `cache` settings."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Isolated subnets (no route out of the VPC), one per AZ the nodes may use."""
    security_group_id: pulumi.Input[str]
    """The cache tier's group: 6379 from the backend service only."""
    key_arn: pulumi.Input[str]
    """KMS key for data at rest (nodes, snapshots)."""
    logs_key_arn: pulumi.Input[str]
    """KMS key of the slow-log and engine-log groups."""
    protect: bool = False
    """Pulumi `protect` on the replication group, and a final snapshot on delete. Default false; prod passes true."""
    secret_recovery_days: int = 30
    """Migration only: days the deleted AUTH-token secret can still be restored, 7-30. Default 30 (as declared
    by the AUTH layout, so the kept secret is unchanged)."""


class Redis(pulumi.ComponentResource):
    """A replication group with cluster mode disabled: one primary and `replicas` replicas.

    * TLS in transit is required (`transit_encryption_mode = required`); clients authenticate as an
      ElastiCache RBAC user of the group's user group, the backend with IAM (components/cache_auth.py):
      no AUTH token, no secret; data at rest and snapshots are encrypted with the KMS key;
    * with replicas, automatic failover and multi-AZ are on (always in prod);
    * `maxmemory-policy` comes from settings (default allkeys-lru: a cache, not a store);
    * slow log and engine log go to KMS-encrypted CloudWatch log groups with retention;
    * daily snapshots kept `snapshot_retention_days`, a final snapshot in prod.

    Cost: every node (primary + replicas) is billed hourly by node type; snapshots beyond
    the cache's size per GB-month.
    """

    replication_group: aws.elasticache.ReplicationGroup
    multi_az: bool
    """Replicas with Multi-AZ and automatic failover (`cache.replicas` >= 1)."""
    primary_endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    users: CacheUsers
    legacy_secret_arn: pulumi.Output[str] | None
    """Migration only (`cache.legacy_auth_token`): the AUTH layout's secret `cache-auth`, kept for the previous
    task definition (the ECS rollback target), which reads `url` and `auth_token` from it; None otherwise."""

    def __init__(self, name: str, args: RedisArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:data:Redis", name, None, opts)
        s = args.settings
        stack = pulumi.get_stack()
        identifier = f"floyo-{stack}"
        child = pulumi.ResourceOptions(parent=self)
        subnets = aws.elasticache.SubnetGroup(
            f"{name}-subnets", subnet_ids=list(args.subnet_ids), description=f"floyo {stack}: isolated subnets", opts=child,
        )
        parameters = aws.elasticache.ParameterGroup(
            f"{name}-params",
            family=s.parameter_family,
            description=f"floyo {stack}: eviction policy",
            parameters=[aws.elasticache.ParameterGroupParameterArgs(name="maxmemory-policy", value=s.maxmemory_policy)],
            opts=child,
        )
        logs = {
            kind: aws.cloudwatch.LogGroup(
                f"{name}-{kind}", name=f"{VENDED_LOGS_PREFIX}floyo/{stack}/cache/{kind}", retention_in_days=s.log_retention_days,
                kms_key_id=args.logs_key_arn, opts=child,
            )
            for kind in ("slow-log", "engine-log")
        }
        legacy_token = None
        if s.legacy_auth_token:  # migration only: the old token, same URN so the same value, as `default`'s password
            legacy_token = pulumi.Output.secret(
                random.RandomPassword(f"{name}-auth-token", length=64, special=False, opts=child).result)
        self.users = cache_users(name, identifier, legacy_token, child)
        failover = s.replicas >= 1
        self.multi_az = failover
        self.replication_group = aws.elasticache.ReplicationGroup(
            f"{name}-group",
            replication_group_id=identifier,
            description=f"floyo {stack}: application cache",
            engine=s.engine,
            engine_version=s.engine_version,
            node_type=s.node_type,
            port=PORT,
            num_cache_clusters=1 + s.replicas,
            cluster_mode="disabled",
            automatic_failover_enabled=failover,
            multi_az_enabled=failover,
            parameter_group_name=parameters.name,
            subnet_group_name=subnets.name,
            security_group_ids=[args.security_group_id],
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            # RBAC instead of an AUTH token. The provider refuses auth_token together with user_group_ids
            # (ConflictsWith); on a group that still has a token, strategy DELETE makes it send
            # AuthTokenUpdateStrategy=DELETE with UserGroupIdsToAdd in one ModifyReplicationGroup call, AWS's
            # AUTH-to-RBAC transition (terraform-provider-aws internal/service/elasticache/replication_group.go,
            # update: "Transitioning to RBAC"). Ignored on create. docs/tenant-isolation.md has the migration.
            user_group_ids=[self.users.user_group_id],
            auth_token_update_strategy="DELETE",
            at_rest_encryption_enabled=True,
            kms_key_id=args.key_arn,
            snapshot_retention_limit=s.snapshot_retention_days,
            snapshot_window=s.snapshot_window,
            maintenance_window=s.maintenance_window,
            final_snapshot_identifier=final_snapshot_name(
                name, identifier, {"kms_key_id": args.key_arn, "subnet_group": subnets.name}, child,
            ) if args.protect else None,
            auto_minor_version_upgrade=False,
            # prod defers changes to the maintenance window; the AUTH-to-RBAC transition must not wait there while
            # the new tasks already authenticate with IAM (ApplyImmediately=false defers "changes to the nodes";
            # whether RBAC counts is not documented), so the migration deploy applies at once.
            apply_immediately=not args.protect or s.legacy_auth_token,
            log_delivery_configurations=[
                aws.elasticache.ReplicationGroupLogDeliveryConfigurationArgs(
                    destination=group.name, destination_type="cloudwatch-logs", log_format="json", log_type=kind,
                )
                for kind, group in logs.items()
            ],
            tags={"Name": identifier, FIS_TARGET_TAG: fis_target(stack, "cache")},  # how FIS finds it
            # fixed replication_group_id: delete first, or the replacement collides on it (a flagged danger anyway)
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, delete_before_replace=True),
        )
        self.primary_endpoint = self.replication_group.primary_endpoint_address
        self.reader_endpoint = self.replication_group.reader_endpoint_address
        self.legacy_secret_arn = None if legacy_token is None else _legacy_token_secret(
            name, stack, legacy_token, self.primary_endpoint, args, child)
        self.register_outputs({
            "primary_endpoint": self.primary_endpoint, "reader_endpoint": self.reader_endpoint,
            "user_group_id": self.users.user_group_id, "backend_user_arn": self.users.backend_user_arn,
        })


def _legacy_token_secret(name: str, stack: str, token: pulumi.Output[str], host: pulumi.Input[str], args: RedisArgs,
                         opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
    """The AUTH layout's secret, declared exactly as that layout did (same URNs and inputs: kept, not replaced,
    same value: the token still set on the group's `default` user), while `cache.legacy_auth_token` is set.

    The previous task definition, ECS's rollback target during the migration deploy, takes `REDIS_URL` and
    `REDIS_AUTH_TOKEN` from it through the service's execution role, and ECS cannot read a secret scheduled for
    deletion. It goes in the deploy that removes the setting, whose rollback target no longer references it.
    """
    secret = aws.secretsmanager.Secret(
        f"{name}-auth",
        name_prefix=f"floyo/{stack}/cache/auth-",
        description="ElastiCache AUTH token and TLS connection URL for the backend",
        kms_key_id=args.key_arn,
        recovery_window_in_days=args.secret_recovery_days,
        opts=opts,
    )
    document = pulumi.Output.all(token, host).apply(lambda th: json.dumps({
        "auth_token": th[0], "host": th[1], "port": PORT, "url": f"rediss://:{th[0]}@{th[1]}:{PORT}/0",
    }))
    aws.secretsmanager.SecretVersion(
        f"{name}-auth", secret_id=secret.id, secret_string=pulumi.Output.secret(document), opts=opts,
    )
    return secret.arn


LEGACY_SECRET_KEYS = {"REDIS_URL": "url", "REDIS_AUTH_TOKEN": "auth_token"}
"""The AUTH layout's cache env -> the key of `cache-auth` it read."""


def legacy_secret_references(cache: Redis) -> list[pulumi.Output[str]]:
    """`<arn>:<key>::` of the AUTH layout's `REDIS_URL` and `REDIS_AUTH_TOKEN`, while the secret is kept (else
    none): what the previous task definition reads, so the service's execution role keeps reading it."""
    arn = cache.legacy_secret_arn
    if arn is None:
        return []
    return [json_key(arn, key) for key in LEGACY_SECRET_KEYS.values()]
