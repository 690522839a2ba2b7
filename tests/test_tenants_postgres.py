"""Tenant isolation on a real PostgreSQL server, logging in as every login the plan declares.

The roles, grants and schemas are created by running the SQL rendered (`ops.plan.pgsql`) from the offline plan of
the dev stack: exactly what the program declares, no second copy. RDS's `rds_iam` role is created first as a
plain NOLOGIN role (on Aurora it exists), and each login gets a password that stands in for its IAM token
(on Aurora a member of `rds_iam` can log in with a token only). Then the test connects as each login and
checks what it can and cannot reach, including every way to become another tenant.

Debian 12's server is PostgreSQL 15; Aurora runs 16 (docs/tenant-isolation.md: what this proves).
Skips nothing: without the server the test fails, saying that `./run test` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

import psycopg
import pytest
from psycopg import errors

from ops.plan.pgsql import Script, create_script, delete_script, ident
from ops.plan.planner import Plan
from tests.data_variants import TENANTS_AFTER, TENANTS_BEFORE
from tests.doc_examples import load_example
from tests.pg_server import SUPERUSER, Server, running_server
from tests.planning import plan_with

pytestmark = pytest.mark.waits  # run first, beside pyright (tests/conftest.py)

TENANTS = TENANTS_BEFORE  # acme with its own limits, globex, initech with drop_schema armed
SLUGS = [t["slug"] for t in TENANTS]
APP_LOGINS = ("migrator", "app_backend_rw", "app_backend_ro")
DENIED = (errors.InsufficientPrivilege, errors.InvalidParameterValue, errors.UndefinedObject)  # no such role: unreachable too


def _plan(tenants: list[dict]) -> Plan:
    return plan_with("dev", {"tenants": tenants})


def login_roles(plan: Plan) -> list[str]:
    """Every LOGIN role the plan declares."""
    return sorted(r.inputs["name"] for r in plan.of_type("postgresql:index/role:Role") if r.inputs.get("login"))


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    try:
        with running_server() as found:
            yield found
    except RuntimeError as exc:  # the package is missing or the server did not start: fail, never skip
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def before() -> Plan:
    return _plan(TENANTS)


@pytest.fixture(scope="module")
def passwords(before: Plan) -> dict[str, str]:
    """A password per declared login, standing in for the IAM token the proxy would present."""
    return {name: os.urandom(9).hex() for name in login_roles(before)}


@pytest.fixture(scope="module")
def script(server: Server, before: Plan, passwords: dict[str, str]) -> Script:
    """The declared roles, grants and schemas, created; each tenant's data seeded as the role owning its schema."""
    rendered = create_script(before, passwords, locale="C.UTF-8")  # this machine has no en_US.UTF-8
    assert rendered.database and rendered.app
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        admin.execute("CREATE ROLE rds_iam NOLOGIN")  # RDS's role; exists on Aurora
        for sql in rendered.admin:
            admin.execute(sql)  # type: ignore[arg-type]
    with psycopg.connect(server.dsn(dbname=rendered.database), autocommit=True) as app:
        for sql in rendered.app:
            app.execute(sql)  # type: ignore[arg-type]
        for name, password in passwords.items():  # the token's stand-in
            app.execute(f"ALTER ROLE {ident(name)} PASSWORD '{password}'")  # type: ignore[arg-type]
        for slug in SLUGS:
            app.execute(f'SET ROLE "{slug}"')  # type: ignore[arg-type]
            app.execute(f"CREATE TABLE {slug}.notes (body text)")  # type: ignore[arg-type]
            app.execute(f"INSERT INTO {slug}.notes VALUES ('secret of {slug}')")  # type: ignore[arg-type]
            app.execute("RESET ROLE")
    return rendered


def login(server: Server, script: Script, passwords: dict[str, str], user: str) -> psycopg.Connection:
    return psycopg.connect(server.dsn(user, passwords[user], script.database), autocommit=True)


def denied(conn: psycopg.Connection, sql: str) -> bool:
    try:
        conn.execute(sql)  # type: ignore[arg-type]
    except DENIED:
        return True
    return False


def test_the_plan_declares_a_login_per_tenant_and_no_gateway(before: Plan) -> None:
    assert login_roles(before) == sorted([*APP_LOGINS, *(f"tenant_{s}" for s in SLUGS)])


def test_each_tenant_reads_and_writes_its_own_schema_and_no_other(
        server: Server, script: Script, passwords: dict[str, str]) -> None:
    for slug in SLUGS:
        with login(server, script, passwords, f"tenant_{slug}") as conn:
            assert conn.execute(f"SELECT body FROM {slug}.notes").fetchall() == [(f"secret of {slug}",)]  # type: ignore[arg-type]
            conn.execute(f"INSERT INTO {slug}.notes VALUES ('more')")  # type: ignore[arg-type]
            conn.execute(f"DELETE FROM {slug}.notes WHERE body = 'more'")  # type: ignore[arg-type]
            for other in (s for s in SLUGS if s != slug):
                assert denied(conn, f"SELECT body FROM {other}.notes"), (slug, other)
                assert denied(conn, f"INSERT INTO {other}.notes VALUES ('x')"), (slug, other)
                assert denied(conn, f"CREATE TABLE {other}.planted (id int)"), (slug, other)
            assert denied(conn, "CREATE TABLE public.planted (id int)")  # nor the app's schema


