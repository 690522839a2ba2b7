"""Tenant isolation in the plan: per tenant a schema, its owner role and its own IAM login; never dropped by
accident; the former gateway only while migrating."""

from __future__ import annotations

import json
from functools import cache

import pytest

from ops.diff import diff_plans
from ops.plan import Plan
from stacks import SettingsError
from stacks.tenants import backend_document
from tests.planning import container_definitions, plan_with, settings_for, with_changes

ROLE = "postgresql:index/role:Role"
SCHEMA = "postgresql:index/schema:Schema"
GRANT_ROLE = "postgresql:index/grantRole:GrantRole"
GATEWAY = "app_tenant_gateway"
TENANTS = [{"slug": "acme"}, {"slug": "globex"}, {"slug": "initech", "drop_schema": True}]


@cache
def tenant_plan(stack: str, legacy: bool = False) -> Plan:
    return plan_with(stack, {"tenants": TENANTS, "tenant_defaults": {"legacy_gateway": legacy}})


def tenant_resources(plan: Plan) -> list:
    return [r for r in plan.resources if r.parent.endswith("floyo:data:Tenants::tenants")]


def test_one_schema_one_owner_role_and_one_login_per_tenant(stack: str) -> None:
    plan = tenant_plan(stack)
    resources = [r for r in tenant_resources(plan) if r.name not in ("tenants-group", "tenants-group-connect")]
    assert len(resources) == 3 * len(TENANTS)
    schemas = {r.inputs["name"]: r.inputs for r in resources if r.type == SCHEMA}
    roles = {r.inputs["name"]: r.inputs for r in resources if r.type == ROLE}
    assert set(schemas) == {t["slug"] for t in TENANTS}
    assert set(roles) == {t["slug"] for t in TENANTS} | {f"tenant_{t['slug']}" for t in TENANTS}
    defaults = {"dev": (2, 30000), "prod": (5, 15000)}[stack]
    for slug, schema in schemas.items():
        assert schema["owner"] == slug and schema["database"] == "floyo"
        # The owner role never logs in and joins nothing.
        assert roles[slug]["login"] is False and not roles[slug].get("roles")
        # The login: its own role, rds_iam (IAM tokens only) and the CONNECT group; PostgreSQL's limits.
        login = roles[f"tenant_{slug}"]
        assert login["login"] is True and login["inherit"] is True
        assert sorted(login["roles"]) == sorted([slug, "rds_iam", "app_tenants"])
        assert (login["connectionLimit"], login["statementTimeout"]) == defaults
        assert "password" not in login  # no secret for a tenant anywhere
    assert plan.of_type(GRANT_ROLE) == []  # memberships live in the Role itself: no Role/GrantRole fight


def test_no_password_for_any_backend_login_and_no_master_in_the_proxy(stack: str) -> None:
    plan = tenant_plan(stack)
    for role in plan.of_type(ROLE):
        assert "password" not in role.inputs, role.inputs["name"]
        if role.inputs.get("login"):
            assert "rds_iam" in role.inputs["roles"], role.inputs["name"]
    postgres_secrets = [r for r in plan.of_type("aws:secretsmanager/secret:Secret")
                        if "/postgres/" in r.inputs.get("namePrefix", "")]
    assert postgres_secrets == [] and plan.of_type("random:index/randomPassword:RandomPassword") == [
        r for r in plan.of_type("random:index/randomPassword:RandomPassword") if "cache" in r.name]
    (proxy,) = plan.of_type("aws:rds/proxy:Proxy")
    assert proxy.inputs["defaultAuthScheme"] == "IAM_AUTH" and not proxy.inputs.get("auths")
    (backend,) = [c for c in container_definitions(plan) if c["name"] == "backend"]
    names = {s["name"] for s in backend["secrets"]}
    assert names.isdisjoint({"DATABASE_URL", "DATABASE_READ_URL", "DATABASE_TENANT_URL"})


