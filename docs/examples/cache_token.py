"""How the backend authenticates to the cache: an ElastiCache IAM token, signed locally with botocore.

Reference code for the app team (docs/backend-contract.md, "The cache"). It follows AWS's Python example in
the ElastiCache guide ("Authenticating with IAM", Connecting): the token is a SigV4-presigned
`GET https://<cache name>/?Action=connect&User=<user>` for the service `elasticache`, valid 15 minutes, with
the `https://` removed. `tests/test_cache_token.py` signs with fake credentials and checks the token's shape.

With redis-py (or valkey-py) pass a provider as `credential_provider`: the client asks it for credentials on
every new connection, so reconnects (ElastiCache closes IAM connections after 12 hours) get a fresh token:

    provider = CacheTokenProvider(env["REDIS_USER"], env["REDIS_CACHE_NAME"], env["REDIS_REGION"])
    client = redis.Redis(host=env["REDIS_HOST"], port=int(env["REDIS_PORT"]), ssl=True,
                         credential_provider=provider)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from urllib.parse import urlencode, urlunparse

import botocore.session
from botocore.credentials import Credentials
from botocore.model import ServiceId
from botocore.signers import RequestSigner

TOKEN_LIFETIME_S = 15 * 60
"""ElastiCache accepts an IAM token for 15 minutes (it is checked at AUTH/HELLO, not afterwards)."""
REFRESH_BEFORE_S = 60
"""Sign a new token this long before the cached one expires."""


class CacheTokenProvider:
    """`get_credentials() -> (user, token)`, the shape redis-py's and valkey-py's `CredentialProvider` use.

    `cache_name` is the replication group id (`REDIS_CACHE_NAME`), not the endpoint: the token names the
    cache, and the task role's `elasticache:Connect` names the same replication group and user.
    `credentials` defaults to botocore's chain (the ECS task role in a task); tests pass fake ones.
    """

    def __init__(self, user: str, cache_name: str, region: str, credentials: Credentials | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        session = botocore.session.get_session()
        self._session = session  # the signer holds its event emitter weakly: keep the session alive
        self.user, self.cache_name, self.region = user, cache_name, region
        self._signer = RequestSigner(
            ServiceId("elasticache"), region, "elasticache", "v4",
            credentials if credentials is not None else session.get_credentials(),
            session.get_component("event_emitter"),
        )
        self._clock, self._lock = clock, threading.Lock()
        self._cached: tuple[str, float] | None = None

    def token(self) -> str:
        """A presigned `connect` request without its scheme: what AUTH takes as the password."""
        query = urlencode({"Action": "connect", "User": self.user})
        url = urlunparse(("https", self.cache_name, "/", "", query, ""))
        signed = self._signer.generate_presigned_url(
            {"method": "GET", "url": url, "body": {}, "headers": {}, "context": {}},
            operation_name="connect", expires_in=TOKEN_LIFETIME_S, region_name=self.region,
        )
        return str(signed).removeprefix("https://")

    def get_credentials(self) -> tuple[str, str]:
        """(user, token), reusing a token until REFRESH_BEFORE_S before it expires. Thread-safe."""
        now = self._clock()
        with self._lock:
            if self._cached is None or self._cached[1] - REFRESH_BEFORE_S <= now:
                self._cached = (self.token(), now + TOKEN_LIFETIME_S)
            return self.user, self._cached[0]


def provider_from_env(env: Mapping[str, str], credentials: Credentials | None = None) -> CacheTokenProvider:
    """The provider for the container's env (docs/backend-contract.md): REDIS_USER, REDIS_CACHE_NAME, REDIS_REGION."""
    if env.get("REDIS_AUTH") != "iam":
        raise ValueError(f"REDIS_AUTH is {env.get('REDIS_AUTH')!r}; this provider is for IAM authentication")
    return CacheTokenProvider(env["REDIS_USER"], env["REDIS_CACHE_NAME"], env["REDIS_REGION"], credentials)
