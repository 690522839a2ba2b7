"""What lives inside the database: the application database, roles, grants, default privileges, extensions."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_postgresql as postgresql

from stacks.database import DatabaseSettings

RW_GROUP = "app_rw"
"""Group role: read and write the application's tables (DML only)."""
RO_GROUP = "app_ro"
"""Group role: read the application's tables (for the readers)."""
MIGRATOR = "migrator"
"""Login role that owns the schema objects: migrations run as it (DDL). IAM-authenticated (`rds_iam`)."""
BACKEND_RW = "app_backend_rw"
"""The backend's read-write login (member of app_rw), through the proxy's default endpoint. IAM-authenticated."""
BACKEND_RO = "app_backend_ro"
"""The backend's read-only login (member of app_ro), through the proxy's READ_ONLY endpoint. IAM-authenticated."""
IAM_LOGINS = (MIGRATOR, BACKEND_RW, BACKEND_RO)
"""The app's own logins; each is a member of `rds_iam` and has no password (tenants' logins come on top)."""
EXTENSIONS = ("pg_stat_statements", "pgcrypto")
"""Extensions the application needs in its database."""
APP_SCHEMA = "public"
"""The schema the application's own tables live in (tenants get their own schemas)."""

RDS_IAM = "rds_iam"
"""RDS's role: its members log in with an IAM token only (Aurora user guide, "Creating a database account
using IAM authentication")."""

TABLE_RW = ["SELECT", "INSERT", "UPDATE", "DELETE"]
SEQUENCE_RW = ["USAGE", "SELECT", "UPDATE"]


TUNNEL_HOST = "127.0.0.1"
"""Where the postgresql provider always connects: the local end of `python -m ops tunnel` (an SSM port
forward through the access host to the writer). The same on a laptop and in CI, so the provider's
configuration never changes between runs (`sslmode=require` still encrypts end to end to Aurora)."""
SKIP_PREVIEW_CREDENTIALS = "FLOYO_PREVIEW_WITHOUT_DB_CREDENTIALS"
"""Environment variable: when `1` and the run is a preview, the master secret is not read and the provider's
credentials stay unknown (for PR previews under a role that may not read the secret)."""


@dataclass(frozen=True)
class DatabaseObjectsArgs:
    """Arguments of `DatabaseObjects`."""

    settings: DatabaseSettings
    """The stack's `database` settings (database name, engine version)."""
    tunnel_port: int
    """Local port of the tunnel (`db_access.local_port`): the provider connects to `TUNNEL_HOST` on it."""
    master_secret_arn: pulumi.Input[str]
    """The RDS-managed master secret; the provider's credentials are read from it at deploy time."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What must exist before the provider connects: the writer instance (the cluster endpoint exists before
    any instance does) and the access path (host and security group rules). Default none."""
    read_credentials: bool = True
    """Read the master secret. Default true; false only for previews under a role that may not read it
    (`SKIP_PREVIEW_CREDENTIALS`): the credentials are then unknown and the engine skips the provider's diffs."""
    protect: bool = False
    """Pulumi `protect` on the application database. Default false; prod passes true."""
    login_passwords: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Migration only (`database.legacy_password_logins: keep`): app login -> its password (secret Output). Such a
    login keeps its password, exactly as the password layout declared it, and is not in `rds_iam`. Default none."""


def skip_preview_credentials() -> bool:
    """True for a preview run with `FLOYO_PREVIEW_WITHOUT_DB_CREDENTIALS=1`; outside previews it is ignored.
    Set it only for `pulumi preview` under a read-only role, never for `pulumi refresh`: a refresh (even
    `--preview-only`) with unknown provider credentials cannot read the database's objects."""
    return pulumi.runtime.is_dry_run() and os.environ.get(SKIP_PREVIEW_CREDENTIALS) == "1"


def _unknown_secret() -> pulumi.Output[str]:
    """A secret Output whose value is unknown, as a resource output is during a preview."""
    value: asyncio.Future[str] = asyncio.get_event_loop().create_future()
    value.set_result("")
    known: asyncio.Future[bool] = asyncio.get_event_loop().create_future()
    known.set_result(False)
    secret: asyncio.Future[bool] = asyncio.get_event_loop().create_future()
    secret.set_result(True)
    return pulumi.Output(set(), value, known, secret)


