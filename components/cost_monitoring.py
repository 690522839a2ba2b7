"""Account-level cost controls: cost-allocation tags activated, and the account's AWS-services anomaly monitor."""

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
    activate_allocation_tags: bool = False
    """Declare the activations at all. Default false: a tag Billing has not seen yet makes the provider's
    read-back fail and the whole `pulumi up` stop (stacks/baseline.py, `cost.activate_allocation_tags`)."""
    service_monitor_arn: str | None = None
    """An existing DIMENSIONAL/SERVICE monitor to use instead of creating one (AWS allows one per account).
    Default none: create `floyo-account-services`."""


class CostMonitoring(pulumi.ComponentResource):
    """Billing-side switches that exist once per account.

    * each tag in `allocation_tags` activated, only with `activate_allocation_tags` (AWS Billing must have
      seen the tag on a resource first, up to 24 h after it is first used: a later `pulumi up`);
    * the account's AWS-services Cost Anomaly Detection monitor (DIMENSIONAL/SERVICE; AWS allows one per
      account, https://aws.amazon.com/aws-cost-management/aws-cost-anomaly-detection/faqs/, and creates a
      default one for new Cost Explorer users): the one `service_monitor_arn` names, else a new one. The app
      stack receiving account events subscribes its ticket topic to it (components/account_alerts.py), so
      this project depends on no app stack.
    """

    monitor_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CostMonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:cost:CostMonitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        if args.activate_allocation_tags:
            for tag in args.allocation_tags:
                aws.costexplorer.CostAllocationTag(f"{name}-tag-{tag}", tag_key=tag, status="Active", opts=child)
        if args.service_monitor_arn:
            self.monitor_arn = pulumi.Output.from_input(args.service_monitor_arn)
        else:
            monitor = aws.costexplorer.AnomalyMonitor(
                f"{name}-anomalies", name="floyo-account-services", monitor_type="DIMENSIONAL",
                monitor_dimension="SERVICE", opts=child)
            self.monitor_arn = monitor.arn
        self.register_outputs({"monitor_arn": self.monitor_arn})
