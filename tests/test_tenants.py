"""Tenant isolation in the plan: per tenant a schema, its owner role and its own IAM login; never dropped by
accident; the former gateway only while migrating."""

from __future__ import annotations

import json

import pytest

from ops.diff.plans import diff_plans
from ops.plan.planner import Plan, PlannedResource
from stacks import SettingsError
from stacks.tenants import backend_document
from tests.data_variants import dev_data, phase_plan, prod_tenants, prod_tenants_config
from tests.planning import container_definitions, one, settings_for, stack_plan, with_changes

ROLE = "postgresql:index/role:Role"
SCHEMA = "postgresql:index/schema:Schema"
GRANT_ROLE = "postgresql:index/grantRole:GrantRole"
GATEWAY = "app_tenant_gateway"
TENANTS = [{"slug": "acme"}, {"slug": "globex"}, {"slug": "initech"}]
"""The tenants both stack files declare (test_committed_stacks_declare_three_tenants)."""


def tenant_plan(stack: str) -> Plan:
    """The committed stack's whole plan (shared by the suite): three tenants, no gateway."""
    return stack_plan(stack)


def test_committed_stacks_declare_three_tenants(stack: str) -> None:
    assert [t.model_dump(exclude_defaults=True) for t in settings_for(with_changes(stack)).tenants] == TENANTS


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


@pytest.mark.parametrize("variant", ["dev", "prod"])
def test_removing_a_tenant_never_drops_its_schema_without_the_flag(variant: str) -> None:
    """On each stack (each variant planned whole): acme keeps its schema, globex
    (`drop_schema: true`) may drop it."""
    plan = dev_data() if variant == "dev" else prod_tenants()
    schemas = {r.inputs["name"]: r for r in plan.of_type(SCHEMA)}
    assert set(schemas) == {"acme", "globex"}
    assert schemas["acme"].inputs["dropCascade"] is False and schemas["acme"].retain_on_delete is True
    assert schemas["globex"].inputs["dropCascade"] is True and schemas["globex"].retain_on_delete is False
    # the committed stacks: no tenant has the flag
    for schema in tenant_plan(variant).of_type(SCHEMA):
        assert schema.inputs["dropCascade"] is False and schema.retain_on_delete is True, schema.name


def test_each_tenant_costs_exactly_three_resources() -> None:
    """Two tenants (whose other changes add no resource) against the committed three, over the whole plan."""
    few, many = prod_tenants(), tenant_plan("prod")
    assert len(settings_for(prod_tenants_config()).tenants) == 2
    assert len(many.resources) - len(few.resources) == 3 * (len(TENANTS) - 2)


APP_LOGINS = ("migrator", "app_backend_rw", "app_backend_ro")
PASSWORD_SECRETS = {f"db-{user.replace('_', '-')}" for user in (*APP_LOGINS, GATEWAY)}
"""The gateway layout's login secrets (main at 1046e11 named them `db-<login>`)."""
SECRET = "aws:secretsmanager/secret:Secret"


def secret_env(plan: Plan, container: str = "backend", task: str = "backend-task") -> set[str]:
    (found,) = [c for c in container_definitions(plan, task) if c["name"] == container]
    return {s["name"] for s in found.get("secrets", [])}


def execution_reads(plan: Plan) -> set[str]:
    """Secrets the service's execution role may read."""
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-execution").inputs["policy"])
    return {arn for s in policy["Statement"] if "secretsmanager:GetSecretValue" in s["Action"]
            for arn in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])}


def app_roles(plan: Plan) -> dict[str, dict]:
    return {r.inputs["name"]: r.inputs for r in plan.of_type(ROLE) if r.inputs["name"] in APP_LOGINS}


def test_migration_deploy_1_keeps_every_password_login_the_running_tasks_use(stack: str) -> None:
    """Deploy 1 (`keep` + gateway) adds the tenant logins and the IAM env beside the password layout, which
    it leaves as it was: the logins' secrets, passwords, proxy entries and every URL the old image (and the ECS
    rollback target) reads."""
    plan = phase_plan(stack, "keep", True)
    assert {r.name for r in plan.of_type(SECRET)} >= PASSWORD_SECRETS  # no secret of the gateway layout deleted
    for user, role in app_roles(plan).items():
        assert role.get("password") and "rds_iam" not in (role.get("roles") or []), user  # still a password login
    assert len(one_proxy(plan).inputs["auths"]) == 4
    assert secret_env(plan) >= {"DATABASE_URL", "DATABASE_READ_URL", "DATABASE_TENANT_URL"}
    assert secret_env(plan, "migrate", "backend-migrate") == {"DATABASE_URL"}
    assert {r.inputs["name"] for r in plan.of_type(ROLE)} >= {f"tenant_{t['slug']}" for t in TENANTS}


