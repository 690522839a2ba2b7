"""The origin lock's handshake, run locally with Python's `ssl` module: a server that requires client
certificates from our origin-pull CA (as the ALB listener in verify mode does) accepts the client
certificate made with the program's parameters (`components.origin_pki`) and refuses every other one.

What this cannot show: a handshake through Cloudflare to a real ALB (docs/origin-lock.md, "Not run here").

The RSA keys (the program's size, `pki.RSA_BITS`) are made once per module and named by their role (`_key`): an
RSA-2048 key costs ~40 ms of CPU and the tests made 40 of them. Every certificate is still made afresh per test;
what a verdict depends on, which CA signed a certificate, is unchanged: two CAs that must differ (ours and
another account's, the rotation's two generations, the origin's own) have keys of different names.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from components import origin_pki as pki
from stacks.origin_lock import OriginLockSettings

NOW = dt.datetime.now(dt.UTC)

KEY_USAGE = {"digital_signature", "key_encipherment", "cert_signing", "crl_signing"}
EXTENDED = {"client_auth": ExtendedKeyUsageOID.CLIENT_AUTH, "server_auth": ExtendedKeyUsageOID.SERVER_AUTH}


def test_every_program_usage_is_translated_here() -> None:
    """If the program's allowed uses change, this test's translation must follow (or the test lies)."""
    assert set(pki.CA_USES) | set(pki.CLIENT_USES) <= KEY_USAGE | set(EXTENDED)
    assert pki.KEY_ALGORITHM == "RSA"


@dataclass(frozen=True)
class Issued:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @property
    def pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def write(self, directory: Path, stem: str) -> tuple[Path, Path]:
        cert, key = directory / f"{stem}.pem", directory / f"{stem}.key"
        cert.write_text(self.pem)
        key.write_bytes(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        return cert, key


def _usage(uses: tuple[str, ...]) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature="digital_signature" in uses, content_commitment=False,
        key_encipherment="key_encipherment" in uses, data_encipherment=False, key_agreement=False,
        key_cert_sign="cert_signing" in uses, crl_sign="crl_signing" in uses, encipher_only=False, decipher_only=False)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, pki.ORGANIZATION)])


@functools.cache
def _key(role: str) -> rsa.RSAPrivateKey:
    """The module's one RSA key for `role` (a CA's, a client's, the origin's), of the program's size."""
    return rsa.generate_private_key(public_exponent=65537, key_size=pki.RSA_BITS)


