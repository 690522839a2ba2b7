"""Tenant isolation: a schema and a role per tenant, reached only through the gateway, never dropped by accident."""

from __future__ import annotations

import json
from functools import cache

import pytest

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
def tenant_plan(stack: str) -> Plan:
    return plan_with(stack, {"tenants": TENANTS})


def tenant_resources(plan: Plan) -> list:
    return [r for r in plan.resources if r.parent.endswith("floyo:data:Tenants::tenants")]


def test_one_schema_one_role_and_one_gateway_grant_per_tenant(stack: str) -> None:
    plan = tenant_plan(stack)
    resources = [r for r in tenant_resources(plan) if r.name != "tenants-gateway" and r.name != "tenants-gateway-connect"]
    assert len(resources) == 3 * len(TENANTS)
    schemas = {r.inputs["name"]: r.inputs for r in resources if r.type == SCHEMA}
    roles = {r.inputs["name"]: r.inputs for r in resources if r.type == ROLE}
    grants = {r.inputs["grantRole"]: r.inputs for r in resources if r.type == GRANT_ROLE}
    assert set(schemas) == set(roles) == set(grants) == {t["slug"] for t in TENANTS}
    for slug, schema in schemas.items():
        assert schema["owner"] == slug and schema["database"] == "floyo"
        # A tenant role never logs in and joins nothing; only the gateway is made a member of it.
        assert roles[slug]["login"] is False and not roles[slug].get("roles")
        assert "password" not in roles[slug]  # no per-tenant secret in state
        assert grants[slug]["role"] == GATEWAY and not grants[slug].get("withAdminOption")


def test_gateway_login_is_noinherit_limited_and_behind_the_proxy(stack: str) -> None:
    plan = tenant_plan(stack)
    gateway = [r.inputs for r in plan.of_type(ROLE) if r.inputs["name"] == GATEWAY]
    assert len(gateway) == 1
    g = gateway[0]
    assert g["login"] is True and g["inherit"] is False and not g.get("roles")
    assert g["password"] == "[secret]" and g["encryptedPassword"] is True
    limit = {"dev": 10, "prod": 60}[stack]  # tenant_defaults.gateway_connection_limit per tier
    assert g["connectionLimit"] == limit and g["statementTimeout"] == 60000
    # It may connect to the app database, nothing more is granted to it directly.
    direct = [r.inputs for r in plan.of_type("postgresql:index/grant:Grant") if r.inputs["role"] == GATEWAY]
    assert direct == [{**direct[0], "objectType": "database", "privileges": ["CONNECT"]}]
    # The proxy accepts it with a Secrets Manager secret, like the backend's other logins.
    logins = [r.inputs["namePrefix"] for r in plan.of_type("aws:secretsmanager/secret:Secret")
              if "/postgres/" in r.inputs.get("namePrefix", "")]
    assert len([p for p in logins if p.endswith(f"/{GATEWAY}-")]) == 1
    proxy = plan.of_type("aws:rds/proxy:Proxy")[0]
    assert len(proxy.inputs["auths"]) == len(logins) + 1  # every login secret, plus the master's


def test_tenant_privileges_cover_its_own_schema_only(stack: str) -> None:
    plan = tenant_plan(stack)
    slugs = {t["slug"] for t in TENANTS}
    # Ownership is the only privilege a tenant holds on a schema: each schema has exactly one owner.
    owners = {r.inputs["name"]: r.inputs["owner"] for r in plan.of_type(SCHEMA)}
    assert all(owners[s] == s for s in slugs)
    # No grant or default privilege anywhere names a tenant, or a tenant's schema.
    for r in plan.of_type("postgresql:index/grant:Grant") + plan.of_type("postgresql:index/defaultPrivileges:DefaultPrivileges"):
        assert r.inputs["role"] not in slugs and r.inputs.get("schema") not in slugs, r.name
    # Tenants join no role at all, so a tenant can never act as another or as the app; and nothing in the
    # plan joins rds_iam: the creating admin is a member of each role on PostgreSQL 16, and rds_iam members
    # lose password login (README, "Tenants").
    member_of = {g for r in plan.of_type(ROLE) if r.inputs["name"] in slugs for g in r.inputs.get("roles") or []}
    assert member_of == set()
    assert all("rds_iam" not in (r.inputs.get("roles") or []) for r in plan.of_type(ROLE))
    assert all(r.inputs["grantRole"] != "rds_iam" for r in plan.of_type(GRANT_ROLE))
    # Tenant roles are granted to the gateway only: never to the backend's own logins.
    holders = {r.inputs["role"] for r in plan.of_type(GRANT_ROLE) if r.inputs["grantRole"] in slugs}
    assert holders == {GATEWAY}


