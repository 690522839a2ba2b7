"""Tenant isolation on a real PostgreSQL server.

The roles, grants and schemas are created by running the SQL rendered (`ops.pgsql`) from the
offline plan of the dev stack: exactly what the program declares, no second copy. Then the test
connects as each login and checks what it can and cannot reach. Removing tenants runs the SQL of
the plan without them (a plain removal, and one armed with `drop_schema`).

Debian 12's server is PostgreSQL 15; Aurora runs 16 (see README, "Tenants": what this proves).
Skips nothing: without the server the test fails, saying that `./run test` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import errors

from components.tenants import GATEWAY
from ops.pgsql import Script, create_script, delete_script
from ops.plan import Plan
from tests.pg_server import SUPERUSER, Server, running_server
from tests.planning import plan_with

TENANTS = [{"slug": "acme"}, {"slug": "globex"}, {"slug": "initech", "drop_schema": True}]
GATEWAY_LIMIT = 3
LOGINS = ("migrator", "app_backend_rw", "app_backend_ro", GATEWAY)
PASSWORDS = {login: os.urandom(9).hex() for login in LOGINS}


def _plan(tenants: list[dict]) -> Plan:
    return plan_with("dev", {"tenants": tenants, "tenant_defaults": {"gateway_connection_limit": GATEWAY_LIMIT}})


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
def script(server: Server, before: Plan) -> Script:
    """The declared roles, grants and schemas, created; each tenant's data seeded through the gateway."""
    rendered = create_script(before, PASSWORDS, locale="C.UTF-8")  # this machine has no en_US.UTF-8
    assert rendered.database and rendered.app
    with psycopg.connect(server.dsn(), autocommit=True) as admin:
        for sql in rendered.admin:
            admin.execute(sql)  # type: ignore[arg-type]
    with psycopg.connect(server.dsn(dbname=rendered.database), autocommit=True) as app:
        for sql in rendered.app:
            app.execute(sql)  # type: ignore[arg-type]
    with gateway(server, rendered) as conn:
        for tenant in TENANTS:
            slug = tenant["slug"]
            conn.execute(f'SET ROLE "{slug}"')  # type: ignore[arg-type]
            conn.execute(f"CREATE TABLE {slug}.notes (body text)")  # type: ignore[arg-type]
            conn.execute(f"INSERT INTO {slug}.notes VALUES ('secret of {slug}')")  # type: ignore[arg-type]
            conn.execute("RESET ROLE")
    return rendered


def login(server: Server, script: Script, user: str) -> psycopg.Connection:
    return psycopg.connect(server.dsn(user, PASSWORDS[user], script.database), autocommit=True)


def gateway(server: Server, script: Script) -> psycopg.Connection:
    return login(server, script, GATEWAY)


def denied(conn: psycopg.Connection, sql: str) -> bool:
    try:
        conn.execute(sql)  # type: ignore[arg-type]
    except (errors.InsufficientPrivilege, errors.InvalidParameterValue):
        return True
    return False


def test_gateway_acting_as_a_tenant_reaches_its_schema_and_no_other(server: Server, script: Script) -> None:
    with gateway(server, script) as conn:
        conn.execute('SET ROLE "acme"')
        assert conn.execute("SELECT body FROM acme.notes").fetchall() == [("secret of acme",)]
        conn.execute("INSERT INTO acme.notes VALUES ('more')")
        conn.execute("CREATE TABLE acme.extra (id int)")
        for other in ("globex", "initech"):
            assert denied(conn, f"SELECT body FROM {other}.notes")
            assert denied(conn, f"INSERT INTO {other}.notes VALUES ('x')")
            assert denied(conn, f"CREATE TABLE {other}.planted (id int)")
        assert denied(conn, "CREATE TABLE public.planted (id int)")  # nor the app's schema
        conn.execute("RESET ROLE")
        # NOINHERIT: without SET ROLE the gateway holds none of the tenants' privileges.
        assert denied(conn, "SELECT body FROM acme.notes")


def test_gateway_cannot_act_as_a_role_it_was_not_granted(server: Server, script: Script) -> None:
    with gateway(server, script) as conn:
        for role in ("app_rw", "app_ro", "migrator", "app_backend_rw", SUPERUSER):
            assert denied(conn, f'SET ROLE "{role}"'), role


