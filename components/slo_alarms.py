"""CloudWatch alarms of the SLO burn-rate alerts (`components/slo.py`): two ratio alarms and one composite each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.alarms import DESCRIPTION_LIMIT, alarm_name, composite_actions
from components.alerting import AlertTopics
from components.slo import SUPPRESSOR_WAIT_SECONDS, BurnAlert, WindowAlarm


@dataclass(frozen=True)
class SloAlarmsArgs:
    """Arguments of `SloAlarms`."""

    alerts: Sequence[BurnAlert]
    """The burn alerts (`components.slo.burn_alerts`), highest burn rate first within an SLI."""
    topics: AlertTopics
    """Page and ticket topics in the stack's region."""
    actions_enabled: bool = True
    """`monitoring.alarms_enabled`: off only in dev."""


def composite_rule(long_name: str, short_name: str) -> str:
    """Both windows burning: the composite's `AlarmRule`."""
    return f'ALARM("{long_name}") AND ALARM("{short_name}")'


class SloAlarms(pulumi.ComponentResource):
    """Per burn alert: a long-window and a short-window ratio alarm (no actions of their own) and the composite
    that notifies.

    * a page composite notifies the page topic on ALARM and OK; a ticket composite the ticket topic;
    * the availability SLI's highest page is a member of the service-down composite instead (which pages once
      for all its members), so it notifies the ticket topic, like the other members;
    * each composite but the highest of its SLI names the next-higher one as `ActionsSuppressor`: while the
      higher alert is in ALARM the lower one's actions are suppressed; it waits `SUPPRESSOR_WAIT_SECONDS` for
      the higher one to fire, and the length of its own short window after the higher one clears (guardian/cdk's
      error-budget alarm does the same; CloudWatch PutCompositeAlarm, `ActionsSuppressor*`).
    """

    window_alarms: dict[str, aws.cloudwatch.MetricAlarm]
    composites: dict[str, aws.cloudwatch.CompositeAlarm]

    def __init__(self, name: str, args: SloAlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:monitoring:SloAlarms", name, None, opts)
        self.window_alarms = {}
        self.composites = {}
        self._alerts = tuple(args.alerts)
        for alert in args.alerts:  # in order: a suppressor is declared before the alerts it suppresses
            long, short = (self._window(name, w, args) for w in (alert.long, alert.short))
            self.window_alarms[alert.long.key], self.window_alarms[alert.short.key] = long, short
            self.composites[alert.key] = self._composite(name, alert, long, short, args)
        self.register_outputs({"composite_names": [c.alarm_name for c in self.composites.values()]})

    @property
    def service_down_members(self) -> list[aws.cloudwatch.CompositeAlarm]:
        """The composites that join the service-down composite."""
        return [self.composites[a.key] for a in self._alerts if a.service_down]

    def _window(self, name: str, spec: WindowAlarm, args: SloAlarmsArgs) -> aws.cloudwatch.MetricAlarm:
        queries = [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=m.id, return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=m.namespace, metric_name=m.name, dimensions=dict(m.dimensions), period=m.period,
                    stat=m.stat),
            )
            for m in spec.metrics
        ]
        queries.append(aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="ratio", expression=spec.expression, label=f"{spec.sli.title} bad ratio", return_data=True))
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{spec.key}",
            name=alarm_name(spec.key),
            alarm_description=(f"{spec.sli.title} bad-request ratio over {spec.minutes} min at or over "
                               f"{spec.threshold:.6g}: one window of a burn-rate alert; its composite notifies, this "
                               "alarm does not. Check first: the composite's description and docs/slo.md. Missing "
                               f"data: {spec.treat_missing_data} (no requests is no burn)."),
            metric_queries=queries,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            treat_missing_data=spec.treat_missing_data,
            actions_enabled=args.actions_enabled,
            tags={"floyo:alarm": spec.key, "floyo:slo": spec.sli.key, "floyo:window": spec.key.rsplit("-", 1)[1]},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _composite(self, name: str, alert: BurnAlert, long: aws.cloudwatch.MetricAlarm,
                   short: aws.cloudwatch.MetricAlarm, args: SloAlarmsArgs) -> aws.cloudwatch.CompositeAlarm:
        topic = args.topics.ticket if alert.service_down else args.topics.for_severity(alert.window.severity)
        suppressor = self.composites[alert.suppressor] if alert.suppressor else None
        return aws.cloudwatch.CompositeAlarm(
            f"{name}-{alert.key}",
            alarm_name=alarm_name(alert.key),
            alarm_description=alert.description()[:DESCRIPTION_LIMIT],
            alarm_rule=pulumi.Output.all(long.name, short.name).apply(lambda n: composite_rule(n[0], n[1])),
            **composite_actions(topic, args.actions_enabled),
            actions_suppressor=aws.cloudwatch.CompositeAlarmActionsSuppressorArgs(
                alarm=suppressor.alarm_name, wait_period=SUPPRESSOR_WAIT_SECONDS,
                extension_period=alert.window.short_minutes * 60,
            ) if suppressor else None,
            # a service-down member is a ticket itself: the service-down composite pages for it
            tags={"floyo:alarm": alert.key, "floyo:slo": alert.sli.key,
                  "floyo:severity": "ticket" if alert.service_down else alert.window.severity},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[long, short, *([suppressor] if suppressor else [])]),
        )
