"""Account-level cost controls: cost-allocation tags activated, and one cost-anomaly monitor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class CostMonitoringArgs:
    """Arguments of `CostMonitoring`."""

    allocation_tags: Sequence[str]
    """User-defined tag keys to activate for cost allocation (the app stacks' budgets filter on `stack`)."""


class CostMonitoring(pulumi.ComponentResource):
    """Billing-side switches that exist once per account.

    * each tag in `allocation_tags` activated (AWS Billing must have seen the tag on a resource first,
      up to 24 h after it is first used: deploy an app stack, then this);
    * a Cost Anomaly Detection monitor of every AWS service (DIMENSIONAL/SERVICE, which AWS allows once
      per account). The app stack receiving account events subscribes its ticket topic to it
      (components/account_alerts.py), so this project depends on no app stack.
    """

    monitor_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CostMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:cost:CostMonitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        for tag in args.allocation_tags:
            aws.costexplorer.CostAllocationTag(f"{name}-tag-{tag}", tag_key=tag, status="Active", opts=child)
        monitor = aws.costexplorer.AnomalyMonitor(
            f"{name}-anomalies", name="floyo-account-services", monitor_type="DIMENSIONAL",
            monitor_dimension="SERVICE", opts=child)
        self.monitor_arn = monitor.arn
        self.register_outputs({"monitor_arn": self.monitor_arn})