def test_connect_names_exact_users_on_the_proxy_never_a_wildcard(stack: str) -> None:
    plan = tenant_plan(stack)
    proxy_id = plan.of_type("aws:rds/proxy:Proxy")[0].outputs["arn"].split(":")[-1]
    cluster_id = plan.outputs["database_cluster_resource_id"]
    connects: dict[str, list[str]] = {}
    for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        for st in json.loads(policy.inputs["policy"])["Statement"]:
            if "rds-db:connect" in st["Action"]:
                connects[policy.name] = sorted(st["Resource"])
    prefix = "arn:aws:rds-db:us-east-1:123456789012:dbuser:"
    assert connects == {
        "backend-task": [f"{prefix}{proxy_id}/{u}" for u in ("app_backend_ro", "app_backend_rw", "tenant_*")],
        "backend-migrate-task": [f"{prefix}{proxy_id}/migrator"],
        "db-proxy": [f"{prefix}{cluster_id}/{u}" for u in ("app_backend_ro", "app_backend_rw", "migrator", "tenant_*")],
    }
    assert proxy_id.startswith("prx-") and cluster_id.startswith("cluster-")


def test_removing_a_tenant_never_drops_its_schema_without_the_flag(stack: str) -> None:
    schemas = {r.inputs["name"]: r for r in tenant_plan(stack).of_type(SCHEMA)}
    assert schemas["acme"].inputs["dropCascade"] is False
    assert schemas["initech"].inputs["dropCascade"] is True
    assert schemas["acme"].retain_on_delete is True and schemas["globex"].retain_on_delete is True
    assert schemas["initech"].retain_on_delete is False


def test_each_tenant_costs_exactly_three_resources() -> None:
    few, many = plan_with("dev", {"tenants": TENANTS[:1]}), tenant_plan("dev")
    assert len(many.resources) - len(few.resources) == 3 * (len(TENANTS) - 1)


def test_migration_keeps_the_gateway_one_deploy_and_drops_no_schema(stack: str) -> None:
    """From the gateway layout: deploy 1 (`legacy_gateway: true`) adds the logins next to the untouched
    gateway; deploy 2 drops the gateway. Neither replaces or deletes a schema or a tenant's role."""
    legacy, final = tenant_plan(stack, legacy=True), tenant_plan(stack)
    gateway = [r.inputs for r in legacy.of_type(ROLE) if r.inputs["name"] == GATEWAY]
    assert len(gateway) == 1 and gateway[0]["inherit"] is False and not gateway[0].get("roles")
    assert {r.inputs["grantRole"] for r in legacy.of_type(GRANT_ROLE)} == {t["slug"] for t in TENANTS}
    (proxy,) = legacy.of_type("aws:rds/proxy:Proxy")
    assert proxy.inputs["defaultAuthScheme"] == "IAM_AUTH" and len(proxy.inputs["auths"]) == 1  # the gateway's
    diff = diff_plans(stack, legacy.as_json(), final.as_json())
    replaced = [c.name for c in diff.changes if c.replace_paths or c.cascade]
    assert replaced == ["backend-task"]  # only the task definition (its env loses DATABASE_TENANT_URL)
    assert {c.name for c in diff.of_kind("remove")} == {
        "tenants-gateway", "tenants-gateway-connect", *(f"tenants-{t['slug']}-gateway" for t in TENANTS),
        "db-app-tenant-gateway", "db-app-tenant-gateway-password"}


