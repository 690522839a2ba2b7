"""What the backend's tasks get to reach the database without a password: env and `rds-db:connect`.

The backend logs in through RDS Proxy with an IAM token it signs itself (boto3 `generate_db_auth_token`,
docs/backend-contract.md); the task role may connect as exactly `app_backend_rw`, `app_backend_ro` and the
tenant logins `tenant_*` on this proxy, and the one-off migrate task as `migrator` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.aws_context import AwsContext
from components.database_objects import BACKEND_RO, BACKEND_RW, MIGRATOR
from components.db_iam import TENANT_USERS, connect_statement, dbuser_arns
from components.postgres import PORT
from stacks.tenants import LOGIN_PREFIX


@dataclass(frozen=True)
class DatabaseAccess:
    """The backend's database env (no secret among it) and its task roles' `rds-db:connect` statements."""

    environment: dict[str, pulumi.Input[str]]
    """Plain env of the service's container (hosts are added by the caller)."""
    statement: pulumi.Output[dict[str, Any]]
    """The service's task role: connect as the backend's logins and every tenant login."""
    migrate_statement: pulumi.Output[dict[str, Any]]
    """The migrate task's role: connect as `migrator` only."""
    migrate_environment: dict[str, pulumi.Input[str]]
    """What the migrate task's env changes: its user."""


def backend_database_access(context: AwsContext, proxy_resource_id: pulumi.Input[str], database: str) -> DatabaseAccess:
    """Env names and IAM for the backend's end-to-end IAM connections (docs/backend-contract.md)."""
    environment: dict[str, pulumi.Input[str]] = {
        "DATABASE_PORT": str(PORT), "DATABASE_NAME": database,
        # The proxy presents a certificate issued by ACM (Amazon Trust Services roots), not the RDS CA.
        "DATABASE_SSLMODE": "verify-full", "DATABASE_SSLROOTCERT": "system",
        "DATABASE_AUTH": "iam", "DATABASE_REGION": context.region,
        "DATABASE_USER": BACKEND_RW, "DATABASE_READ_USER": BACKEND_RO, "DATABASE_TENANT_USER_PREFIX": LOGIN_PREFIX,
    }
    return DatabaseAccess(
        environment=environment,
        statement=connect_statement("ConnectAsBackendAndTenants", dbuser_arns(
            context, proxy_resource_id, [BACKEND_RW, BACKEND_RO, TENANT_USERS])),
        migrate_statement=connect_statement("ConnectAsMigrator", dbuser_arns(context, proxy_resource_id, [MIGRATOR])),
        migrate_environment={"DATABASE_USER": MIGRATOR},
    )
