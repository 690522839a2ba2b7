"""The origin lock's PKI and both ends of it: our origin-pull CA(s), the client certificate Cloudflare
presents for each public host, the load balancer's trust store, and an ACM copy of the client certificate
so CloudWatch can alarm on its expiry. Design, evidence and runbooks: docs/origin-lock.md."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_tls as tls

from components import origin_pki as pki
from components.secure_bucket import SecureBucket, SecureBucketArgs
from stacks.origin_lock import OriginLockSettings

BUNDLE_KEY = "origin-pull/ca-bundle.pem"
"""S3 key of the trust store's CA bundle."""
TRUST_STORE_NAME_PREFIX = "floyo-"
"""ELBv2 trust store names are unique per region and ForceNew; a prefix (at most 6 characters,
terraform-provider-aws internal/service/elbv2 trust_store.go `name_prefix`) lets a replacement coexist."""


@dataclass(frozen=True)
class OriginLockArgs:
    """Arguments of `OriginLock`."""

    settings: OriginLockSettings
    """The stack's `cdn.origin_lock` settings (mode, CA generations, validity)."""
    zone_id: pulumi.Input[str]
    """The Cloudflare zone of the hosts."""
    zone: str
    """The zone's name (the client certificate names a host in it, so ACM can import it)."""
    hosts: Sequence[str]
    """Public host names Cloudflare proxies to the load balancer (per-hostname origin pulls for each)."""
    bucket_key_arn: pulumi.Input[str]
    """Customer-managed KMS key encrypting the CA bundle object (the deploying role needs kms:Decrypt on
    it: ELB reads the bundle with the caller's credentials when it creates or modifies the trust store)."""
    protect: bool = False
    """Pulumi `protect` on the bundle bucket. Default false; prod passes true."""


@dataclass(frozen=True)
class Generation:
    """One origin-pull CA: its key and self-signed certificate."""

    label: str
    key: tls.PrivateKey
    cert: tls.SelfSignedCert