def test_no_login_can_become_another_tenant_whatever_it_runs(
        server: Server, script: Script, passwords: dict[str, str]) -> None:
    """SET ROLE, SET SESSION AUTHORIZATION, granting itself, altering roles, and membership/ownership in the
    catalog: for every login and every tenant that is not its own."""
    for user in passwords:
        own = user.removeprefix("tenant_") if user.startswith("tenant_") else None
        with login(server, script, passwords, user) as conn:
            for slug in SLUGS:
                if slug == own:
                    continue
                for target in (slug, f"tenant_{slug}"):
                    assert denied(conn, f'SET ROLE "{target}"'), (user, target)
                    assert denied(conn, f'SET SESSION AUTHORIZATION "{target}"'), (user, target)
                    assert denied(conn, f'GRANT "{target}" TO "{user}"'), (user, target)
                    assert denied(conn, f'ALTER ROLE "{target}" LOGIN'), (user, target)
                    assert conn.execute(  # false also when the role does not exist
                        "SELECT CASE WHEN to_regrole(%s) IS NULL THEN false "
                        "ELSE pg_has_role(%s, to_regrole(%s), 'MEMBER') END", (target, user, target)
                    ).fetchone() == (False,), (user, target)
                assert denied(conn, f"SELECT body FROM {slug}.notes"), (user, slug)
            for role in ("migrator", "app_backend_rw", SUPERUSER):  # nor the app's owner, the rw login, the admin
                if role != user:
                    assert denied(conn, f'SET ROLE "{role}"'), (user, role)
            assert denied(conn, f'ALTER ROLE "{user}" CONNECTION LIMIT -1')  # its own limit stays
            assert denied(conn, "CREATE ROLE planted LOGIN")


def test_no_role_reaches_two_tenants_and_nothing_runs_as_another_owner(server: Server, script: Script) -> None:
    with psycopg.connect(server.dsn(dbname=script.database), autocommit=True) as admin:
        reach = admin.execute(
            "SELECT r.rolname, count(*) FROM pg_roles r CROSS JOIN unnest(%s::text[]) AS t(slug) "
            "WHERE r.rolname <> %s AND pg_has_role(r.oid, t.slug, 'MEMBER') GROUP BY r.rolname",
            (SLUGS, SUPERUSER)).fetchall()
        # each tenant role is reached by itself and its own login, never by a role reaching two tenants
        assert sorted(reach) == sorted([(s, 1) for s in SLUGS] + [(f"tenant_{s}", 1) for s in SLUGS])
        definers = admin.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')").fetchall()
        assert definers == []  # no SECURITY DEFINER function a tenant could call into another owner's rights
        owners = admin.execute(
            "SELECT nspname, nspowner::regrole::text FROM pg_namespace WHERE nspname = ANY(%s)", (SLUGS,)).fetchall()
        assert sorted(owners) == sorted((s, s) for s in SLUGS)


def test_backend_logins_reach_no_tenant_schema(server: Server, script: Script, passwords: dict[str, str]) -> None:
    for user in APP_LOGINS:
        with login(server, script, passwords, user) as conn:
            for slug in SLUGS:
                assert denied(conn, f"SELECT body FROM {slug}.notes"), user


def test_read_only_login_writes_nothing(server: Server, script: Script, passwords: dict[str, str]) -> None:
    with login(server, script, passwords, "migrator") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.items (id serial PRIMARY KEY, name text)")
    with login(server, script, passwords, "app_backend_rw") as conn:
        conn.execute("INSERT INTO public.items (name) VALUES ('written')")
    with login(server, script, passwords, "app_backend_ro") as conn:
        assert conn.execute("SELECT name FROM public.items").fetchall() == [("written",)]
        for sql in ("INSERT INTO public.items (name) VALUES ('x')", "UPDATE public.items SET name = 'x'",
                    "DELETE FROM public.items", "CREATE TABLE public.planted (id int)",
                    "SELECT nextval('public.items_id_seq')"):
            assert denied(conn, sql), sql
        for slug in SLUGS:
            assert denied(conn, f"CREATE TABLE {slug}.planted (id int)")


def test_public_has_nothing(server: Server, script: Script) -> None:
    with psycopg.connect(server.dsn(dbname=script.database), autocommit=True) as admin:
        admin.execute("DROP ROLE IF EXISTS outsider")
        admin.execute("CREATE ROLE outsider LOGIN PASSWORD 'outsider'")  # holds only what PUBLIC holds
        acl = admin.execute(
            "SELECT has_database_privilege('outsider', current_database(), 'CONNECT'), "
            "has_schema_privilege('outsider', 'public', 'USAGE'), "
            "has_schema_privilege('outsider', 'public', 'CREATE')").fetchone()
        assert acl == (False, False, False)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(server.dsn("outsider", "outsider", script.database))