class DatabaseObjects(pulumi.ComponentResource):
    """Roles and privileges as code, through the postgresql provider.

    ```
    migrator (login, owns the objects) --default privileges--> app_rw: DML   <- app_backend_rw (login)
                                                            \\-> app_ro: SELECT <- app_backend_ro (login)
    tenants: per tenant a NOLOGIN role owning its schema and the login tenant_<slug> (`Tenants`)
    ```
    Every login is a member of `rds_iam` and has no password: it authenticates with an IAM token through
    RDS Proxy (end-to-end IAM). Memberships are declared in each Role's own `roles`, never by `GrantRole`.
    PUBLIC loses CONNECT on the database and USAGE on `public`, so a role sees only what it
    is granted. The database itself is never dropped by Pulumi (`retain_on_delete`).

    The provider connects to `TUNNEL_HOST`:`tunnel_port`, the local end of an SSM port forward to the
    writer (`python -m ops tunnel STACK -- pulumi up`), with the master user's credentials read from the
    RDS-managed secret while the program runs: whoever runs it needs the tunnel (ssm:StartSession) and read
    access to that secret. Refresh and destroy must run the program (`--run-program`) so they use the
    current password, not the one in state (RDS rotates it every 7 days).
    """

    admin_provider: postgresql.Provider
    provider: postgresql.Provider
    database: postgresql.Database
    database_name: pulumi.Output[str]
    login_roles: list[postgresql.Role]
    """The app's login roles: migrator, app_backend_rw, app_backend_ro."""

    def __init__(self, name: str, args: DatabaseObjectsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:data:DatabaseObjects", name, None, opts)
        s = args.settings
        if args.read_credentials:
            master = aws.secretsmanager.get_secret_version_output(
                secret_id=args.master_secret_arn, opts=pulumi.InvokeOutputOptions(parent=self),
            )
            credentials = pulumi.Output.secret(master.secret_string).apply(json.loads)
            username = pulumi.Output.secret(credentials.apply(lambda c: str(c["username"])))
            password = pulumi.Output.secret(credentials.apply(lambda c: str(c["password"])))
        else:
            username, password = _unknown_secret(), _unknown_secret()
        connection = {"host": TUNNEL_HOST, "port": args.tunnel_port, "username": username, "password": password}
        provider_opts = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        self.admin_provider = postgresql.Provider(
            f"{name}-admin", database="postgres", sslmode="require", superuser=False, connect_timeout=15,
            expected_version=s.engine_version, **connection, opts=provider_opts,
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
            expected_version=s.engine_version, **connection, opts=provider_opts,
        )
        self._roles(name, args)
        self.register_outputs({"database_name": self.database_name})

    def _roles(self, name: str, args: DatabaseObjectsArgs) -> None:
        opts = pulumi.ResourceOptions(parent=self, provider=self.provider)
        database = self.database.name

        def role(key: str, role_name: str, login: bool, roles: list[pulumi.Input[str]] | None = None) -> postgresql.Role:
            password = args.login_passwords.get(role_name)
            if password is None:  # IAM: a member of rds_iam, no password
                roles = [*(roles or []), RDS_IAM] if login else roles
            return postgresql.Role(  # a kept password login is declared as the password layout did
                f"{name}-{key}", name=role_name, login=login, password=password, roles=roles,
                encrypted_password=True if password is not None else None, opts=opts,
            )

        groups = {
            RW_GROUP: role("app-rw", RW_GROUP, login=False),
            RO_GROUP: role("app-ro", RO_GROUP, login=False),
        }
        migrator = role("migrator", MIGRATOR, login=True)
        self.login_roles = [migrator, role("backend-rw", BACKEND_RW, login=True, roles=[groups[RW_GROUP].name]),
                            role("backend-ro", BACKEND_RO, login=True, roles=[groups[RO_GROUP].name])]

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