def test_each_migration_deploy_drops_no_schema_and_deletes_a_secret_only_when_unreferenced(stack: str) -> None:
    """keep -> retire (logins to IAM, URLs out of the task definitions, secrets kept for the rollback target)
    -> final (secrets and gateway deleted). No step replaces or removes a schema or a tenant's role."""
    keep, retire, final = phase_plan(stack, "keep", True), phase_plan(stack, "retire", True), tenant_plan(stack)
    step2 = diff_plans(stack, keep.as_json(), retire.as_json())
    assert not step2.of_kind("remove")  # every secret still exists: the previous task definition reads them
    assert {r.name for r in retire.of_type(SECRET)} >= PASSWORD_SECRETS
    for user, role in app_roles(retire).items():
        assert not role.get("password") and "rds_iam" in role["roles"], user
    assert len(one_proxy(retire).inputs["auths"]) == 1  # the gateway's only
    assert not secret_env(retire) & {"DATABASE_URL", "DATABASE_READ_URL", "DATABASE_TENANT_URL"}
    assert not secret_env(retire, "migrate", "backend-migrate")
    # ... while the service's execution role, shared with the rollback target, still reads them
    assert execution_reads(retire) == execution_reads(keep)
    assert len(execution_reads(keep) - execution_reads(final)) == 3  # DATABASE_URL, _READ_URL, _TENANT_URL
    step3 = diff_plans(stack, retire.as_json(), final.as_json())
    assert {c.name for c in step3.of_kind("remove")} == {
        "tenants-gateway", "tenants-gateway-connect", *(f"tenants-{t['slug']}-gateway" for t in TENANTS),
        *PASSWORD_SECRETS, *(f"{name}-password" for name in PASSWORD_SECRETS)}
    # ... and the final task definitions reference none of them (unchanged from retire: no rollback target does)
    assert secret_env(final) == secret_env(retire)
    for diff, dropped in ((step2, []), (step3, ["tenants-gateway"])):
        assert [c.name for c in diff.changes if c.type in (SCHEMA, ROLE) and (c.kind == "remove" or c.replaced)] \
            == dropped


def test_retire_orders_the_proxy_after_the_login_roles(stack: str) -> None:
    """`retire` drops the app logins' password `auths` from the proxy, which then logs them in by IAM: that
    only works once their roles are in `rds_iam`, so the proxy waits for the three roles, and nothing the roles
    depend on waits for the proxy (no cycle). Other phases keep the proxy off the database objects."""
    retire = phase_plan(stack, "retire", True)
    proxy = one_proxy(retire)
    roles = {r.urn: r.inputs["name"] for r in retire.of_type(ROLE)}
    assert sorted(roles[d] for d in proxy.dependencies if d in roles) == sorted(APP_LOGINS)
    assert all("rds_iam" in (app_roles(retire)[user].get("roles") or []) for user in APP_LOGINS)
    by_urn = {r.urn: r for r in retire.resources}
    seen, todo = set(), [urn for urn in roles if roles[urn] in APP_LOGINS]
    while todo:  # everything the roles wait for, transitively: never the proxy
        resource = by_urn.get(todo.pop())
        if resource is None or resource.urn in seen:
            continue
        seen.add(resource.urn)
        todo += [*resource.dependencies, *(u for urns in resource.property_dependencies.values() for u in urns),
                 resource.parent]
    assert proxy.urn not in seen
    for other in (phase_plan(stack, "keep", True), tenant_plan(stack)):
        assert not [d for d in one_proxy(other).dependencies if ":postgresql:" in d]


def test_the_first_migration_deploy_needs_the_gateway() -> None:
    text = problems("dev", {"tenants": TENANTS, "database": {"legacy_password_logins": "keep"}})
    assert "floyo-infra:database.legacy_password_logins: got keep" in text and "legacy_gateway" in text


def one_proxy(plan: Plan) -> PlannedResource:
    (proxy,) = plan.of_type("aws:rds/proxy:Proxy")
    assert proxy.inputs["defaultAuthScheme"] == "IAM_AUTH"
    return proxy


def test_backend_gets_iam_settings_and_one_tenant_settings_document() -> None:
    plan = prod_tenants()  # acme on defaults; globex: connection_limit 4, feature_flags beta; default beta off
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
