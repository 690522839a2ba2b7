"""The cache authenticates the backend with IAM: users, user group, no AUTH token, Connect scoped."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ops.plan.planner import Plan
from stacks.errors import SettingsError
from tests.planning import container_definitions, one, plan_with, settings_for, stack_plan, with_changes
from tests.test_tenants import execution_reads, secret_env

GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
USER = "aws:elasticache/user:User"
USER_GROUP = "aws:elasticache/userGroup:UserGroup"


def _users(plan: Plan) -> dict[str, dict[str, Any]]:
    return {u.inputs["userName"]: u.inputs for u in plan.of_type(USER)}


def _connect_statements(plan: Plan) -> list[dict[str, Any]]:
    found = []
    for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy.inputs["policy"])["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(a in ("elasticache:Connect", "elasticache:*", "*") for a in actions):
                found.append({**statement, "role_policy": policy.name})
    return found


def test_replication_group_joined_to_the_user_group_of_default_and_backend(plan: Plan, stack: str) -> None:
    group = one(plan, GROUP)
    user_group = one(plan, USER_GROUP)
    assert group.inputs["userGroupIds"] == [user_group.inputs["userGroupId"]] == [f"floyo-{stack}"]
    users = _users(plan)
    assert set(users) == {"default", f"floyo-{stack}-backend"}
    assert sorted(user_group.inputs["userIds"]) == sorted(u["userId"] for u in users.values())
    # `redis` users and group: a valkey group refuses a password-less user, a Valkey cache takes redis groups.
    assert {u["engine"] for u in users.values()} == {user_group.inputs["engine"]} == {"redis"}


def test_backend_user_authenticates_with_iam(plan: Plan, stack: str) -> None:
    backend = _users(plan)[f"floyo-{stack}-backend"]
    assert backend["authenticationMode"] == {"type": "iam"}
    assert backend["userId"] == backend["userName"]  # IAM auth requires it
    assert backend["accessString"].startswith("on ") and "-@dangerous" in backend["accessString"]
    assert "passwords" not in backend and not backend.get("noPasswordRequired")


def test_default_user_is_disabled(plan: Plan, stack: str) -> None:
    default = _users(plan)["default"]
    assert default["userId"] == f"floyo-{stack}-default"  # not the account's built-in `default` (on, nopass)
    assert default["accessString"].split()[0] == "off" and "-@all" in default["accessString"].split()
    assert "+@all" not in default["accessString"]
    # `no-password-required` reads back as `no-password` (botocore AuthenticationType), a diff on every run:
    # a random password nobody holds, on a user that is `off` anyway, as a Pulumi secret only.
    assert default["authenticationMode"] == {"type": "password", "passwords": ["[secret]"]}
    password = one(plan, "random:index/randomPassword:RandomPassword", "cache-default-password").inputs
    assert 16 <= password["length"] <= 128 and password["special"] is False  # ElastiCache: 16-128 characters


def test_no_auth_token_anywhere(plan: Plan) -> None:
    group = one(plan, GROUP).inputs
    assert "authToken" not in group and "authTokenWo" not in group
    assert group["authTokenUpdateStrategy"] == "DELETE"  # what moves an existing group from AUTH to RBAC
    assert group["transitEncryptionEnabled"] is True and group["transitEncryptionMode"] == "required"
    assert [p.name for p in plan.of_type("random:index/randomPassword:RandomPassword") if p.name.startswith("cache")] \
        == ["cache-default-password"]  # the disabled `default` user's, in no secret and no env
    assert not [s.name for s in plan.of_type(SECRET) if s.name.startswith("cache")]
    app = container_definitions(plan)[0]
    secrets = {s["name"] for s in app["secrets"]}
    assert not [n for n in secrets if n.startswith("REDIS_")]
    assert "cache_secret_arn" not in plan.outputs


def test_connect_names_exactly_the_cache_and_the_backend_user(plan: Plan, stack: str) -> None:
    group = one(plan, GROUP)
    backend = next(u for u in plan.of_type(USER) if u.inputs["userName"] == f"floyo-{stack}-backend")
    statements = _connect_statements(plan)
    assert [(s["role_policy"], s["Action"]) for s in statements] == [("backend-task", "elasticache:Connect")]
    assert statements[0]["Resource"] == sorted([group.outputs["arn"], backend.outputs["arn"]])
    assert backend.outputs["arn"].endswith(f":user:floyo-{stack}-backend")
    assert all("*" not in r for r in statements[0]["Resource"])


def test_backend_env_names_the_user_and_the_cache(plan: Plan, stack: str) -> None:
    env = {e["name"]: e["value"] for e in container_definitions(plan)[0]["environment"]}
    assert env["REDIS_AUTH"] == "iam" and env["REDIS_USER"] == f"floyo-{stack}-backend"
    assert env["REDIS_CACHE_NAME"] == one(plan, GROUP).outputs["replicationGroupId"] == f"floyo-{stack}"
    assert env["REDIS_HOST"] == plan.outputs["cache_primary_endpoint"] and env["REDIS_TLS"] == "true"
    assert env["REDIS_REGION"].count("-") == 2


def test_legacy_token_kept_only_as_the_default_users_password() -> None:
    """Migration deploy: tasks still sending `AUTH <token>` authenticate as `default` with the old token, and
    prod applies the transition at once instead of in the maintenance window."""
    assert one(stack_plan("prod"), GROUP).inputs["applyImmediately"] is False
    assert one(plan_with("prod", {"cache": {"legacy_auth_token": True}}), GROUP).inputs["applyImmediately"] is True
    plan = plan_with("dev", {"cache": {"legacy_auth_token": True}})
    default = _users(plan)["default"]
    assert default["authenticationMode"]["type"] == "password"
    assert default["authenticationMode"]["passwords"] == ["[secret]"]
    assert default["accessString"] == "on ~* +@all"
    token = one(plan, "random:index/randomPassword:RandomPassword", "cache-auth-token")  # the old URN: same value
    assert token.inputs["length"] == 64
    group = one(plan, GROUP).inputs
    assert "authToken" not in group and group["userGroupIds"] == ["floyo-dev"]
    assert "cache-default-password" not in {p.name for p in plan.of_type("random:index/randomPassword:RandomPassword")}


@pytest.mark.parametrize("version", ["6.2"])
def test_redis_without_iam_auth_refused(version: str) -> None:
    with pytest.raises(SettingsError) as caught:
        settings_for(with_changes("dev", {"cache": {"engine": "redis", "engine_version": version}}))
    text = str(caught.value)
    assert "floyo-infra:cache.engine_version" in text and "IAM" in text and "7.0, 7.1" in text
    settings_for(with_changes("dev", {"cache": {"engine": "redis", "engine_version": "7.1"}}))


def test_policy_pack_refuses_connect_on_star(plan: Plan) -> None:
    from tests.policy_fixtures import check, messages, policy_doc, res

    wide = res("aws:iam/rolePolicy:RolePolicy", "backend-task", {"policy": policy_doc(
        {"Effect": "Allow", "Action": "elasticache:Connect", "Resource": "*"})})
    assert messages(check(wide, policy="no-wildcard-resources"), "no-wildcard-resources")
    ours = one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-task")
    assert not messages(check(ours, policy="no-wildcard-resources"), "no-wildcard-resources")


def test_user_and_group_replacement_and_danger_entries() -> None:
    from ops.diff.danger import removal
    from ops.diff.replacement import direct_replacements

    user, group = USER, USER_GROUP
    assert direct_replacements(user, {"userId": "a"}, {"userId": "b"}, ["userId"]) == ["userId"]
    assert direct_replacements(user, {"userName": "a"}, {"userName": "b"}, ["userName"]) == ["userName"]
    assert direct_replacements(user, {"accessString": "on"}, {"accessString": "off"}, ["accessString"]) == []
    assert direct_replacements(user, {}, {}, ["authenticationMode"]) == []  # password -> none: ModifyUser
    assert direct_replacements(group, {"userGroupId": "a"}, {"userGroupId": "b"}, ["userGroupId"]) == ["userGroupId"]
    assert direct_replacements(group, {"userIds": ["a"]}, {"userIds": ["a", "b"]}, ["userIds"]) == []
    assert removal(user, {}, retained=False, protected=False)[0] is True
    assert removal(group, {}, retained=False, protected=False)[0] is True


def test_migration_deploy_2_changes_only_the_default_user_and_drops_the_old_token(stack: str) -> None:
    """Deploy 1 (`legacy_auth_token`) -> deploy 2: `default` is disabled in place, the token's RandomPassword goes;
    the cache, its users and group are neither replaced nor deleted."""
    from ops.diff.plans import diff_plans

    legacy, final = plan_with(stack, {"cache": {"legacy_auth_token": True}}), plan_with(stack, {})
    diff = diff_plans(stack, legacy.as_json(), final.as_json())
    assert [c.name for c in diff.changes if c.replace_paths or c.cascade] == []
    changes = {(c.kind, c.name): c for c in diff.changes}
    group = changes.pop(("change", "cache-group"), None)  # prod: back to the maintenance window, no API call
    assert (group is None) == (stack != "prod")
    assert group is None or [p.path for p in group.properties] == ["applyImmediately"]
    # the old token's secret goes now, not in deploy 1: deploy 2's rollback target (deploy 1's task definition)
    # references it no more, so the execution role stops reading it
    # (the drift role stops reading the secret too)
    assert sorted(changes) == [("add", "cache-default-password"), ("change", "backend-execution"),
                               ("change", "cache-default-user"), ("change", "drift-reads"), ("remove", "cache-auth"),
                               ("remove", "cache-auth-token")]
    assert sorted(c.type for c in diff.of_kind("remove") if c.name == "cache-auth") == [SECRET, SECRET_VERSION]
    assert not [c.name for c in diff.changes if c.dangerous and c.name not in ("cache-auth-token", "cache-auth")]
    assert execution_reads(legacy) - execution_reads(final) == {one(legacy, SECRET, "cache-auth").outputs["arn"]}
    assert not {"REDIS_URL", "REDIS_AUTH_TOKEN"} & secret_env(legacy)


def test_migration_deploy_1_keeps_the_token_secret_for_the_rollback_target(stack: str) -> None:
    """Deploy 1: the previous task definition (ECS's rollback target, and the tasks still running) reads
    REDIS_URL and REDIS_AUTH_TOKEN from `cache-auth` through the service's execution role: the secret and its
    version stay, declared as the AUTH layout did (same URNs and inputs), and the role keeps reading it."""
    plan = plan_with(stack, {"cache": {"legacy_auth_token": True}})
    secret = one(plan, SECRET, "cache-auth")
    assert secret.inputs["namePrefix"] == f"floyo/{stack}/cache/auth-" and secret.inputs["recoveryWindowInDays"] == 30
    assert secret.inputs["kmsKeyId"] == one(plan, GROUP).inputs["kmsKeyId"]  # the data key, as before
    version = one(plan, SECRET_VERSION, "cache-auth")
    assert version.inputs["secretString"] == "[secret]"
    assert secret.outputs["arn"] in execution_reads(plan)
    assert secret.outputs["arn"] not in execution_reads(plan_with(stack, {}))


def test_policy_refuses_a_token_an_open_cache_and_an_open_default(plan: Plan) -> None:
    from tests.policy_fixtures import check, messages, res

    def found(*resources: Any) -> list[str]:
        return messages(check(*resources, policy="cache-authenticates"), "cache-authenticates")

    assert "AUTH token" in found(res(GROUP, "g", {"authToken": "x" * 32}))[0]  # the old shape
    assert "no user group" in found(res(GROUP, "g", {}))[0]
    assert not found(res(GROUP, "g", {"userGroupIds": ["floyo-dev"]}))
    open_default = {"userName": "default", "authenticationMode": {"type": "no-password-required"}, "accessString": "on ~* +@all"}
    assert "must be off" in found(res(USER, "u", open_default))[0]
    assert not found(res(USER, "u", {**open_default, "accessString": "off -@all"}))
    assert not found(res(USER, "u", {**open_default, "authenticationMode": {"type": "password"}}))  # the migration
    assert not [m for r in [*plan.of_type(GROUP), *plan.of_type(USER)] for m in found(r)]
