"""The synthetic check (`monitoring.synthetics`): a CloudWatch Synthetics canary calling the API
through Cloudflare, and the release gate that waits for it (`python -m ops canary-gate`)."""

from __future__ import annotations

from pydantic import Field, field_validator

from stacks.base import Section, prod_refuses

RUNTIME_VERSIONS: tuple[str, ...] = ("syn-nodejs-puppeteer-9.1", "syn-nodejs-puppeteer-10.0")
"""Node.js Synthetics runtimes the canary script is written for (`require('Synthetics')`, handler in
`nodejs/node_modules/`). Earlier puppeteer runtimes are deprecated (CloudWatch "Runtime versions
support policy": 7.0 and older by 22 Jan 2026) and can't be used to create a canary."""


def _url_path(value: str) -> str:
    if not value.startswith("/") or any(c in value for c in " ?#"):
        raise ValueError("must be an absolute URL path without query or fragment, such as /health")
    return value


class SyntheticsSettings(Section):
    """The synthetic check through Cloudflare (`monitoring.synthetics`)."""

    enabled: bool = Field(
        default=True,
        description="Run the canary (its SuccessPercent alarm joins the service-down composite and the "
        "release gate waits for it). Only dev may turn it off. Default true.",
    )
    runtime_version: str = Field(
        default="syn-nodejs-puppeteer-10.0",
        description=f"Synthetics runtime, pinned: one of {', '.join(RUNTIME_VERSIONS)}. Default "
        "syn-nodejs-puppeteer-10.0.",
    )
    interval_minutes: int = Field(
        default=5, ge=1, le=60, description="Minutes between runs (rate(N minutes)). 1-60. Default 5.")
    api_path: str = Field(
        default="/openapi.json",
        description="One API path the canary GETs and expects 2xx from (besides /health). Default "
        "/openapi.json (FastAPI serves it without a login).",
    )
    websocket_path: str = Field(
        default="/ws",
        description="Path the canary opens a WebSocket on (expects `101 Switching Protocols`). Default /ws.",
    )
    timeout_seconds: int = Field(
        default=60, ge=15, le=840,
        description="Seconds one run may take (Synthetics: at least 15, at most 14 min). Default 60.",
    )
    artifact_retention_days: int = Field(
        default=30, ge=1, le=455,
        description="Days run artifacts (logs, HAR) stay in the encrypted bucket and run data in "
        "Synthetics (its 1-455 day range). Default 30.",
    )

    @field_validator("runtime_version")
    @classmethod
    def _runtime(cls, value: str) -> str:
        if value not in RUNTIME_VERSIONS:
            raise ValueError(f"not a supported Synthetics runtime for this canary; allowed: {', '.join(RUNTIME_VERSIONS)}")
        return value

    @field_validator("api_path", "websocket_path")
    @classmethod
    def _paths(cls, value: str) -> str:
        return _url_path(value)

    _prod_enabled = prod_refuses(
        "enabled", lambda value: not value,
        "prod keeps the synthetic check: it gates every release and pages when the API is down",
    )