def test_removing_a_tenant_never_drops_its_schema_without_the_flag(stack: str) -> None:
    schemas = {r.inputs["name"]: r for r in tenant_plan(stack).of_type(SCHEMA)}
    assert schemas["acme"].inputs["dropCascade"] is False
    assert schemas["initech"].inputs["dropCascade"] is True
    assert schemas["acme"].retain_on_delete is True and schemas["globex"].retain_on_delete is True
    assert schemas["initech"].retain_on_delete is False


def test_each_tenant_costs_exactly_three_resources() -> None:
    few, many = plan_with("dev", {"tenants": TENANTS[:1]}), tenant_plan("dev")
    assert len(many.resources) - len(few.resources) == 3 * (len(TENANTS) - 1)


def test_backend_gets_the_gateway_url_and_one_tenant_settings_document() -> None:
    tenants = [{"slug": "acme"}, {"slug": "globex", "connection_limit": 4, "feature_flags": {"beta": True}}]
    plan = plan_with("prod", {"tenants": tenants, "tenant_defaults": {"feature_flags": {"beta": False}}})
    (backend,) = [c for c in container_definitions(plan) if c["name"] == "backend"]
    env = {e["name"]: e["value"] for e in backend["environment"]}
    assert json.loads(env["TENANT_SETTINGS"]) == {
        "defaults": {"connection_limit": 5, "statement_timeout_ms": 15000, "feature_flags": {"beta": False}},
        "tenants": {"globex": {"connection_limit": 4, "feature_flags": {"beta": True}}},  # acme: defaults only
    }
    secrets = {s["name"]: s["valueFrom"] for s in backend["secrets"]}
    assert secrets["DATABASE_TENANT_URL"].endswith(":url::")
    assert len({secrets[k] for k in ("DATABASE_URL", "DATABASE_READ_URL", "DATABASE_TENANT_URL")}) == 3


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
    # A tenant may not hold more than the gateway: dev's gateway has 10.
    text = problems("dev", {"tenants": [{"slug": "acme", "connection_limit": 11}]})
    assert "floyo-infra:tenants[acme].connection_limit: got 11; a tenant may hold at most" in text


def test_tenant_settings_document_and_gateway_fit_their_limits() -> None:
    many = [{"slug": f"t{i:04d}", "feature_flags": {"beta": True}} for i in range(2000)]
    assert "TENANT_SETTINGS may take at most 16384 bytes" in problems("dev", {"tenants": many})
    # 2,000 tenants on defaults cost nothing in the document.
    settings = settings_for(with_changes("dev", {"tenants": [{"slug": f"t{i:04d}"} for i in range(2000)]}))
    assert len(backend_document(settings.tenant_defaults, settings.tenants)) < 200
    text = problems("prod", {"tenant_defaults": {"gateway_connection_limit": 700}})
    assert "floyo-infra:tenant_defaults.gateway_connection_limit: got 700" in text and "ceiling of 800" in text


def test_tenant_defaults_per_tier() -> None:
    dev, prod = (settings_for(with_changes(s)).tenant_defaults for s in ("dev", "prod"))
    assert (dev.connection_limit, dev.statement_timeout_ms, dev.gateway_connection_limit) == (2, 30000, 10)
    assert (prod.connection_limit, prod.statement_timeout_ms, prod.gateway_connection_limit) == (5, 15000, 60)