def test_backend_gets_iam_settings_and_one_tenant_settings_document() -> None:
    tenants = [{"slug": "acme"}, {"slug": "globex", "connection_limit": 4, "feature_flags": {"beta": True}}]
    plan = plan_with("prod", {"tenants": tenants, "tenant_defaults": {"feature_flags": {"beta": False}}})
    (backend,) = [c for c in container_definitions(plan) if c["name"] == "backend"]
    env = {e["name"]: e["value"] for e in backend["environment"]}
    assert json.loads(env["TENANT_SETTINGS"]) == {
        "defaults": {"connection_limit": 5, "statement_timeout_ms": 15000, "feature_flags": {"beta": False},
                     "task_tenant_connections": 5},  # prod: tenant_connections 60 over max_tasks 12
        "tenants": {"globex": {"connection_limit": 4, "feature_flags": {"beta": True}}},  # acme: defaults only
    }
    assert {k: env[k] for k in ("DATABASE_AUTH", "DATABASE_USER", "DATABASE_READ_USER",
                                "DATABASE_TENANT_USER_PREFIX", "DATABASE_SSLMODE")} == {
        "DATABASE_AUTH": "iam", "DATABASE_USER": "app_backend_rw", "DATABASE_READ_USER": "app_backend_ro",
        "DATABASE_TENANT_USER_PREFIX": "tenant_", "DATABASE_SSLMODE": "verify-full"}
    (migrate,) = container_definitions(plan, "backend-migrate")
    assert {e["name"]: e["value"] for e in migrate["environment"]}["DATABASE_USER"] == "migrator"
    assert not migrate.get("secrets")


def problems(stack: str, changes: dict) -> str:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes(stack, changes))
    return str(caught.value)


def test_invalid_tenant_settings_name_the_tenant_and_the_key() -> None:
    text = problems("dev", {"tenants": [{"slug": "acme"}, {"slug": "globex", "connection_limit": 0,
                                                          "feature_flags": {"Bad-Name": True}}]})
    assert "floyo-infra:tenants[globex].connection_limit: got 0" in text
    assert "floyo-infra:tenants[globex].feature_flags: got " in text and "Bad-Name" in text
    text = problems("dev", {"tenants": [{"slug": "acme", "statement_timeout_ms": 10}]})
    assert "floyo-infra:tenants[acme].statement_timeout_ms: got 10" in text
    # A tenant may not hold more than all tenants together: dev's share is 10.
    text = problems("dev", {"tenants": [{"slug": "acme", "connection_limit": 11}]})
    assert "floyo-infra:tenants[acme].connection_limit: got 11; a tenant may hold at most" in text
    # A slug may not take the logins' prefix (the IAM pattern tenant_* would then match an owner role).
    assert "floyo-infra:tenants[0].slug" in problems("dev", {"tenants": [{"slug": "tenant_x"}]}) or \
        "tenant_x" in problems("dev", {"tenants": [{"slug": "tenant_x"}]})
    # The removed gateway settings are refused by name, never ignored.
    assert "gateway_connection_limit" in problems("dev", {"tenant_defaults": {"gateway_connection_limit": 5}})


def test_tenant_settings_document_and_share_fit_their_limits() -> None:
    many = [{"slug": f"t{i:04d}", "feature_flags": {"beta": True}} for i in range(2000)]
    assert "TENANT_SETTINGS may take at most 16384 bytes" in problems("dev", {"tenants": many})
    # 2,000 tenants on defaults cost nothing in the document.
    settings = settings_for(with_changes("dev", {"tenants": [{"slug": f"t{i:04d}"} for i in range(2000)]}))
    assert len(backend_document(settings.tenant_defaults, settings.tenants)) < 200
    text = problems("prod", {"tenant_defaults": {"tenant_connections": 700}})
    assert "floyo-infra:tenant_defaults.tenant_connections: got 700" in text and "ceiling of 800" in text
    text = problems("prod", {"tenant_defaults": {"tenant_connections": 6}})  # prod runs up to 12 tasks
    assert "use tenant_connections >= 12" in text


def test_tenant_defaults_per_tier() -> None:
    dev, prod = (settings_for(with_changes(s)).tenant_defaults for s in ("dev", "prod"))
    assert (dev.connection_limit, dev.statement_timeout_ms, dev.tenant_connections) == (2, 30000, 10)
    assert (prod.connection_limit, prod.statement_timeout_ms, prod.tenant_connections) == (5, 15000, 60)