def test_per_tenant_limits_are_enforced_at_login(server: Server, script: Script, passwords: dict[str, str]) -> None:
    held = [login(server, script, passwords, "tenant_acme") for _ in range(2)]  # acme: connection_limit 2
    try:
        assert held[0].execute("SHOW statement_timeout").fetchone() == ("1500ms",)
        with pytest.raises(errors.QueryCanceled):
            held[0].execute("SELECT pg_sleep(3)")
        with pytest.raises(psycopg.OperationalError, match="too many connections for role"):
            login(server, script, passwords, "tenant_acme")
    finally:
        for conn in held:
            conn.close()
    with login(server, script, passwords, "tenant_globex") as conn:  # globex: the dev defaults
        assert conn.execute("SHOW statement_timeout").fetchone() == ("30s",)
        assert conn.execute("SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user").fetchone() == (2,)


def test_removal_keeps_data_and_drop_schema_removes_it(
        server: Server, script: Script, before: Plan, passwords: dict[str, str]) -> None:
    # globex removed plainly, initech removed with drop_schema armed; acme kept, its drop_schema armed (a change
    # of the kept schema, which deletes nothing: the diff test reads the same two plans)
    assert [t["slug"] for t in TENANTS_AFTER] == ["acme"] and TENANTS_AFTER[0]["connection_limit"] == 2
    after = _plan(TENANTS_AFTER)
    statements = delete_script(before, after, script.database)
    assert statements
    with psycopg.connect(server.dsn(dbname=script.database), autocommit=True) as admin:
        for sql in statements:
            admin.execute(sql)  # type: ignore[arg-type]
        roles = {r for (r,) in admin.execute("SELECT rolname FROM pg_roles").fetchall()}
        assert {"globex", "initech", "tenant_globex", "tenant_initech"}.isdisjoint(roles)
        assert {"acme", "tenant_acme"} <= roles
        assert admin.execute("SELECT body FROM globex.notes").fetchall() == [("secret of globex",)]
        assert admin.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'globex'"
                             ).fetchone() == (SUPERUSER,)  # reassigned to the admin that dropped the role
        assert admin.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'initech'").fetchone() == (0,)
    with login(server, script, passwords, "tenant_acme") as conn:
        assert denied(conn, "SELECT body FROM globex.notes")
        assert conn.execute("SELECT count(*) FROM acme.notes").fetchone()[0] >= 1  # type: ignore[index]


def _example() -> ModuleType:  # docs/examples/tenant_db.py, the backend contract's code, imported as it is
    return load_example("tenant_db")


def test_backend_contract_example_connects_as_the_tenant(
        server: Server, script: Script, passwords: dict[str, str]) -> None:
    tenant_db = _example()
    signed: list[tuple[str, int, str]] = []

    def stand_in(host: str, port: int, user: str) -> str:  # the password stands in for the IAM token
        signed.append((host, port, user))
        return passwords[user]

    env = {"DATABASE_HOST": server.host, "DATABASE_READ_HOST": server.host, "DATABASE_PORT": str(server.port),
           "DATABASE_NAME": script.database, "DATABASE_TENANT_USER_PREFIX": "tenant_",
           "DATABASE_SSLMODE": "disable", "DATABASE_SSLROOTCERT": ""}  # the test server has no TLS
    tokens = tenant_db.TokenCache(stand_in)
    with tenant_db.connect_tenant(env, "acme", tokens) as conn:
        assert conn.execute("SELECT current_user, body FROM notes").fetchone() == ("tenant_acme", "secret of acme")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("SELECT body FROM globex.notes")
    with tenant_db.connect_tenant(env, "acme", tokens):
        pass
    assert signed == [(server.host, server.port, "tenant_acme")]  # the cached token was reused
    with pytest.raises(ValueError, match="not a tenant slug"):
        tenant_db.connect_tenant(env, "acme; SET ROLE globex", tokens)


def test_backend_contract_example_signs_a_real_rds_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3 signs locally: with any credentials it yields the presigned URL the proxy checks."""
    for key, value in {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "example",
                       "AWS_SESSION_TOKEN": ""}.items():
        monkeypatch.setenv(key, value)
    token = _example().rds_signer("us-east-1")("floyo-dev.proxy-x.us-east-1.rds.amazonaws.com", 5432, "tenant_acme")
    assert token.startswith("floyo-dev.proxy-x.us-east-1.rds.amazonaws.com:5432/?")
    assert "Action=connect" in token and "DBUser=tenant_acme" in token and "X-Amz-Expires=900" in token


def test_a_missing_server_fails_naming_ci_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.pg_server as pg

    monkeypatch.setattr(pg, "server_bin", lambda: None)
    with pytest.raises(RuntimeError, match=r"`\./run test` installs `postgresql-15`"), pg.running_server():
        pass
