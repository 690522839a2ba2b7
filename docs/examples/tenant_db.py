"""How the backend opens a database connection as a tenant: RDS Proxy, end-to-end IAM, TLS.

Reference code for the app team (docs/backend-contract.md). `tests/test_tenants_postgres.py` imports and runs
it against a real PostgreSQL server, with a password standing in for the IAM token.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping

import boto3
import psycopg

TOKEN_LIFETIME_S = 15 * 60
"""An RDS IAM auth token is valid for 15 minutes; it is checked only when a connection opens."""
REFRESH_BEFORE_S = 60
"""Sign a new token this long before the cached one expires."""
SLUG = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
"""What a tenant slug may be (the infra refuses anything else), checked before it names a database user."""

Signer = Callable[[str, int, str], str]
"""(host, port, user) -> token."""


def rds_signer(region: str) -> Signer:
    """boto3's `generate_db_auth_token`: a SigV4-presigned URL, signed locally with the task role's
    credentials (no API call, so no API rate limit); the proxy checks it against `rds-db:connect`."""
    client = boto3.client("rds", region_name=region)

    def sign(host: str, port: int, user: str) -> str:
        return str(client.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user, Region=region))
    return sign


class TokenCache:
    """One token per (host, port, user), reused until REFRESH_BEFORE_S before it expires. Thread-safe."""

    def __init__(self, sign: Signer, clock: Callable[[], float] = time.monotonic) -> None:
        self._sign, self._clock, self._lock = sign, clock, threading.Lock()
        self._tokens: dict[tuple[str, int, str], tuple[str, float]] = {}

    def token(self, host: str, port: int, user: str) -> str:
        key, now = (host, port, user), self._clock()
        with self._lock:
            cached = self._tokens.get(key)
            if cached is None or cached[1] - REFRESH_BEFORE_S <= now:
                cached = (self._sign(host, port, user), now + TOKEN_LIFETIME_S)
                self._tokens[key] = cached
            return cached[0]


def tenant_user(env: Mapping[str, str], slug: str) -> str:
    """The tenant's own database login, `tenant_<slug>`; a bad slug never reaches the connection string."""
    if not SLUG.match(slug):
        raise ValueError(f"not a tenant slug: {slug!r}")
    return env["DATABASE_TENANT_USER_PREFIX"] + slug


def connect_tenant(env: Mapping[str, str], slug: str, tokens: TokenCache, read_only: bool = False) -> psycopg.Connection:
    """A connection logged in as the tenant: it can reach that tenant's schema and nothing else, whatever
    SQL runs on it. `read_only` goes through the proxy's READ_ONLY endpoint (the readers)."""
    host = env["DATABASE_READ_HOST"] if read_only else env["DATABASE_HOST"]
    port, user = int(env["DATABASE_PORT"]), tenant_user(env, slug)
    return psycopg.connect(
        host=host, port=port, dbname=env["DATABASE_NAME"], user=user, password=tokens.token(host, port, user),
        sslmode=env["DATABASE_SSLMODE"], sslrootcert=env.get("DATABASE_SSLROOTCERT") or None,
        connect_timeout=5, options=f"-c search_path={slug}",
    )