def test_tenant_roles_cannot_log_in_and_are_members_of_nothing(server: Server, script: Script) -> None:
    with psycopg.connect(server.dsn(dbname=script.database), autocommit=True) as admin:
        rows = admin.execute(
            "SELECT r.rolname, r.rolcanlogin, r.rolinherit, "
            "  (SELECT count(*) FROM pg_auth_members m WHERE m.member = r.oid) "
            "FROM pg_roles r WHERE r.rolname = ANY(%s)", ([t["slug"] for t in TENANTS],)).fetchall()
        assert sorted(rows) == sorted((t["slug"], False, True, 0) for t in TENANTS)
        members = admin.execute(
            "SELECT DISTINCT pg_get_userbyid(m.member) FROM pg_auth_members m "
            "WHERE pg_get_userbyid(m.roleid) = ANY(%s)", ([t["slug"] for t in TENANTS],)).fetchall()
        assert members == [(GATEWAY,)]  # only the gateway may SET ROLE to a tenant
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(server.dsn("acme", "anything", script.database))


def test_backend_logins_reach_no_tenant_schema(server: Server, script: Script) -> None:
    for user in ("app_backend_rw", "app_backend_ro", "migrator"):
        with login(server, script, user) as conn:
            for tenant in TENANTS:
                assert denied(conn, f"SELECT body FROM {tenant['slug']}.notes"), user
                assert denied(conn, f'SET ROLE "{tenant["slug"]}"'), user


def test_read_only_login_cannot_write(server: Server, script: Script) -> None:
    with login(server, script, "migrator") as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.items (id serial PRIMARY KEY, name text)")
    with login(server, script, "app_backend_rw") as conn:
        conn.execute("INSERT INTO public.items (name) VALUES ('written')")
    with login(server, script, "app_backend_ro") as conn:
        assert conn.execute("SELECT name FROM public.items").fetchall() == [("written",)]
        assert denied(conn, "INSERT INTO public.items (name) VALUES ('x')")
        assert denied(conn, "DELETE FROM public.items")
        assert denied(conn, "CREATE TABLE public.planted (id int)")


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


def test_gateway_connection_limit_is_enforced(server: Server, script: Script) -> None:
    held = [gateway(server, script) for _ in range(GATEWAY_LIMIT)]
    try:
        assert held[0].execute("SHOW statement_timeout").fetchone() == ("1min",)  # the gateway's declared backstop
        with pytest.raises(psycopg.OperationalError, match="too many connections for role"):
            gateway(server, script)
    finally:
        for conn in held:
            conn.close()


def test_removal_keeps_data_and_drop_schema_removes_it(server: Server, script: Script, before: Plan) -> None:
    after = _plan(TENANTS[:1])  # globex removed plainly, initech removed with drop_schema armed
    statements = delete_script(before, after, script.database)
    assert statements
    with psycopg.connect(server.dsn(dbname=script.database), autocommit=True) as admin:
        for sql in statements:
            admin.execute(sql)  # type: ignore[arg-type]
        roles = {r for (r,) in admin.execute("SELECT rolname FROM pg_roles").fetchall()}
        assert {"globex", "initech"}.isdisjoint(roles) and "acme" in roles
        assert admin.execute("SELECT body FROM globex.notes").fetchall() == [("secret of globex",)]
        assert admin.execute("SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'globex'"
                             ).fetchone() == (SUPERUSER,)  # reassigned to the admin that dropped the role
        assert admin.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'initech'").fetchone() == (0,)
    with gateway(server, script) as conn:
        assert denied(conn, 'SET ROLE "globex"')
        conn.execute('SET ROLE "acme"')
        assert conn.execute("SELECT count(*) FROM acme.notes").fetchone()[0] >= 1  # type: ignore[index]


def test_a_missing_server_fails_naming_ci_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.pg_server as pg

    monkeypatch.setattr(pg, "server_bin", lambda: None)
    with pytest.raises(RuntimeError, match=r"`\./run test` installs Debian's `postgresql` package"), pg.running_server():
        pass
