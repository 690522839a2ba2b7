"""How the origin-pull CA and client certificate are generated: one place for the parameters, which the
program (`components/origin_lock.py`, pulumi-tls) and the local handshake test (`cryptography`) both use.

Constraints they satisfy (docs/origin-lock.md, "Evidence"):

* ALB mutual TLS verifies X.509 v3 client certificates only; RSA 2048+ and SHA-256 signatures are accepted
  (Elastic Load Balancing guide, "Mutual authentication with TLS in Application Load Balancer");
* the CA must be a CA (basicConstraints CA:TRUE, keyCertSign) for the chain to verify, and the client
  certificate must allow `clientAuth` (extended key usage) for a TLS client;
* Cloudflare's hostname client certificate upload takes a PEM certificate and its unencrypted PEM key.
"""

from __future__ import annotations

from collections.abc import Sequence

KEY_ALGORITHM = "RSA"
"""Key algorithm of the CA and client keys (pulumi-tls `PrivateKey.algorithm`)."""
RSA_BITS = 2048
"""RSA key size: the smallest ALB mTLS, ACM import and Cloudflare all accept, and cheap to verify per handshake."""

CA_USES: tuple[str, ...] = ("cert_signing", "crl_signing", "digital_signature")
"""pulumi-tls `allowed_uses` of the CA certificate."""
CLIENT_USES: tuple[str, ...] = ("digital_signature", "key_encipherment", "client_auth")
"""pulumi-tls `allowed_uses` of the client certificate Cloudflare presents."""
MONITOR_USES: tuple[str, ...] = ("digital_signature", "key_encipherment", "server_auth")
"""pulumi-tls `allowed_uses` of the CA-lifetime leaf imported into ACM for the CA's expiry alarm: no
`client_auth`, so it is no origin-pull credential."""
CA_MAX_PATH_LENGTH = 0
"""The CA signs leaf certificates only (no intermediates)."""
CA_VALIDITY_DAYS = 1190
"""Validity of every CA: the longest client certificate (825 days, `cdn.origin_lock.client_validity_days`) plus a
year. Fixed, never derived from a setting: pulumi-tls re-issues a certificate whose validity changes (a new
CA would leave the trust bundle before Cloudflare presents a certificate it signed)."""
ORGANIZATION = "Floyo"


def hours(days: int) -> int:
    """pulumi-tls takes validity in hours."""
    return days * 24


def ca_common_name(stack: str, generation: str) -> str:
    return f"floyo {stack} origin-pull CA {generation}"


def client_dns_name(zone: str, generation: str) -> str:
    """The client certificate's subject and only DNS name. Neither Cloudflare nor the ALB reads it, but ACM
    imports only certificates that name a domain (ACM User Guide, "Prerequisites for importing
    certificates"), and the expiry alarm reads ACM's copy."""
    return f"origin-pull-{generation}.{zone}"


def ca_monitor_dns_name(zone: str, generation: str) -> str:
    """Subject and only DNS name of a CA's monitoring leaf (ACM imports only certificates naming a domain)."""
    return f"origin-pull-ca-{generation}-expiry.{zone}"


def ca_bundle(pems: Sequence[str]) -> str:
    """The trust store's CA bundle: the PEM certificates, in order, each ending with one newline."""
    if not pems:
        raise ValueError("a trust bundle needs at least one CA certificate")
    return "".join(pem.strip() + "\n" for pem in pems)
