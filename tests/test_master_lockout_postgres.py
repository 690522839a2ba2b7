"""Why the program runs Aurora PostgreSQL 15: the master's lockout on 16, on real servers.

Since PostgreSQL 16 a role created by a non-superuser CREATEROLE role (RDS's master, the postgresql provider's
login) is granted back to its creator WITH ADMIN OPTION, by the bootstrap superuser, so the creator cannot
revoke it (PostgreSQL 16 release notes, "Role Attributes"). Once that login is in `rds_iam`, the master is an
*indirect* member of `rds_iam`, and a `pg_hba.conf` rule for `+rds_iam` (how RDS sends rds_iam members to IAM)
matches the master too: its password login is refused. The same steps on 15 leave the master outside
`rds_iam`.

Servers: PostgreSQL 16 from the `pgserver` wheel (requirements-dev.txt), 15 from Debian's package (the fixture
of tests/test_tenants_postgres.py). The bootstrap superuser grants `rds_iam` (standing in for RDS's own way of
letting the master grant it); `host/local all +rds_iam ... reject` stands in for RDS's IAM rule. Either server
missing fails the test; nothing is skipped.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.pg_server import running_server

pytestmark = pytest.mark.waits  # run first, beside pyright (tests/conftest.py)

ADMIN, ADMIN_PASSWORD, LOGIN = "floyo_admin", "not-a-secret", "tenant_acme"


@dataclass(frozen=True)
class Target:
    major: int
    superuser_dsn: str
    admin_dsn: str


def _major(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(str(conn.execute("SHOW server_version_num").fetchone()[0])) // 10000  # type: ignore[index]


@pytest.fixture(scope="module")
def pg16() -> Iterator[Target]:
    try:
        from pgserver.postgres_server import get_server  # PostgreSQL 16 binaries in a wheel
    except ImportError as exc:
        pytest.fail(f"pgserver is missing ({exc}): pip install -r requirements-dev.txt")
    with tempfile.TemporaryDirectory(prefix="floyo-pg16-") as data:
        server = get_server(Path(data), cleanup_mode="stop")
        try:
            socket = server.get_uri().split("host=", 1)[1]  # a unix socket, trust for every local user
            base = f"host={socket} dbname=postgres"
            yield Target(_major(f"{base} user=postgres"), f"{base} user=postgres",
                         f"{base} user={ADMIN} password={ADMIN_PASSWORD}")
        finally:
            server.cleanup()


@pytest.fixture(scope="module")
def pg15() -> Iterator[Target]:
    try:
        with running_server() as server:
            yield Target(_major(server.dsn()), server.dsn(), server.dsn(ADMIN, ADMIN_PASSWORD))
    except RuntimeError as exc:
        pytest.fail(str(exc))


def master_creates_an_iam_login(target: Target) -> tuple[bool, str | None]:
    """The master (non-superuser, CREATEROLE) creates a login, which is put in rds_iam, as the provider does;
    then RDS's rule for rds_iam members is installed. Returns (master is an rds_iam member, error of the
    master's next password login or None)."""
    with psycopg.connect(target.superuser_dsn, autocommit=True) as su:
        su.execute("CREATE ROLE rds_iam NOLOGIN")
        su.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEROLE PASSWORD '{ADMIN_PASSWORD}'")  # type: ignore[arg-type]
        with psycopg.connect(target.admin_dsn, autocommit=True) as admin:
            admin.execute(f"CREATE ROLE {LOGIN} LOGIN")  # type: ignore[arg-type]
        su.execute(f"GRANT rds_iam TO {LOGIN}")  # type: ignore[arg-type]
        with psycopg.connect(target.admin_dsn, autocommit=True) as admin:
            admin.execute(f"REVOKE {LOGIN} FROM {ADMIN}")  # type: ignore[arg-type]  # the master tries to undo it
        member = bool(su.execute(f"SELECT pg_has_role('{ADMIN}', 'rds_iam', 'MEMBER')").fetchone()[0])  # type: ignore[arg-type,index]
        hba = Path(str(su.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
        hba.write_text("local all +rds_iam reject\nhost all +rds_iam 127.0.0.1/32 reject\n" + hba.read_text())
        su.execute("SELECT pg_reload_conf()")
    try:
        psycopg.connect(target.admin_dsn).close()
    except psycopg.OperationalError as exc:
        return member, str(exc)
    return member, None


def test_on_postgresql_16_the_master_is_locked_out_by_its_own_iam_login(pg16: Target) -> None:
    assert pg16.major == 16
    member, refused = master_creates_an_iam_login(pg16)
    assert member, "16 grants the created login back to its creator"
    assert refused is not None and "pg_hba.conf rejects connection" in refused


def test_on_postgresql_15_the_master_stays_outside_rds_iam(pg15: Target) -> None:
    assert pg15.major == 15
    assert master_creates_an_iam_login(pg15) == (False, None)
