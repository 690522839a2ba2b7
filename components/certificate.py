"""An ACM certificate for the API host, validated through a Cloudflare DNS record."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare


@dataclass(frozen=True)
class CertificateArgs:
    """Arguments of `DnsValidatedCertificate`."""

    domain: str
    """Host name the certificate covers, e.g. api.floyo.app."""
    zone_id: pulumi.Input[str]
    """Cloudflare zone holding the validation record."""


class DnsValidatedCertificate(pulumi.ComponentResource):
    """ACM certificate (DNS validation) for the load balancer's HTTPS listener.

    The validation CNAME lives in Cloudflare, unproxied, so ACM renews the certificate
    on its own for as long as the record exists. `arn` resolves only once ACM has
    issued the certificate, so the listener never points at a pending one.
    """

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:edge:DnsValidatedCertificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cert = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=args.domain,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            options=aws.acm.CertificateOptionsArgs(certificate_transparency_logging_preference="ENABLED"),
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        option = cert.domain_validation_options.apply(lambda opts_: opts_[0])
        record = cloudflare.DnsRecord(
            f"{name}-validation",
            zone_id=args.zone_id,
            name=option.apply(lambda o: (o.resource_record_name or "").rstrip(".")),
            type=option.apply(lambda o: o.resource_record_type or "CNAME"),
            content=option.apply(lambda o: (o.resource_record_value or "").rstrip(".")),
            ttl=60,
            proxied=False,
            comment="ACM DNS validation; keep it or the certificate stops renewing",
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-validation",
            certificate_arn=cert.arn,
            validation_record_fqdns=[record.name],
            opts=child,
        )
        self.arn = validation.certificate_arn
        self.register_outputs({"arn": self.arn})
