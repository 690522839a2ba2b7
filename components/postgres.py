"""Aurora PostgreSQL behind RDS Proxy: writer, readers, pooled read-write and read-only endpoints."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.aws_context import AwsContext, assume_role_policy, policy_json
from components.db_iam import TENANT_USERS, connect_statement, dbuser_arns, proxy_resource_id
from components.final_snapshot import final_snapshot_name
from components.kms_key import KmsKey, KmsKeyArgs
from stacks.database import DatabaseSettings
from stacks.resilience import FIS_TARGET_TAG, fis_target

ENGINE = "aurora-postgresql"
PORT = 5432
CA_CERTIFICATE = "rds-ca-rsa2048-g1"
"""The RDS CA the instances' server certificates chain to (what clients verify against)."""


@dataclass(frozen=True)
class AppLogin:
    """A password login with a Secrets Manager secret: only while migrating off the gateway layout (the gateway and
    the app's former password logins, components/db_migration.py). Every other login authenticates by IAM."""

    username: str
    """The PostgreSQL role name, e.g. `app_backend_rw`."""
    read_only: bool
    """True: its connection URL points at the proxy's READ_ONLY endpoint (the readers)."""


@dataclass(frozen=True)
class LoginCredentials:
    """Where a login's password lives; the password itself is only ever a secret Output."""

    username: str
    password: pulumi.Output[str]
    """Marked secret: never printed, exported or stored in plain text."""
    secret_arn: pulumi.Output[str]
    """Secrets Manager secret with JSON keys username, password, host, port, dbname, url."""


@dataclass(frozen=True)
class PostgresArgs:
    """Arguments of `Postgres`."""

    settings: DatabaseSettings
    """The stack's `database` settings."""
    context: AwsContext
    """Account/region/partition."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Isolated subnets (no route out of the VPC) for the instances and the proxy."""
    database_security_group_id: pulumi.Input[str]
    """Group of the instances: 5432 from the proxy's group only."""
    proxy_security_group_id: pulumi.Input[str]
    """Group of the proxy: 5432 from the backend service only."""
    logs_key_arn: pulumi.Input[str]
    """KMS key of the CloudWatch log group the PostgreSQL log is exported to."""
    secrets_key_arn: pulumi.Input[str]
    """KMS key of the app logins' secrets (the key the backend's execution role may decrypt with)."""
    iam_users: Sequence[str] = ()
    """Database users the proxy may log in as with IAM (end-to-end IAM auth), besides every tenant login
    (`tenant_*`). Default none."""
    logins: Sequence[AppLogin] = ()
    """Password logins the proxy still accepts (with a generated password in Secrets Manager): only during a
    migration. Default none. The master user is never one: nothing needs it through the proxy."""
    proxy_logins: Sequence[str] | None = None
    """Of `logins`, the usernames the proxy still logs in with their secret (its `auths`); the others only keep
    their secret (a migration's last step before deleting it). Default: all of `logins`."""
    proxy_depends_on: pulumi.Input[Sequence[pulumi.Resource]] | None = None
    """Resources the proxy waits for, possibly declared later (a `pulumi.deferred_output()`): in the migration's
    `retire` deploy the app login roles, which must be in `rds_iam` before the proxy drops their password `auths`
    (components/db_migration.py). Default none."""
    availability_zones: Sequence[pulumi.Input[str]] = ()
    """AZ of each subnet in `subnet_ids` (the network's pinned AZs); instances go round-robin over
    them. Taken from the subnets, never looked up per run, since an instance's AZ forces its
    replacement. Default none: AWS places the instances."""
    protect: bool = False
    """Pulumi `protect` on the cluster, its key and parameter groups, and a final snapshot on delete.
    Default false; prod passes true."""
    secret_recovery_days: int = 30
    """Days a deleted login secret can still be restored, 7-30. Default 30."""
    backup_tag: tuple[str, str] | None = None
    """Tag (key, value) on the cluster that selects it into the account baseline's AWS Backup plan
    (`stacks.account.aurora_backup_tag(tier)`). Default none: in no AWS Backup plan."""


