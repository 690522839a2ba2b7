"""The origin lock's PKI and both ends of it: our origin-pull CA(s), the client certificate Cloudflare
presents for each public host, the load balancer's trust store, and ACM copies (the client certificate, a
CA-lifetime leaf) so CloudWatch can alarm on their expiry. Design, evidence and runbooks: docs/origin-lock.md."""

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
    """Customer-managed KMS key encrypting the CA bundle object. The deploying role gets kms:Decrypt on it on
    the assumption that ELB reads the bundle with the caller's credentials when it creates or modifies the
    trust store; AWS does not document it (docs/origin-lock.md, "Not run here")."""
    protect: bool = False
    """Pulumi `protect` on the bundle bucket. Default false; prod passes true."""


@dataclass(frozen=True)
class Generation:
    """One origin-pull CA generation: the CA, the client certificate it signs for Cloudflare, and the ACM
    copies that feed the expiry alarms."""

    label: str
    key: tls.PrivateKey
    cert: tls.SelfSignedCert
    client_key: tls.PrivateKey
    client: tls.LocallySignedCert


class OriginLock(pulumi.ComponentResource):
    """Our own origin-pull PKI, made by the program with pulumi-tls (keys are Pulumi secrets in the state).

    Per generation in `trusted_cas` (all made in the deploy that first lists the generation):

    * an RSA key and a self-signed CA certificate (valid `origin_pki.CA_VALIDITY_DAYS`, a year longer than
      the longest client certificate);
    * a client key and certificate signed by that CA, valid `client_validity_days` from its issue; a later
      change of that setting never re-issues it (`ignore_changes`): a client certificate is renewed only by
      rotating to a new generation, so it can never outlive its CA;
    * when Cloudflare presents (mode present or verify): that client certificate uploaded as a per-hostname
      origin-pull certificate, kept until the generation leaves `trusted_cas` (Cloudflare activates an
      upload asynchronously, so a rotation uploads in step 1 and switches to it in step 2);
    * ACM imports for the expiry alarms (ACM publishes `DaysToExpiry` only for certificates it holds): the
      client certificate, and a monitoring-only leaf with the CA's validity (`CA_VALIDITY_DAYS`, signed by
      that CA in the same deploy, so it ends with it). Neither is attached to a listener.

    Shared: a private, SSE-KMS, versioned bucket holding the CA bundle (every trusted CA), an ALB trust store
    reading that exact object version (a bundle change is an in-place ModifyTrustStore), and, for every public
    host, the per-hostname association with the `client_ca` generation's upload.
    """

    trust_store_arn: pulumi.Output[str]
    monitored_certificate_arn: pulumi.Output[str]
    """ARN of the ACM copy of the client certificate Cloudflare presents (the client expiry alarm's dimension)."""
    ca_monitor_arns: dict[str, pulumi.Output[str]]
    """Generation label -> ARN of the ACM copy of its CA-lifetime leaf (each CA's expiry alarm)."""
    presented: list[pulumi.Resource]
    """The per-hostname associations: what must exist before the listener verifies (empty when mode off)."""

    def __init__(self, name: str, args: OriginLockArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:edge:OriginLock", name, None, opts)
        s = args.settings
        stack = pulumi.get_stack()
        child = pulumi.ResourceOptions(parent=self)
        generations = {label: self._generation(name, stack, label, args) for label in s.trusted_cas}
        signer = generations[s.client_ca]

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
            # One upload per trusted generation, kept until its CA is retired: Cloudflare activates an upload
            # asynchronously (pending_deployment, then active; the provider's Create does not wait:
            # terraform-provider-cloudflare internal/services/authenticated_origin_pulls_hostname_certificate/
            # resource.go), so an association must only ever switch to an upload made in an earlier deploy,
            # and the one it leaves must outlive the switch (docs/origin-lock.md, Rotation).
            uploads = {
                label: cloudflare.AuthenticatedOriginPullsHostnameCertificate(
                    f"{name}-cloudflare-{label}", zone_id=args.zone_id, certificate=g.client.cert_pem,
                    private_key=g.client_key.private_key_pem, opts=child)
                for label, g in generations.items()
            }
            self.presented = [
                cloudflare.AuthenticatedOriginPulls(
                    f"{name}-{host.split('.')[0]}", zone_id=args.zone_id,
                    configs=[cloudflare.AuthenticatedOriginPullsConfigArgs(
                        hostname=host, cert_id=uploads[signer.label].id, enabled=True)],
                    opts=child)
                for host in args.hosts
            ]

        self.ca_monitor_arns = {}
        monitored: dict[str, aws.acm.Certificate] = {}
        for label, g in generations.items():
            monitored[label] = aws.acm.Certificate(
                f"{name}-client-{label}-expiry", certificate_body=g.client.cert_pem,
                private_key=g.client_key.private_key_pem, certificate_chain=g.cert.cert_pem,
                tags={"floyo:purpose": "expiry monitoring of the Cloudflare origin-pull client certificate"},
                opts=child)
            self.ca_monitor_arns[label] = self._ca_monitor(name, args.zone, g)

        self.trust_store_arn = trust_store.arn
        self.monitored_certificate_arn = monitored[signer.label].arn
        self.register_outputs({"trust_store_arn": self.trust_store_arn,
                               "monitored_certificate_arn": self.monitored_certificate_arn})

    def _generation(self, name: str, stack: str, label: str, args: OriginLockArgs) -> Generation:
        """A CA and the client certificate it signs for Cloudflare."""
        key, cert = self._ca(f"{name}-ca-{label}", stack, label)
        client_key, request = self._leaf_request(f"{name}-client-{label}", pki.client_dns_name(args.zone, label))
        client = tls.LocallySignedCert(
            f"{name}-client-{label}", cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=key.private_key_pem, ca_cert_pem=cert.cert_pem,
            validity_period_hours=pki.hours(args.settings.client_validity_days), allowed_uses=list(pki.CLIENT_USES),
            set_subject_key_id=True,
            # 0: pulumi-tls plans a replacement only once the certificate has expired (ready_for_renewal,
            # terraform-provider-tls internal/provider/common_cert.go modifyPlanIfCertificateReadyForRenewal);
            # renewal is a rotation to a new generation, warned by the expiry alarm.
            early_renewal_hours=0,
            # validity_period_hours is replace-forcing: a changed setting would re-issue the certificate under
            # the same CA, valid from that day, possibly past the CA's end. It applies to the next generation.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["validityPeriodHours"]))
        return Generation(label, key, cert, client_key, client)

    def _ca_monitor(self, name: str, zone: str, g: Generation) -> pulumi.Output[str]:
        """ACM copy of a leaf that ends with the CA (an hour less validity, issued by it in the same deploy, replaced
        with it: `ca_cert_pem` is replace-forcing), so ACM's DaysToExpiry counts the CA's days. Importing the CA itself
        would put the CA's signing key in ACM; this leaf's key signs nothing and is for server auth only (ALB
        mutual TLS, and our handshake test, need clientAuth)."""
        child = pulumi.ResourceOptions(parent=self)
        key, request = self._leaf_request(f"{name}-ca-{g.label}-monitor", pki.ca_monitor_dns_name(zone, g.label))
        leaf = tls.LocallySignedCert(
            f"{name}-ca-{g.label}-monitor", cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=g.key.private_key_pem, ca_cert_pem=g.cert.cert_pem,
            # an hour short of the CA's validity: made after the CA in the same deploy, it ends just before it
            validity_period_hours=pki.hours(pki.CA_VALIDITY_DAYS) - 1, allowed_uses=list(pki.MONITOR_USES),
            early_renewal_hours=0, opts=child)
        return aws.acm.Certificate(
            f"{name}-ca-{g.label}-expiry", certificate_body=leaf.cert_pem, private_key=key.private_key_pem,
            certificate_chain=g.cert.cert_pem,
            tags={"floyo:purpose": f"expiry monitoring of the origin-pull CA {g.label} (ends with it)"},
            opts=child).arn

    def _leaf_request(self, resource_name: str, dns_name: str) -> tuple[tls.PrivateKey, tls.CertRequest]:
        """A leaf's key and its request naming `dns_name` (subject and only DNS name: ACM imports only
        certificates that name a domain)."""
        child = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(f"{resource_name}-key", algorithm=pki.KEY_ALGORITHM, rsa_bits=pki.RSA_BITS, opts=child)
        request = tls.CertRequest(
            f"{resource_name}-csr", private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=dns_name, organization=pki.ORGANIZATION),
            dns_names=[dns_name], opts=child)
        return key, request

    def _ca(self, resource_name: str, stack: str, label: str) -> tuple[tls.PrivateKey, tls.SelfSignedCert]:
        child = pulumi.ResourceOptions(parent=self)
        key = tls.PrivateKey(f"{resource_name}-key", algorithm=pki.KEY_ALGORITHM, rsa_bits=pki.RSA_BITS, opts=child)
        cert = tls.SelfSignedCert(
            resource_name, private_key_pem=key.private_key_pem, is_ca_certificate=True,
            max_path_length=pki.CA_MAX_PATH_LENGTH, allowed_uses=list(pki.CA_USES),
            validity_period_hours=pki.hours(pki.CA_VALIDITY_DAYS),
            subject=tls.SelfSignedCertSubjectArgs(common_name=pki.ca_common_name(stack, label),
                                                  organization=pki.ORGANIZATION),
            set_subject_key_id=True, early_renewal_hours=0, opts=child)
        return key, cert
