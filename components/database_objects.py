"""What lives inside the database: the application database, roles, grants, default privileges, extensions."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_postgresql as postgresql

from stacks.database import DatabaseSettings

RW_GROUP = "app_rw"
"""Group role: read and write the application's tables (DML only)."""
RO_GROUP = "app_ro"
"""Group role: read the application's tables (for the readers)."""
MIGRATOR = "migrator"
"""Login role that owns the schema objects: migrations run as it (DDL)."""
BACKEND_RW = "app_backend_rw"
"""The backend's read-write login (member of app_rw), through the proxy's default endpoint."""
BACKEND_RO = "app_backend_ro"
"""The backend's read-only login (member of app_ro), through the proxy's READ_ONLY endpoint."""
EXTENSIONS = ("pg_stat_statements", "pgcrypto")
"""Extensions the application needs in its database."""
APP_SCHEMA = "public"
"""The schema the application's own tables live in (tenants get their own schemas)."""

TABLE_RW = ["SELECT", "INSERT", "UPDATE", "DELETE"]
SEQUENCE_RW = ["USAGE", "SELECT", "UPDATE"]


@dataclass(frozen=True)
class DatabaseObjectsArgs:
    """Arguments of `DatabaseObjects`."""

    settings: DatabaseSettings
    """The stack's `database` settings (database name, admin host/port override, engine version)."""
    writer_endpoint: pulumi.Input[str]
    """The cluster's writer endpoint: where the provider connects unless `admin_host` is set."""
    port: pulumi.Input[int]
    """The cluster's port."""
    master_secret_arn: pulumi.Input[str]
    """The RDS-managed master secret; the provider's credentials are read from it at deploy time."""
    login_passwords: Mapping[str, pulumi.Input[str]]
    """Login role name -> its generated password (secret Outputs): migrator and the backend's logins."""
    protect: bool = False
    """Pulumi `protect` on the application database. Default false; prod passes true."""