class Postgres(pulumi.ComponentResource):
    """Aurora PostgreSQL (pinned version) with a writer, N readers and RDS Proxy in front.

    * a customer-managed KMS key (rotated) encrypts storage, Performance Insights and the
      master secret, which RDS generates and rotates in Secrets Manager;
    * cluster parameters force TLS, load `pg_stat_statements`, log slow statements and end
      sessions idle in a transaction; the instance parameters pin `max_connections` so the
      settings' capacity check is exact;
    * the writer and readers are spread over the AZs (readers are promotion tier 1, so a
      reader, not a new instance, takes over the writer's role on failover); Serverless v2
      in dev to save cost;
    * RDS Proxy requires TLS and authenticates end to end with IAM (`default_auth_scheme = IAM_AUTH`):
      clients present an IAM token, and the proxy logs in to the database with IAM too, so no login
      has a password; its default endpoint is read-write (the writer) and a READ_ONLY endpoint pools
      reads over the readers;
    * in prod: deletion protection, a final snapshot, and Pulumi `protect` on the cluster,
      so a change that would replace (destroy) it fails instead of running.

    Cost: each provisioned instance (writer + readers) is billed hourly, the proxy per vCPU
    of the instances, Serverless v2 per ACU-hour; storage and I/O per use.
    """

    key: KmsKey
    cluster: aws.rds.Cluster
    writer: aws.rds.ClusterInstance
    readers: list[aws.rds.ClusterInstance]
    proxy: aws.rds.Proxy
    read_only_endpoint: aws.rds.ProxyEndpoint
    logins: dict[str, LoginCredentials]
    endpoint: pulumi.Output[str]
    reader_endpoint: pulumi.Output[str]
    port: pulumi.Output[int]
    proxy_endpoint: pulumi.Output[str]
    proxy_read_only_endpoint: pulumi.Output[str]
    proxy_resource_id: pulumi.Output[str]
    master_secret_arn: pulumi.Output[str]
    cluster_resource_id: pulumi.Output[str]

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:data:Postgres", name, None, opts)
        s = args.settings
        stack = pulumi.get_stack()
        identifier = f"floyo-{stack}"
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=args.protect)
        self.key = KmsKey(f"{name}-key", KmsKeyArgs(
            context=args.context, description=f"floyo {stack}: Aurora storage, Performance Insights, master secret",
            alias=f"floyo-{stack}-postgres", protect=args.protect,
        ), opts=child)
        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=list(args.subnet_ids), description=f"floyo {stack}: isolated subnets", opts=child,
        )
        family = f"{ENGINE}{s.major_version}"
        cluster_parameters = aws.rds.ClusterParameterGroup(
            f"{name}-cluster-params",
            family=family,
            description=f"floyo {stack}: TLS only, pg_stat_statements, slow-query log",
            parameters=[
                aws.rds.ClusterParameterGroupParameterArgs(name=n, value=v, apply_method=m)
                for n, v, m in self._cluster_parameters(s)
            ],
            opts=kept,
        )
        instance_parameters = aws.rds.ParameterGroup(
            f"{name}-instance-params",
            family=family,
            description=f"floyo {stack}: connection limit",
            parameters=[aws.rds.ParameterGroupParameterArgs(
                name="max_connections", value=str(s.max_connections), apply_method="pending-reboot")],
            opts=kept,
        )
        log_group = aws.cloudwatch.LogGroup(  # created before RDS would create it unencrypted and kept forever
            f"{name}-logs", name=f"/aws/rds/cluster/{identifier}/postgresql", retention_in_days=s.log_retention_days,
            kms_key_id=args.logs_key_arn, opts=child,
        )
        self.cluster = aws.rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=identifier,
            engine=ENGINE,
            engine_mode="provisioned",
            engine_version=s.engine_version,
            allow_major_version_upgrade=False,
            master_username=s.master_username,
            manage_master_user_password=True,
            master_user_secret_kms_key_id=self.key.arn,
            storage_encrypted=True,
            kms_key_id=self.key.arn,
            iam_database_authentication_enabled=True,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[args.database_security_group_id],
            db_cluster_parameter_group_name=cluster_parameters.name,
            port=PORT,
            enabled_cloudwatch_logs_exports=["postgresql"],
            backup_retention_period=s.backup_retention_days,
            preferred_backup_window=s.backup_window,
            preferred_maintenance_window=s.maintenance_window,
            copy_tags_to_snapshot=True,
            delete_automated_backups=False,
            deletion_protection=s.deletion_protection,
            skip_final_snapshot=s.skip_final_snapshot,
            final_snapshot_identifier=None if s.skip_final_snapshot else final_snapshot_name(
                name, identifier,
                {"kms_key_id": self.key.arn, "subnet_group": subnets.name, "master_username": s.master_username},
                child),
            serverlessv2_scaling_configuration=aws.rds.ClusterServerlessv2ScalingConfigurationArgs(
                min_capacity=s.min_capacity, max_capacity=s.max_capacity,
                seconds_until_auto_pause=3600 if s.min_capacity == 0 else None,
            ) if s.serverless else None,
            apply_immediately=not args.protect,
            # Advanced Database Insights is a cluster setting with the cluster's Performance Insights at
            # 465 days (Aurora user guide, "Turning on the Advanced mode of Database Insights"); none of the
            # four forces a replacement (terraform-provider-aws internal/service/rds/cluster.go: no ForceNew).
            database_insights_mode=s.database_insights_mode,
            performance_insights_enabled=True if s.database_insights_mode == "advanced" else None,
            performance_insights_kms_key_id=self.key.arn if s.database_insights_mode == "advanced" else None,
            performance_insights_retention_period=(
                s.performance_insights_retention_days if s.database_insights_mode == "advanced" else None),
            tags={"Name": identifier, FIS_TARGET_TAG: fis_target(stack, "db"),  # how the AZ drill finds it
                  **dict([args.backup_tag] if args.backup_tag else [])},  # baseline's backups
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, depends_on=[log_group],
                # AWS fills in three AZs itself; and the master password is RDS's to rotate.
                ignore_changes=["availabilityZones", "masterPassword"],
                # cluster_identifier is fixed: a replacement created first would collide on it (ops/diff/danger.py
                # still flags every replacement of the cluster; prod is protected on top)
                delete_before_replace=True,
            ),
        )
        monitoring_role = self._monitoring_role(name, args) if s.monitoring_interval_seconds else None
        self._instances(name, identifier, args, instance_parameters, monitoring_role)
        self.master_secret_arn = self.cluster.master_user_secrets.apply(lambda ms: ms[0].secret_arn or "")
        self.logins = {}
        pending = [(login, *self._login_secret(name, login, args)) for login in args.logins]
        proxied = {login.username for login in args.logins} if args.proxy_logins is None else set(args.proxy_logins)
        self._proxy(name, identifier, args, [secret.arn for login, _, secret in pending if login.username in proxied])
        for login, password, secret in pending:
            host = self.proxy_read_only_endpoint if login.read_only else self.proxy_endpoint
            self._login_secret_value(name, login, password, secret, host, s.database_name)
            self.logins[login.username] = LoginCredentials(login.username, password, secret.arn)
        self.endpoint = self.cluster.endpoint
        self.reader_endpoint = self.cluster.reader_endpoint
        self.port = self.cluster.port
        self.cluster_resource_id = self.cluster.cluster_resource_id
        self.register_outputs({
            "endpoint": self.endpoint, "reader_endpoint": self.reader_endpoint,
            "proxy_endpoint": self.proxy_endpoint, "proxy_read_only_endpoint": self.proxy_read_only_endpoint,
            "master_secret_arn": self.master_secret_arn, "key_arn": self.key.arn,
        })

    @staticmethod
    def _cluster_parameters(s: DatabaseSettings) -> list[tuple[str, str, str]]:
        """(name, value, apply method) of the cluster parameter group."""
        return [
            ("rds.force_ssl", "1", "immediate"),
            ("ssl_min_protocol_version", "TLSv1.2", "immediate"),
            ("shared_preload_libraries", "pg_stat_statements", "pending-reboot"),
            ("pg_stat_statements.track", "top", "immediate"),
            ("track_io_timing", "1", "immediate"),
            ("log_min_duration_statement", str(s.log_min_duration_statement_ms), "immediate"),
            ("log_lock_waits", "1", "immediate"),
            ("idle_in_transaction_session_timeout", str(s.idle_in_transaction_session_timeout_ms), "immediate"),
        ]

    def _monitoring_role(self, name: str, args: PostgresArgs) -> aws.iam.Role:
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-monitoring",
            assume_role_policy=assume_role_policy("monitoring.rds.amazonaws.com", args.context),
            opts=child,
        )
        aws.iam.RolePolicyAttachment(
            f"{name}-monitoring",
            role=role.name,
            policy_arn=pulumi.Output.concat(
                "arn:", args.context.partition, ":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"),
            opts=child,
        )
        return role

    def _instances(
        self, name: str, identifier: str, args: PostgresArgs,
        parameters: aws.rds.ParameterGroup, monitoring_role: aws.iam.Role | None,
    ) -> None:
        """The writer (created first, so Aurora makes it the writer) and the readers, round-robin over the AZs."""
        s = args.settings
        azs = list(args.availability_zones)
        instances: list[aws.rds.ClusterInstance] = []
        for i in range(1 + s.reader_count):
            role = "writer" if i == 0 else f"reader-{i}"
            instances.append(aws.rds.ClusterInstance(
                f"{name}-{role}",
                identifier=f"{identifier}-{i}",
                cluster_identifier=self.cluster.id,
                engine=aws.rds.EngineType.AURORA_POSTGRESQL,
                engine_version=self.cluster.engine_version,
                instance_class="db.serverless" if s.serverless else s.instance_class,
                availability_zone=azs[i % len(azs)] if azs else None,
                promotion_tier=0 if i == 0 else 1,
                db_parameter_group_name=parameters.name,
                publicly_accessible=False,
                auto_minor_version_upgrade=False,
                ca_cert_identifier=CA_CERTIFICATE,
                copy_tags_to_snapshot=True,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=self.key.arn,
                performance_insights_retention_period=s.performance_insights_retention_days,
                monitoring_interval=s.monitoring_interval_seconds,
                monitoring_role_arn=monitoring_role.arn if monitoring_role else None,
                apply_immediately=not args.protect,
                tags={"Name": f"{identifier}-{i}", "floyo:role": "writer" if i == 0 else "reader"},
                # fixed identifier: delete first, or the replacement collides on it (a flagged danger anyway)
                opts=pulumi.ResourceOptions(parent=self, depends_on=instances[:1], protect=args.protect,
                                            delete_before_replace=True),
            ))
        self.writer, self.readers = instances[0], instances[1:]

    def _login_secret(self, name: str, login: AppLogin, args: PostgresArgs) -> tuple[
        pulumi.Output[str], aws.secretsmanager.Secret,
    ]:
        """A generated password (a secret Output) and the Secrets Manager secret that will hold it."""
        child = pulumi.ResourceOptions(parent=self)
        slug = login.username.replace("_", "-")
        password = random.RandomPassword(f"{name}-{slug}-password", length=40, special=False, opts=child)
        secret = aws.secretsmanager.Secret(
            f"{name}-{slug}",
            name_prefix=f"floyo/{pulumi.get_stack()}/postgres/{login.username}-",
            description=f"PostgreSQL login {login.username} (used by RDS Proxy and the backend)",
            kms_key_id=args.secrets_key_arn,
            recovery_window_in_days=args.secret_recovery_days,
            opts=child,
        )
        return pulumi.Output.secret(password.result), secret

    def _login_secret_value(
        self, name: str, login: AppLogin, password: pulumi.Output[str], secret: aws.secretsmanager.Secret,
        host: pulumi.Output[str], database: str,
    ) -> None:
        """The secret's JSON: what RDS Proxy reads (username, password) and what the app reads (url)."""
        document = pulumi.Output.all(password, host).apply(lambda ph: json.dumps({
            "engine": "postgres", "username": login.username, "password": ph[0], "host": ph[1], "port": PORT,
            "dbname": database,
            "url": f"postgresql://{login.username}:{ph[0]}@{ph[1]}:{PORT}/{database}?sslmode=require",
        }))
        aws.secretsmanager.SecretVersion(
            f"{name}-{login.username.replace('_', '-')}", secret_id=secret.id,
            secret_string=pulumi.Output.secret(document), opts=pulumi.ResourceOptions(parent=self),
        )

    def _proxy(self, name: str, identifier: str, args: PostgresArgs, login_secret_arns: list[pulumi.Output[str]]) -> None:
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-proxy",
            assume_role_policy=assume_role_policy("rds.amazonaws.com", args.context),
            opts=child,
        )
        # End-to-end IAM: the proxy connects to the cluster as the client's user, with its own role's
        # rds-db:connect on that user (RDS user guide, rds-proxy-iam-setup.html, "end-to-end IAM").
        statements: list[pulumi.Input[dict[str, object]]] = [connect_statement("ConnectAsAppUsers", dbuser_arns(
            args.context, self.cluster.cluster_resource_id, [*args.iam_users, TENANT_USERS]))]
        if login_secret_arns:  # migration only: password logins still log in with their secret
            statements += [
                {"Sid": "ReadLoginSecrets", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                 "Resource": login_secret_arns},
                {"Sid": "DecryptLoginSecrets", "Effect": "Allow", "Action": "kms:Decrypt",
                 "Resource": [args.secrets_key_arn],
                 "Condition": {"StringEquals": {"kms:ViaService": pulumi.Output.concat(
                     "secretsmanager.", args.context.region, ".amazonaws.com")}}},
            ]
        aws.iam.RolePolicy(f"{name}-proxy", role=role.id, policy=policy_json(statements), opts=child)
        self.proxy = aws.rds.Proxy(
            f"{name}-proxy",
            name=identifier,
            engine_family="POSTGRESQL",
            role_arn=role.arn,
            vpc_subnet_ids=list(args.subnet_ids),
            vpc_security_group_ids=[args.proxy_security_group_id],
            require_tls=True,
            debug_logging=False,
            idle_client_timeout=s.proxy.idle_client_timeout_seconds,
            # IAM for every user, client to proxy and proxy to database (pulumi-aws 7.51.1 rds/proxy.py,
            # `default_auth_scheme`: "NONE" or "IAM_AUTH"); `auths` only for a migration's password login.
            default_auth_scheme="IAM_AUTH",
            auths=[
                aws.rds.ProxyAuthArgs(
                    auth_scheme="SECRETS", client_password_auth_type="POSTGRES_SCRAM_SHA_256", iam_auth="DISABLED",
                    secret_arn=arn, description="password login kept during a migration",
                )
                for arn in login_secret_arns
            ] or None,
            tags={"Name": identifier},
            # Fixed name, and new subnets force a new proxy: delete first (connections drop until the new
            # proxy is up, see README "Replacing the proxy"), else the create collides on the name.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True, depends_on=args.proxy_depends_on),
        )
        target_group = aws.rds.ProxyDefaultTargetGroup(
            f"{name}-proxy-pool",
            db_proxy_name=self.proxy.name,
            connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=s.proxy.max_connections_percent,
                max_idle_connections_percent=s.proxy.max_idle_connections_percent,
                connection_borrow_timeout=s.proxy.connection_borrow_timeout_seconds,
            ),
            opts=child,
        )
        target = aws.rds.ProxyTarget(
            f"{name}-proxy-target",
            db_proxy_name=self.proxy.name,
            target_group_name=target_group.name,
            db_cluster_identifier=self.cluster.cluster_identifier,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.writer, *self.readers]),
        )
        # After the target: a READ_ONLY endpoint needs the cluster registered to find its readers.
        self.read_only_endpoint = aws.rds.ProxyEndpoint(
            f"{name}-proxy-read-only",
            db_proxy_name=self.proxy.name,
            db_proxy_endpoint_name=f"{identifier}-read-only",
            vpc_subnet_ids=list(args.subnet_ids),
            vpc_security_group_ids=[args.proxy_security_group_id],
            target_role="READ_ONLY",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[target], delete_before_replace=True),
        )
        self.proxy_endpoint = self.proxy.endpoint
        self.proxy_read_only_endpoint = self.read_only_endpoint.endpoint
        self.proxy_resource_id = proxy_resource_id(self.proxy.arn)
