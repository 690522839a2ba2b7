"""docs/examples/cache_token.py, the backend contract's cache token code, run offline with fake credentials."""

from __future__ import annotations

from types import ModuleType
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.credentials import Credentials

from tests.doc_examples import load_example

FAKE = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "session-token-example")


def _example() -> ModuleType:
    return load_example("cache_token")


ENV = {"REDIS_AUTH": "iam", "REDIS_USER": "floyo-prod-backend", "REDIS_CACHE_NAME": "floyo-prod",
       "REDIS_REGION": "eu-west-1"}


def test_token_is_a_presigned_connect_request_for_the_cache_and_user() -> None:
    provider = _example().provider_from_env(ENV, FAKE)
    user, token = provider.get_credentials()
    assert user == "floyo-prod-backend"
    assert not token.startswith("https://")  # ElastiCache takes the URL without its scheme
    parts = urlsplit("https://" + token)
    assert parts.hostname == "floyo-prod" and parts.path == "/"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["Action"] == "connect" and query["User"] == "floyo-prod-backend"
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Expires"] == "900"  # 15 minutes
    assert query["X-Amz-Credential"].startswith("AKIDEXAMPLE/")
    assert query["X-Amz-Credential"].endswith("/eu-west-1/elasticache/aws4_request")
    assert query["X-Amz-Security-Token"] == "session-token-example"  # task role credentials are temporary
    assert query["X-Amz-SignedHeaders"] == "host" and len(query["X-Amz-Signature"]) == 64


def test_token_reused_until_a_minute_before_expiry() -> None:
    example = _example()
    now = [0.0]
    provider = example.CacheTokenProvider("u", "floyo-dev", "us-east-1", FAKE, clock=lambda: now[0])
    signed: list[str] = []
    original = provider.token
    provider.token = lambda: signed.append("x") or original()  # type: ignore[method-assign]
    first = provider.get_credentials()
    now[0] = example.TOKEN_LIFETIME_S - example.REFRESH_BEFORE_S - 1
    assert provider.get_credentials() == first and len(signed) == 1
    now[0] += 2
    provider.get_credentials()
    assert len(signed) == 2


def test_refuses_an_env_without_iam_auth() -> None:
    with pytest.raises(ValueError, match="REDIS_AUTH"):
        _example().provider_from_env({**ENV, "REDIS_AUTH": "token"}, FAKE)
