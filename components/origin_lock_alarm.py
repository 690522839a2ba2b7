"""The origin lock's expiry alarm: the client certificate Cloudflare presents, days before it expires.

Cloudflare keeps presenting an expired client certificate (it deletes none on expiry) and the load balancer
then refuses every request through Cloudflare. The certificate is not an ACM certificate, so the program
imports a copy into ACM (`OriginLock.monitored_certificate_arn`) only for ACM's daily `DaysToExpiry` metric
(AWS/CertificateManager, dimension CertificateArn; ACM User Guide, "Supported CloudWatch metrics").
Each CA generation has its own alarm too, on the ACM copy of a leaf that ends with the CA
(`OriginLock.ca_monitor_arns`): a CA that expires refuses every certificate it signed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.alarm_catalogue import AlarmSpec, Metric

DAY = 86_400
"""ACM publishes DaysToExpiry once a day."""


def origin_lock_alarms(*, certificate_arn: pulumi.Input[str], ca_certificate_arns: Mapping[str, pulumi.Input[str]],
                       warning_days: int) -> list[AlarmSpec]:
    """One ticket when the client certificate Cloudflare presents has fewer than `warning_days` days left, and one
    per trusted CA generation (`ca_certificate_arns`: label -> ACM copy of the leaf that ends with that CA)."""
    client = AlarmSpec(
        key="edge-origin-cert-expiring", tier="edge", signal="availability", severity="ticket",
        title="Origin-pull client certificate expiring",
        description=f"The client certificate Cloudflare presents to the load balancer has fewer than {warning_days} "
        "days left. When it expires the load balancer refuses every request through Cloudflare (the API goes "
        "down). Check first: run the rotation in docs/origin-lock.md (new CA generation, switch, retire).",
        metrics=(_days(certificate_arn),), **_common(warning_days))
    cas = [AlarmSpec(
        key=f"edge-origin-ca-{label}-expiring", tier="edge", signal="availability", severity="ticket",
        title=f"Origin-pull CA {label} expiring",
        description=f"The origin-pull CA {label} in the load balancer's trust bundle has fewer than {warning_days} "
        "days left. When it expires the load balancer refuses every certificate it signed, and pulumi-tls "
        "replaces it (and the client certificate it signed) at the next plan, all in one deploy. Check first: "
        "run the rotation in docs/origin-lock.md to a new generation and retire this one. Act on the first "
        "firing: in the CA's last hour the monitoring leaf has expired, and a deploy then re-issues it with a "
        "fresh validity, which clears this alarm while the CA still expires.",
        metrics=(_days(arn),), **_common(warning_days))
        for label, arn in ca_certificate_arns.items()]
    return [client, *cas]


def _days(certificate_arn: pulumi.Input[str]) -> Metric:
    return Metric("days", "AWS/CertificateManager", "DaysToExpiry", {"CertificateArn": certificate_arn}, "Minimum",
                  period=DAY)


def _common(warning_days: int) -> dict[str, Any]:
    return {"comparison": "LessThanThreshold", "threshold": warning_days,
            "threshold_setting": "cdn.origin_lock.expiry_warning_days", "threshold_text": f"{warning_days} days",
            "evaluation_periods": 1, "datapoints_to_alarm": 1, "unit_label": "days", "treat_missing_data": "ignore",
            "missing_data_reason": "one datapoint a day: between them the last state holds"}
