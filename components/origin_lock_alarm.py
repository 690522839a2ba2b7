"""The origin lock's expiry alarm: the client certificate Cloudflare presents, days before it expires.

Cloudflare keeps presenting an expired client certificate (it deletes none on expiry) and the load balancer
then refuses every request through Cloudflare. The certificate is not an ACM certificate, so the program
imports a copy into ACM (`OriginLock.monitored_certificate_arn`) only for ACM's daily `DaysToExpiry` metric
(AWS/CertificateManager, dimension CertificateArn; ACM User Guide, "Supported CloudWatch metrics").
"""

from __future__ import annotations

import pulumi

from components.alarm_catalogue import AlarmSpec, Metric

DAY = 86_400
"""ACM publishes DaysToExpiry once a day."""


def origin_lock_alarms(*, certificate_arn: pulumi.Input[str], warning_days: int) -> list[AlarmSpec]:
    """One ticket when the origin-pull client certificate has fewer than `warning_days` days left."""
    return [AlarmSpec(
        key="edge-origin-cert-expiring", tier="edge", signal="availability", severity="ticket",
        title="Origin-pull client certificate expiring",
        description=f"The client certificate Cloudflare presents to the load balancer has fewer than {warning_days} "
        "days left. When it expires the load balancer refuses every request through Cloudflare (the API goes "
        "down). Check first: run the rotation in docs/origin-lock.md (new CA generation, switch, retire).",
        metrics=(Metric("days", "AWS/CertificateManager", "DaysToExpiry", {"CertificateArn": certificate_arn},
                        "Minimum", period=DAY),),
        comparison="LessThanThreshold", threshold=warning_days, threshold_setting="cdn.origin_lock.expiry_warning_days",
        threshold_text=f"{warning_days} days", evaluation_periods=1, datapoints_to_alarm=1, unit_label="days",
        treat_missing_data="ignore",
        missing_data_reason="one datapoint a day: between them the last state holds",
    )]
