"""Roles, grants and default privileges inside the database; secrets never in plain text."""

from __future__ import annotations

import json

from ops.plan.planner import Plan
from tests.planning import container_definitions, one, settings_for, with_changes

ROLE = "postgresql:index/role:Role"
GRANT = "postgresql:index/grant:Grant"
DEFAULTS = "postgresql:index/defaultPrivileges:DefaultPrivileges"


def roles(plan: Plan) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in plan.of_type(ROLE)}


def grants_to(plan: Plan, role: str) -> list[dict]:
    return [g.inputs for g in plan.of_type(GRANT) if g.inputs["role"] == role]


def test_provider_connects_through_the_tunnel_with_tls_and_secret_credentials(plan: Plan) -> None:
    # The writer is reached through `ops tunnel` (an SSM port forward to the writer endpoint, see
    # tests/test_ops_tunnel.py); the provider itself always points at the tunnel's local end.
    for provider in plan.of_type("pulumi:providers:postgresql"):
        assert provider.inputs["host"] == "127.0.0.1"
        assert provider.inputs["sslmode"] == "require"
        assert provider.inputs["username"] == "[secret]" and provider.inputs["password"] == "[secret]"
        assert provider.inputs["superuser"] == "false"  # RDS's master is not a superuser


def test_database_is_never_dropped_by_pulumi(plan: Plan, stack: str) -> None:
    database = one(plan, "postgresql:index/database:Database")
    assert database.inputs["name"] == settings_for(with_changes(stack)).database.database_name
    assert database.protect is (stack == "prod") and database.retain_on_delete is True


def test_group_and_login_roles(plan: Plan) -> None:
    found = roles(plan)
    assert found["app_rw"]["login"] is False and found["app_ro"]["login"] is False
    assert found["migrator"]["login"] is True
    assert found["app_backend_rw"]["roles"] == ["app_rw", "rds_iam"]
    assert found["app_backend_ro"]["roles"] == ["app_ro", "rds_iam"] and found["migrator"]["roles"] == ["rds_iam"]
    for login in ("migrator", "app_backend_rw", "app_backend_ro"):
        assert "password" not in found[login]  # IAM tokens only: no password in state or any secret


def test_rw_may_write_ro_may_only_read(plan: Plan) -> None:
    rw = {(g["objectType"], tuple(g["privileges"])) for g in grants_to(plan, "app_rw")}
    ro = {(g["objectType"], tuple(g["privileges"])) for g in grants_to(plan, "app_ro")}
    assert ("table", ("SELECT", "INSERT", "UPDATE", "DELETE")) in rw
    assert ("table", ("SELECT",)) in ro and ("sequence", ("SELECT",)) in ro
    for _, privileges in ro:
        assert set(privileges) <= {"SELECT", "USAGE", "CONNECT"}
    for _, privileges in rw | ro:
        assert not {"CREATE", "TRUNCATE", "REFERENCES", "TRIGGER", "ALL"} & set(privileges)
    ddl = [g for g in grants_to(plan, "migrator") if "CREATE" in g["privileges"]]
    assert ddl and all(g["objectType"] == "schema" and g["schema"] == "public" for g in ddl)


def test_public_gets_nothing(plan: Plan) -> None:
    public = grants_to(plan, "public")
    assert {g["objectType"] for g in public} == {"database", "schema"}
    assert all(g["privileges"] == [] for g in public)


def test_tables_created_by_migrator_are_usable_by_the_right_roles(plan: Plan) -> None:
    defaults = {(d["role"], d["objectType"]): d for d in (r.inputs for r in plan.of_type(DEFAULTS))}
    assert all(d["owner"] == "migrator" and d["schema"] == "public" for d in defaults.values())
    assert set(defaults[("app_rw", "table")]["privileges"]) == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert defaults[("app_ro", "table")]["privileges"] == ["SELECT"]
    assert {"USAGE", "SELECT"} <= set(defaults[("app_rw", "sequence")]["privileges"])


def test_extensions(plan: Plan) -> None:
    names = {e.inputs["name"] for e in plan.of_type("postgresql:index/extension:Extension")}
    assert {"pg_stat_statements", "pgcrypto"} <= names


def test_backend_gets_proxy_hosts_and_no_database_secret(plan: Plan) -> None:
    app = container_definitions(plan)[0]
    secrets = {s["name"]: s["valueFrom"] for s in app["secrets"]}
    assert plan.outputs["database_login_secret_arns"] == {}
    assert not [name for name in secrets if name.startswith("DATABASE_")]
    assert not [name for name in secrets if name.startswith("REDIS_")]  # the cache: IAM too (test_cache_auth.py)
    env = {e["name"]: e["value"] for e in app["environment"]}
    assert env["DATABASE_HOST"] == plan.outputs["database_proxy_endpoint"]
    assert env["DATABASE_READ_HOST"] == plan.outputs["database_proxy_read_only_endpoint"]
    assert env["REDIS_HOST"] == plan.outputs["cache_primary_endpoint"]
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-execution").inputs["policy"])
    reads = [r for s in policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue" for r in s["Resource"]]
    assert not any("/postgres/" in r or "rds!" in r or "/cache/" in r for r in reads)  # no data-tier secret to read


def test_login_secrets_encrypted_and_recoverable(plan: Plan) -> None:
    for secret in plan.of_type("aws:secretsmanager/secret:Secret"):
        assert secret.inputs["kmsKeyId"].startswith("arn:aws:kms:")
        assert secret.inputs["recoveryWindowInDays"] >= 7
    for version in plan.of_type("aws:secretsmanager/secretVersion:SecretVersion"):
        assert version.inputs["secretString"] == "[secret]"


def test_no_secret_value_in_plan_or_outputs(plan: Plan) -> None:
    from ops.plan.mocks import FloyoMocks

    text = json.dumps(plan.as_json())
    # What the mocks answered for generated passwords and the master secret: none may leak.
    mocks = FloyoMocks()
    leaked = [r.name for r in plan.of_type("random:index/randomPassword:RandomPassword")
              if mocks._random_password(r.name, dict(r.inputs))[1]["result"] in text]
    assert leaked == []
    assert "offline-plan-placeholder" not in text
    assert plan.outputs["database_master_secret_arn"].startswith("arn:aws:secretsmanager:")
    assert not any("password" in key or "token" in key for key in plan.outputs)