def make_ca(generation: str, owner: str = "ours") -> Issued:
    """A CA as `OriginLock._ca` makes it (pulumi-tls SelfSignedCert with the same parameters); CAs of different
    owners or generations have different keys."""
    key = _key(f"ca-{owner}-{generation}")
    name = _name(pki.ca_common_name("test", generation))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - dt.timedelta(minutes=5))
            .not_valid_after(NOW + dt.timedelta(hours=pki.hours(pki.CA_VALIDITY_DAYS)))
            .add_extension(x509.BasicConstraints(ca=True, path_length=pki.CA_MAX_PATH_LENGTH), critical=True)
            .add_extension(_usage(pki.CA_USES), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return Issued(key, cert)


def make_client(ca: Issued, generation: str, *, uses: tuple[str, ...] = pki.CLIENT_USES,
                validity_days: int = OriginLockSettings().client_validity_days, age_days: int = 0) -> Issued:
    """A client certificate as `OriginLock` makes it (pulumi-tls LocallySignedCert with the same parameters)."""
    key = _key("client")
    start = NOW - dt.timedelta(days=age_days, minutes=5)
    dns_name = pki.client_dns_name("floyo.test", generation)
    builder = (x509.CertificateBuilder().subject_name(_name(dns_name))
               .issuer_name(ca.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + dt.timedelta(hours=pki.hours(validity_days)))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(dns_name)]), critical=False)
               .add_extension(_usage(uses), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    extended = [EXTENDED[u] for u in uses if u in EXTENDED]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def make_server(ca: Issued) -> Issued:
    """The origin's own (server) certificate for 127.0.0.1; in AWS this is the listener's ACM certificate."""
    key = _key("origin")
    cert = (x509.CertificateBuilder().subject_name(_name("origin")).issuer_name(ca.cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(minutes=5)).not_valid_after(NOW + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca.key, hashes.SHA256()))
    return Issued(key, cert)


@dataclass
class Outcome:
    server: str = "no connection"
    client_read: bytes | None = None


def handshake(tmp_path: Path, trusted: list[Issued], client: Issued | None) -> Outcome:
    """One connection: a server trusting the bundle of `trusted` (made by the program's `ca_bundle`), requiring
    a client certificate; a client presenting `client`. The server's verdict is what counts."""
    server_ca = make_ca("server", owner="origin")
    server_cert, server_key = make_server(server_ca).write(tmp_path, "server")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_verify_locations(cadata=pki.ca_bundle([ca.pem for ca in trusted]))
    server_ctx.load_cert_chain(server_cert, server_key)

    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(cadata=server_ca.pem)
    if client is not None:
        client_ctx.load_cert_chain(*client.write(tmp_path, "client"))

    outcome = Outcome()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                outcome.server = "accepted"
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as exc:
            outcome.server = f"refused: {exc}"

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                client_ctx.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            outcome.client_read = tls.recv(2)
    except (ssl.SSLError, OSError):
        pass  # TLS 1.3 reports the server's refusal to the client on the first read, or as a reset
    thread.join(15)
    listener.close()
    return outcome


def test_our_certificate_is_accepted(tmp_path: Path) -> None:
    ca = make_ca("g1")
    result = handshake(tmp_path, [ca], make_client(ca, "g1"))
    assert result.server == "accepted" and result.client_read == b"ok"


def test_another_cas_certificate_is_refused(tmp_path: Path) -> None:
    """Another Cloudflare account presents a certificate of its own CA (or Cloudflare's shared one)."""
    ours, theirs = make_ca("g1"), make_ca("g1", owner="theirs")
    result = handshake(tmp_path, [ours], make_client(theirs, "g1"))
    assert result.server.startswith("refused") and "certificate verify failed" in result.server
    assert result.client_read != b"ok"


def test_no_certificate_is_refused(tmp_path: Path) -> None:
    result = handshake(tmp_path, [make_ca("g1")], None)
    assert result.server.startswith("refused") and result.client_read != b"ok"


def test_an_expired_certificate_is_refused(tmp_path: Path) -> None:
    """The listener does not ignore client certificate expiry: why the expiry alarm must come first."""
    ca = make_ca("g1")
    expired = make_client(ca, "g1", validity_days=30, age_days=31)
    result = handshake(tmp_path, [ca], expired)
    assert result.server.startswith("refused") and "expired" in result.server


def test_a_certificate_not_for_tls_clients_is_refused(tmp_path: Path) -> None:
    """The client_auth use matters: the same CA's server-auth-only certificate does not pass."""
    ca = make_ca("g1")
    result = handshake(tmp_path, [ca], make_client(ca, "g1", uses=("digital_signature", "key_encipherment",
                                                                    "server_auth")))
    assert result.server.startswith("refused")


@pytest.mark.parametrize(("bundle", "presented", "accepted"), [
    (("g1", "g2"), "g1", True),   # step 1: the overlap still accepts what Cloudflare presents
    (("g1", "g2"), "g2", True),   # step 2: Cloudflare switches to the new CA's certificate
    (("g2",), "g2", True),        # step 3: the old CA retired
    (("g2",), "g1", False),       # ... and its certificates are refused from then on
])
def test_rotation_bundle(tmp_path: Path, bundle: tuple[str, ...], presented: str, accepted: bool) -> None:
    cas = {g: make_ca(g) for g in ("g1", "g2")}
    result = handshake(tmp_path, [cas[g] for g in bundle], make_client(cas[presented], presented))
    assert (result.server == "accepted") is accepted, result.server
