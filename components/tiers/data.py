"""The data tier: Aurora (with its access host, roles and grants, tenants) and the cache.

The migration off password logins (`database.legacy_password_logins`, `tenant_defaults.legacy_gateway`;
docs/tenant-isolation.md, Migration) decides which logins keep a password, and which URLs the backend and its
rollback target still read.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.aws_context import AwsContext
from components.cache_auth import backend_cache_environment, cache_connect_statement
from components.database_objects import IAM_LOGINS, MIGRATOR, DatabaseObjects, DatabaseObjectsArgs, skip_preview_credentials
from components.db_access import DbAccess, DbAccessArgs
from components.db_connect import backend_database_access
from components.db_migration import URL_SECRETS, migration_phase
from components.postgres import Postgres, PostgresArgs
from components.redis import Redis, RedisArgs, legacy_secret_references
from components.secret_ref import json_key
from components.tenant_gateway import GATEWAY
from components.tenants import Tenants, TenantsArgs
from components.tiers.foundation import Foundation
from components.tiers.needs import BackendNeeds
from stacks import StackSettings
from stacks.account import aurora_backup_tag
from stacks.tenants import backend_document


@dataclass(frozen=True)
class DataTier:
    """The data stores, and what the backend needs to reach them."""

    postgres: Postgres
    db_access: DbAccess
    """The host the deploy's SSM port forward goes through."""
    db_objects: DatabaseObjects
    cache: Redis
    needs: BackendNeeds
    """Hosts, IAM-auth env and `connect` statements; password URLs only while migrating."""


def data_tier(settings: StackSettings, ctx: AwsContext, base: Foundation) -> DataTier:
    """Declare the database, its objects and tenants, and the cache (`protect`ed in prod)."""
    prod, network, groups = settings.tier == "prod", base.network, base.groups
    logs_key_arn, data_key_arn = base.logs_key.arn, base.data_key.arn
    migration = migration_phase(settings)  # docs/tenant-isolation.md, Migration
    login_roles, resolve_login_roles = pulumi.deferred_output()  # declared below, by DatabaseObjects
    postgres = Postgres("db", PostgresArgs(
        settings=settings.database, context=ctx, subnet_ids=network.isolated_subnet_ids,
        database_security_group_id=groups.database.id, proxy_security_group_id=groups.proxy.id,
        logs_key_arn=logs_key_arn, secrets_key_arn=data_key_arn, availability_zones=network.isolated_subnet_azs,
        protect=prod, backup_tag=aurora_backup_tag(settings.tier),
        iam_users=IAM_LOGINS,  # end-to-end IAM; password logins only while migrating (db_migration)
        logins=migration.secrets, proxy_logins=[login.username for login in migration.proxy_logins],
        proxy_depends_on=login_roles if migration.proxy_after_roles else None,
    ))
    # The deploy reaches the writer through an SSM port forward via this host (README, Reaching the database).
    db_access = DbAccess("db-access", DbAccessArgs(
        settings=settings.db_access, context=ctx, vpc_id=network.vpc_id, subnet_id=network.private_subnet_ids[0],
        database_security_group_id=groups.database.id, volume_key_arn=data_key_arn,
        endpoint_security_group_id=network.endpoint_security_group_id,
    ))
    db_objects = DatabaseObjects("dbo", DatabaseObjectsArgs(
        settings=settings.database, tunnel_port=settings.db_access.local_port,
        master_secret_arn=postgres.master_secret_arn,
        depends_on=[postgres.writer, *db_access.path], read_credentials=not skip_preview_credentials(), protect=prod,
        login_passwords={user: postgres.logins[user].password for user in migration.password_users},
    ))
    resolve_login_roles(pulumi.Output.from_input(db_objects.login_roles))
    Tenants("tenants", TenantsArgs(  # per tenant its own IAM login, which can act as that tenant only
        tenants=settings.tenants, defaults=settings.tenant_defaults, database=db_objects.database_name,
        provider=db_objects.provider, tier=settings.tier,
        gateway_password=postgres.logins[GATEWAY].password if GATEWAY in postgres.logins else None,
    ))
    cache = Redis("cache", RedisArgs(
        settings=settings.cache, subnet_ids=network.isolated_subnet_ids, security_group_id=groups.cache.id,
        key_arn=data_key_arn, logs_key_arn=logs_key_arn, protect=prod,
    ))

    environment = backend_cache_environment(cache.users, cache.replication_group.replication_group_id, ctx.region)
    password_urls = {env: json_key(postgres.logins[user].secret_arn, "url")
                     for env, user in URL_SECRETS.items() if user in postgres.logins}  # migration only
    db_connect = backend_database_access(ctx, postgres.proxy_resource_id, settings.database.database_name)
    environment.update(db_connect.environment)  # no database password: IAM tokens (docs/backend-contract.md)
    environment.update({
        "DATABASE_HOST": postgres.proxy_endpoint, "DATABASE_READ_HOST": postgres.proxy_read_only_endpoint,
        "DATABASE_POOL_SIZE": str(settings.backend.db_pool_size),
        "TENANT_SETTINGS": backend_document(settings.tenant_defaults, settings.tenants, settings.backend.max_tasks),
        "REDIS_HOST": cache.primary_endpoint, "REDIS_PORT": "6379", "REDIS_TLS": "true",
    })
    needs = BackendNeeds(
        environment=environment,
        secrets=password_urls if migration.urls else {},  # beside the IAM env, for the running image and its rollback
        task_statements=(cache_connect_statement(cache.replication_group.arn, cache.users.backend_user_arn),
                         db_connect.statement),
        migrate_statements=(db_connect.migrate_statement,), migrate_environment=db_connect.migrate_environment,
        migrate_secrets={"DATABASE_URL": json_key(postgres.logins[MIGRATOR].secret_arn, "url")}
        if migration.urls else {},
        # the rollback target's secrets: the database URLs (`retire`), the cache's AUTH token (`legacy_auth_token`)
        rollback_secrets=(*(password_urls.values() if migration.rollback_urls else ()), *legacy_secret_references(cache)),
    )
    return DataTier(postgres=postgres, db_access=db_access, db_objects=db_objects, cache=cache, needs=needs)
