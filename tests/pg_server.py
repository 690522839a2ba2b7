"""A throwaway PostgreSQL 15 server for tests: the `postgresql-15` package (installed by `./run test`),
`initdb` on a temporary directory, `pg_ctl start` on a free loopback port, removed afterwards.

PostgreSQL refuses to run as root, so as root the server runs as the package's `postgres` user
(`runuser`); otherwise as the current user."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MAJOR = 15
"""The server major the tests need: Aurora's (`database.engine_version` is pinned to 15, docs/tenant-isolation.md).
A newer server on the machine (GitHub's ubuntu-24.04 image carries 16) is not used in its place."""
MISSING = (f"no PostgreSQL {MAJOR} server binaries (/usr/lib/postgresql/{MAJOR}/bin/initdb): `./run test` installs "
           f"`postgresql-{MAJOR}` (Debian 12's own; PGDG's elsewhere); on a developer machine run "
           f"`apt-get install -y postgresql-{MAJOR}`")
SUPERUSER = "postgres"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    password: str
    version: str

    def dsn(self, user: str = SUPERUSER, password: str | None = None, dbname: str = "postgres") -> str:
        return (f"host={self.host} port={self.port} user={user} password={password or self.password} "
                f"dbname={dbname} connect_timeout=5 sslmode=disable")


def server_bin() -> Path | None:
    """The installed PostgreSQL `MAJOR` server's bin directory, or None."""
    bindir = Path("/usr/lib/postgresql") / str(MAJOR) / "bin"
    return bindir if (bindir / "initdb").is_file() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server() -> Iterator[Server]:
    """Start a server (raises RuntimeError with MISSING when the package is absent)."""
    bindir = server_bin()
    if bindir is None:
        raise RuntimeError(MISSING)
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SUPERUSER)  # created by the package
        as_user = ["runuser", "-u", SUPERUSER, "--"]
    top = Path(tempfile.mkdtemp(prefix="floyo-pg-"))
    password = os.urandom(12).hex()
    try:
        (top / "pw").write_text(password + "\n")
        if owner is not None:
            for path in (top, top / "pw"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        data, port = top / "data", _free_port()

        def run(*cmd: str) -> None:
            done = subprocess.run([*as_user, *cmd], capture_output=True, text=True, check=False, timeout=120)
            if done.returncode != 0:
                log = (top / "log").read_text() if (top / "log").exists() else ""
                raise RuntimeError(f"{cmd[0]} failed: {done.stderr.strip()}\n{log}")

        # a throwaway cluster: --no-sync and fsync=off skip the waits for the disk (about half of initdb's
        # time on this machine); nothing the tests check depends on durability
        run(str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, f"--pwfile={top / 'pw'}", "-E", "UTF8",
            "--locale=C.UTF-8", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "--no-sync",
            "--no-instructions")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(top / "log"), "-w", "-t", "60", "-o",
            f"-p {port} -k {top} -c listen_addresses=127.0.0.1 -c max_connections=40 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off", "start")
        version = subprocess.run([str(bindir / "postgres"), "--version"], capture_output=True, text=True,
                                 check=False).stdout.strip()
        try:
            yield Server("127.0.0.1", port, password, version)
        finally:
            subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True, check=False, timeout=60)
    finally:
        shutil.rmtree(top, ignore_errors=True)
