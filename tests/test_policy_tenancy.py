"""The tenant-isolation policies (policy/floyo_policies/tenancy.py): each fails its violating fixture with its
message and passes its passing one; the real plans pass, and the former gateway layout fails."""

from __future__ import annotations

from ops.plan.check import run_policies
from policy.floyo_policies import POLICIES, config_override
from tests.data_variants import phase_plan
from tests.planning import stack_plan
from tests.policy_fixtures import FIXTURE_CONFIG, check, messages, policy_doc, res

ROLE = "postgresql:index/role:Role"
GRANT_ROLE = "postgresql:index/grantRole:GrantRole"
SCHEMA = "postgresql:index/schema:Schema"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
REACH = "tenant-role-reach"
CONNECT = "rds-db-connect-names-users"
PRX = "arn:aws:rds-db:us-east-1:123456789012:dbuser:prx-0123456789abcdef0"


def _tenants(*slugs: str) -> list:
    found = []
    for slug in slugs:
        found += [res(ROLE, f"t-{slug}", {"name": slug, "login": False}),
                  res(SCHEMA, f"t-{slug}", {"name": slug, "owner": slug}),
                  res(ROLE, f"t-{slug}-login", {"name": f"tenant_{slug}", "login": True, "roles": [slug, "rds_iam"]})]
    return found


def test_a_login_per_tenant_reaches_one_tenant_each() -> None:
    assert not messages(check(*_tenants("acme", "globex"), policy=REACH), REACH)


def test_membership_in_two_tenants_is_refused_by_grant_role_or_role_roles() -> None:
    by_grant = check(*_tenants("acme", "globex"), res(ROLE, "gw", {"name": "gateway", "login": True}),
                     *(res(GRANT_ROLE, f"gw-{s}", {"role": "gateway", "grantRole": s}) for s in ("acme", "globex")),
                     policy=REACH)
    assert messages(by_grant, REACH) == [
        "role gateway reaches 2 tenants' roles (acme, globex): any session of it can SET ROLE to each of them, so "
        "one injected statement reads another tenant; give each tenant its own login instead"]
    nested = check(*_tenants("acme", "globex"), res(ROLE, "group", {"name": "group", "roles": ["acme", "globex"]}),
                   res(ROLE, "user", {"name": "user", "login": True, "roles": ["group"]}), policy=REACH)
    found = messages(nested, REACH)
    assert len(found) == 2 and found[1].startswith("role user reaches 2 tenants' roles")  # through the group too


def test_owning_two_tenants_schemas_is_refused() -> None:
    two = check(*_tenants("acme"), res(SCHEMA, "b", {"name": "b", "owner": "other"}), res(ROLE, "other", {"name": "other"}),
                res(ROLE, "both", {"name": "both", "roles": ["acme", "other"]}), policy=REACH)
    assert messages(two, REACH)[0].startswith("role both reaches 2 tenants' roles (acme, other)")


def _connect(*resources: str) -> list:
    return [res(ROLE_POLICY, "task", {"policy": policy_doc(
        {"Effect": "Allow", "Action": "rds-db:connect", "Resource": list(resources)})})]


def test_connect_on_named_users_or_a_prefix_passes() -> None:
    assert not messages(check(*_connect(f"{PRX}/app_backend_rw", f"{PRX}/tenant_*"), policy=CONNECT), CONNECT)


def test_connect_on_any_user_or_star_is_refused() -> None:
    for loose in ("*", f"{PRX}/*", "arn:aws:rds-db:us-east-1:123456789012:dbuser:*/app_backend_rw",
                  "arn:aws:rds-db:*:123456789012:dbuser:prx-0123/app_backend_rw"):
        found = messages(check(*_connect(f"{PRX}/app_backend_rw", loose), policy=CONNECT), CONNECT)
        assert found == [f"task (aws:iam/rolePolicy:RolePolicy): rds-db:connect on {loose}; name each database user "
                         "on one proxy or cluster (arn:aws:rds-db:REGION:ACCOUNT:dbuser:prx-ID/USER, or a prefix "
                         "like tenant_*)"], loose


def _run(plan, name: str) -> list[str]:
    with config_override(FIXTURE_CONFIG):
        result = run_policies(plan, [p for p in POLICIES if p.name == name])
    return [f.message for f in result.findings]


def test_the_stacks_pass_and_the_gateway_layout_fails() -> None:
    """The committed stacks (three tenants each: test_tenants.test_committed_stacks_declare_three_tenants) pass;
    prod's first migration deploy (`keep`: the gateway and its password logins) fails on the gateway."""
    for stack in ("dev", "prod"):
        plan = stack_plan(stack)
        assert _run(plan, REACH) == [] and _run(plan, CONNECT) == []
    legacy = phase_plan("prod", "keep", True)
    reach = [m.split(":")[0] for m in _run(legacy, REACH)]
    assert reach == ["role app_tenant_gateway reaches 3 tenants' roles (acme, globex, initech)"]
