"""Tenant isolation: a schema and a role per tenant, privileges on its own schema only, never dropped by accident."""

from __future__ import annotations

from functools import cache

from ops.plan import Plan
from tests.planning import plan_with

ROLE = "postgresql:index/role:Role"
SCHEMA = "postgresql:index/schema:Schema"
TENANTS = [{"slug": "acme"}, {"slug": "globex"}, {"slug": "initech", "drop_schema": True}]


@cache
def tenant_plan(stack: str) -> Plan:
    return plan_with(stack, {"tenants": TENANTS})


def tenant_resources(plan: Plan) -> list:
    return [r for r in plan.resources if r.parent.endswith("floyo:data:Tenants::tenants")]


def test_one_schema_and_one_role_per_tenant(stack: str) -> None:
    plan = tenant_plan(stack)
    resources = tenant_resources(plan)
    assert len(resources) == 2 * len(TENANTS)
    schemas = {r.inputs["name"]: r.inputs for r in resources if r.type == SCHEMA}
    roles = {r.inputs["name"]: r.inputs for r in resources if r.type == ROLE}
    assert set(schemas) == set(roles) == {t["slug"] for t in TENANTS}
    for slug, schema in schemas.items():
        assert schema["owner"] == slug and schema["database"] == "floyo"
        assert roles[slug]["login"] is True and roles[slug]["roles"] == ["app_tenant"]
        assert "password" not in roles[slug]  # no per-tenant secret in state


def test_tenant_privileges_cover_its_own_schema_only(stack: str) -> None:
    plan = tenant_plan(stack)
    slugs = {t["slug"] for t in TENANTS}
    # Ownership is the only privilege a tenant holds on a schema: each schema has exactly one owner.
    owners = {r.inputs["name"]: r.inputs["owner"] for r in plan.of_type(SCHEMA)}
    assert all(owners[s] == s for s in slugs)
    # No grant or default privilege anywhere names a tenant, or a tenant's schema.
    for r in plan.of_type("postgresql:index/grant:Grant") + plan.of_type("postgresql:index/defaultPrivileges:DefaultPrivileges"):
        assert r.inputs["role"] not in slugs and r.inputs.get("schema") not in slugs, r.name
    # Tenants join no role that holds privileges on data: only app_tenant (CONNECT). Not rds_iam either:
    # the creating admin becomes a member of each role on PostgreSQL 16, and rds_iam members lose password login.
    member_of = {g for r in plan.of_type(ROLE) if r.inputs["name"] in slugs for g in r.inputs["roles"]}
    assert member_of == {"app_tenant"}
    tenant_group = [g.inputs for g in plan.of_type("postgresql:index/grant:Grant") if g.inputs["role"] == "app_tenant"]
    assert tenant_group == [{**tenant_group[0], "objectType": "database", "privileges": ["CONNECT"]}]
    # And no tenant is a member of another (nor of the app's roles).
    assert not member_of & (slugs | {"app_rw", "app_ro", "migrator"})


def test_removing_a_tenant_never_drops_its_schema_without_the_flag(stack: str) -> None:
    schemas = {r.inputs["name"]: r for r in tenant_plan(stack).of_type(SCHEMA)}
    assert schemas["acme"].inputs["dropCascade"] is False
    assert schemas["initech"].inputs["dropCascade"] is True
    assert schemas["acme"].retain_on_delete is True and schemas["globex"].retain_on_delete is True
    assert schemas["initech"].retain_on_delete is False


def test_each_tenant_costs_exactly_two_resources() -> None:
    few, many = plan_with("dev", {"tenants": TENANTS[:1]}), tenant_plan("dev")
    assert len(many.resources) - len(few.resources) == 2 * (len(TENANTS) - 1)