class DatabaseObjects(pulumi.ComponentResource):
    """Roles and privileges as code, through the postgresql provider.

    ```
    migrator (login, owns the objects) --default privileges--> app_rw: DML   <- app_backend_rw (login)
                                                            \\-> app_ro: SELECT <- app_backend_ro (login)
    tenants: one NOLOGIN role per tenant owning its own schema, reached only by SET ROLE from the gateway (`Tenants`)
    ```
    PUBLIC loses CONNECT on the database and USAGE on `public`, so a role sees only what it
    is granted. The database itself is never dropped by Pulumi (`retain_on_delete`).

    The provider connects to the writer (or `admin_host`:`admin_port`, for a tunnel) with the
    master user's credentials, read from the RDS-managed secret during `pulumi up`: whoever
    runs it needs network reach to the writer and read access to that secret.
    """

    admin_provider: postgresql.Provider
    provider: postgresql.Provider
    database: postgresql.Database
    database_name: pulumi.Output[str]

    def __init__(self, name: str, args: DatabaseObjectsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:data:DatabaseObjects", name, None, opts)
        s = args.settings
        master = aws.secretsmanager.get_secret_version_output(
            secret_id=args.master_secret_arn, opts=pulumi.InvokeOutputOptions(parent=self),
        )
        credentials = pulumi.Output.secret(master.secret_string).apply(json.loads)
        connection = {
            "host": s.admin_host or args.writer_endpoint,
            "port": s.admin_port if s.admin_host else args.port,
            "username": pulumi.Output.secret(credentials.apply(lambda c: str(c["username"]))),
            "password": pulumi.Output.secret(credentials.apply(lambda c: str(c["password"]))),
        }
        self.admin_provider = postgresql.Provider(
            f"{name}-admin", database="postgres", sslmode="require", superuser=False, connect_timeout=15,
            expected_version=s.engine_version, **connection, opts=pulumi.ResourceOptions(parent=self),
        )
        self.database = postgresql.Database(
            f"{name}-database",
            name=s.database_name,
            encoding="UTF8",
            lc_collate="en_US.UTF-8",
            lc_ctype="en_US.UTF-8",
            template="template0",
            allow_connections=True,
            opts=pulumi.ResourceOptions(
                parent=self, provider=self.admin_provider, protect=args.protect, retain_on_delete=True,
            ),
        )
        self.database_name = self.database.name
        # Everything else is declared inside the application database (roles are cluster-wide,
        # but dropping one reassigns what it owns in this database, so it must connect here).
        self.provider = postgresql.Provider(
            f"{name}-app", database=self.database.name, sslmode="require", superuser=False, connect_timeout=15,
            expected_version=s.engine_version, **connection, opts=pulumi.ResourceOptions(parent=self),
        )
        self._roles(name, args)
        self.register_outputs({"database_name": self.database_name})

    def _roles(self, name: str, args: DatabaseObjectsArgs) -> None:
        opts = pulumi.ResourceOptions(parent=self, provider=self.provider)
        database = self.database.name

        def role(key: str, role_name: str, login: bool, password: pulumi.Input[str] | None = None,
                 roles: list[pulumi.Input[str]] | None = None) -> postgresql.Role:
            return postgresql.Role(
                f"{name}-{key}", name=role_name, login=login, password=password, roles=roles,
                encrypted_password=True if password is not None else None, opts=opts,
            )

        groups = {
            RW_GROUP: role("app-rw", RW_GROUP, login=False),
            RO_GROUP: role("app-ro", RO_GROUP, login=False),
        }
        migrator = role("migrator", MIGRATOR, login=True, password=args.login_passwords[MIGRATOR])
        role("backend-rw", BACKEND_RW, login=True, password=args.login_passwords[BACKEND_RW],
             roles=[groups[RW_GROUP].name])
        role("backend-ro", BACKEND_RO, login=True, password=args.login_passwords[BACKEND_RO],
             roles=[groups[RO_GROUP].name])

        def grant(key: str, grantee: pulumi.Input[str], object_type: str, privileges: list[str],
                  schema: str | None = None) -> None:
            postgresql.Grant(
                f"{name}-{key}", database=database, role=grantee, object_type=object_type, schema=schema,
                privileges=privileges, opts=opts,
            )

        # Nothing by default: PUBLIC may neither connect nor look into the app schema.
        grant("public-database", "public", "database", [])
        grant("public-schema", "public", "schema", [], schema=APP_SCHEMA)
        for key, grantee in (("app-rw", groups[RW_GROUP]), ("app-ro", groups[RO_GROUP]),
                             ("migrator", migrator)):
            grant(f"{key}-connect", grantee.name, "database", ["CONNECT"])
        grant("migrator-schema", migrator.name, "schema", ["USAGE", "CREATE"], schema=APP_SCHEMA)
        for key, group, tables, sequences in (("app-rw", groups[RW_GROUP], TABLE_RW, SEQUENCE_RW),
                                              ("app-ro", groups[RO_GROUP], ["SELECT"], ["SELECT"])):
            grant(f"{key}-schema", group.name, "schema", ["USAGE"], schema=APP_SCHEMA)
            grant(f"{key}-tables", group.name, "table", tables, schema=APP_SCHEMA)
            grant(f"{key}-sequences", group.name, "sequence", sequences, schema=APP_SCHEMA)
            for object_type, privileges in (("table", tables), ("sequence", sequences)):
                postgresql.DefaultPrivileges(
                    f"{name}-{key}-default-{object_type}s", database=database, owner=migrator.name, role=group.name,
                    schema=APP_SCHEMA, object_type=object_type, privileges=privileges, opts=opts,
                )
        for extension in EXTENSIONS:
            postgresql.Extension(
                f"{name}-{extension.replace('_', '-')}", name=extension, database=database, schema=APP_SCHEMA, opts=opts,
            )