class OriginLock(pulumi.ComponentResource):
    """Our own origin-pull PKI, made by the program with pulumi-tls (keys are Pulumi secrets in the state).

    * per generation in `trusted_cas`: an RSA key and a self-signed CA certificate (valid
      `origin_pki.CA_VALIDITY_DAYS`, a year longer than the longest client certificate);
    * the client key and certificate, signed by `client_ca`, for Cloudflare;
    * a private, SSE-KMS, versioned bucket holding the CA bundle (every trusted CA), and an ALB trust store
      reading that exact object version, so a bundle change is an in-place ModifyTrustStore;
    * when Cloudflare presents (mode present or verify): the client certificate uploaded as a per-hostname
      origin-pull certificate and enabled for every public host (hostname certificates take precedence over
      zone-level ones, so no zone-wide setting can override this stack's hosts);
    * an ACM import of the client certificate: ACM publishes `DaysToExpiry` for it, which the expiry alarm
      reads. It is never attached to a listener.
    """

    trust_store_arn: pulumi.Output[str]
    bundle_bucket: pulumi.Output[str]
    monitored_certificate_arn: pulumi.Output[str]
    """ARN of the ACM copy of the client certificate (the expiry alarm's dimension)."""
    presented: list[pulumi.Resource]
    """The per-hostname associations: what must exist before the listener verifies (empty when mode off)."""

    def __init__(self, name: str, args: OriginLockArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:edge:OriginLock", name, None, opts)
        s = args.settings
        stack = pulumi.get_stack()
        child = pulumi.ResourceOptions(parent=self)
        generations = {label: self._ca(f"{name}-ca-{label}", stack, label) for label in s.trusted_cas}
        signer = generations[s.client_ca]
        client_key = tls.PrivateKey(f"{name}-client-{signer.label}-key", algorithm=pki.KEY_ALGORITHM,
                                    rsa_bits=pki.RSA_BITS, opts=child)
        request = tls.CertRequest(
            f"{name}-client-{signer.label}-csr", private_key_pem=client_key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=pki.client_dns_name(args.zone, signer.label),
                                               organization=pki.ORGANIZATION),
            dns_names=[pki.client_dns_name(args.zone, signer.label)],
            opts=child)
        client = tls.LocallySignedCert(
            f"{name}-client-{signer.label}", cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=signer.key.private_key_pem, ca_cert_pem=signer.cert.cert_pem,
            validity_period_hours=pki.hours(s.client_validity_days), allowed_uses=list(pki.CLIENT_USES),
            set_subject_key_id=True,
            # 0: pulumi-tls never re-issues on its own before expiry; renewal is an operator's step
            # (docs/origin-lock.md, Rotation), warned by the expiry alarm.
            early_renewal_hours=0, opts=child)

        bucket = SecureBucket(f"{name}-bundle", SecureBucketArgs(
            bucket_prefix=f"floyo-{stack}-origin-ca-"[:37], key_arn=args.bucket_key_arn, expire_after_days=None,
            protect=args.protect), opts=child)
        bundle = pulumi.Output.all(*(g.cert.cert_pem for g in generations.values())).apply(pki.ca_bundle)
        bundle_object = aws.s3.BucketObjectv2(
            f"{name}-bundle", bucket=bucket.name, key=BUNDLE_KEY, content=bundle,
            content_type="application/x-pem-file", server_side_encryption="aws:kms", kms_key_id=args.bucket_key_arn,
            bucket_key_enabled=True,
            # versioning, encryption and the TLS-only policy first: the trust store pins the object's version
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket]))
        trust_store = aws.lb.TrustStore(
            f"{name}-trust-store", name_prefix=TRUST_STORE_NAME_PREFIX,
            ca_certificates_bundle_s3_bucket=bucket.name, ca_certificates_bundle_s3_key=bundle_object.key,
            # the exact version: a new bundle is a new version, hence an in-place ModifyTrustStore
            ca_certificates_bundle_s3_object_version=bundle_object.version_id,
            opts=child)

        self.presented = []
        if s.presents:
            # Zone-wide AOP switch: Cloudflare's older per-hostname guide enables it before the hostname step;
            # with no zone certificate uploaded it only lets Cloudflare present its shared certificate to
            # other origins of the zone that ask for one. Hostname certificates take precedence over it.
            zone_switch = cloudflare.AuthenticatedOriginPullsSettings(
                f"{name}-zone-switch", zone_id=args.zone_id, enabled=True, opts=child)
            uploaded = cloudflare.AuthenticatedOriginPullsHostnameCertificate(
                f"{name}-cloudflare-{signer.label}", zone_id=args.zone_id, certificate=client.cert_pem,
                private_key=client_key.private_key_pem, opts=child)
            self.presented = [
                cloudflare.AuthenticatedOriginPulls(
                    f"{name}-{host.split('.')[0]}", zone_id=args.zone_id,
                    configs=[cloudflare.AuthenticatedOriginPullsConfigArgs(
                        hostname=host, cert_id=uploaded.id, enabled=True)],
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[zone_switch]))
                for host in args.hosts
            ]

        monitored = aws.acm.Certificate(
            f"{name}-client-{signer.label}-expiry", certificate_body=client.cert_pem,
            private_key=client_key.private_key_pem, certificate_chain=signer.cert.cert_pem,
            tags={"floyo:purpose": "expiry monitoring of the Cloudflare origin-pull client certificate"},
            opts=child)

        self.trust_store_arn = trust_store.arn
        self.bundle_bucket = bucket.name
        self.monitored_certificate_arn = monitored.arn
        self.register_outputs({"trust_store_arn": self.trust_store_arn, "bundle_bucket": self.bundle_bucket,
                               "monitored_certificate_arn": self.monitored_certificate_arn})

    def _ca(self, resource_name: str, stack: str, label: str) -> Generation:
        child = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(f"{resource_name}-key", algorithm=pki.KEY_ALGORITHM, rsa_bits=pki.RSA_BITS, opts=child)
        cert = tls.SelfSignedCert(
            resource_name, private_key_pem=key.private_key_pem, is_ca_certificate=True,
            max_path_length=pki.CA_MAX_PATH_LENGTH, allowed_uses=list(pki.CA_USES),
            validity_period_hours=pki.hours(pki.CA_VALIDITY_DAYS),
            subject=tls.SelfSignedCertSubjectArgs(common_name=pki.ca_common_name(stack, label),
                                                  organization=pki.ORGANIZATION),
            set_subject_key_id=True, early_renewal_hours=0, opts=child)
        return Generation(label, key, cert)
