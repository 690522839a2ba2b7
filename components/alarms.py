"""CloudWatch alarms from the catalogue's `AlarmSpec`s, plus the composite "service down"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

import pulumi
import pulumi_aws as aws

from components.alarm_catalogue import AlarmSpec, CompositeSpec
from components.alerting import AlertTopics

DESCRIPTION_LIMIT = 1024
"""CloudWatch's AlarmDescription maximum length."""


def alarm_name(key: str) -> str:
    """The CloudWatch name of the alarm of `key` in this stack."""
    return f"floyo-{pulumi.get_stack()}-{key}"


class CompositeActions(TypedDict):
    """The action arguments of a composite alarm (`aws.cloudwatch.CompositeAlarm(**composite_actions(...))`)."""

    actions_enabled: bool
    alarm_actions: list[pulumi.Input[str]]
    ok_actions: list[pulumi.Input[str]]


def composite_actions(topic: pulumi.Input[str], enabled: bool) -> CompositeActions:
    """A composite alarm's actions: `topic` on alarm and on OK, none when `enabled` is false (dev's "off").

    `actions_enabled` itself stays true: it forces a new composite alarm (terraform-provider-aws
    internal/service/cloudwatch/composite_alarm.go: ForceNew), and the new one would take the old one's fixed
    name before the old one is deleted. So "off" empties the actions instead."""
    actions: list[pulumi.Input[str]] = [topic] if enabled else []
    return CompositeActions(actions_enabled=True, alarm_actions=actions, ok_actions=list(actions))


def alarm_description(spec: AlarmSpec) -> str:
    """What on-call reads in the notification: the spec's text, the condition, missing-data rule."""
    text = (f"{spec.title}. {spec.description} Fires when {spec.condition}. "
            f"Missing data: {spec.treat_missing_data} ({spec.missing_data_reason}).")
    if len(text) > DESCRIPTION_LIMIT:
        raise ValueError(f"{spec.key}: alarm description is {len(text)} characters; CloudWatch allows "
                         f"{DESCRIPTION_LIMIT}")
    return text


@dataclass(frozen=True)
class AlarmsArgs:
    """Arguments of `Alarms`."""

    specs: Sequence[AlarmSpec]
    """The catalogue entries to create, every tier's together."""
    topics: AlertTopics
    """Topics in the stack's region."""
    stack_region: str
    """The AWS provider's region (`aws:region`)."""
    remote_topics: Mapping[str, AlertTopics] = field(default_factory=dict)
    """Topics for specs living in another region (region -> topics). Default none."""
    actions_enabled: bool = True
    """`monitoring.alarms_enabled`: off only in dev (alarms still change state, nobody is told)."""
    composite: CompositeSpec | None = None
    """The composite alarm over the `service_down` members. Default none."""
    composite_alarms: Sequence[aws.cloudwatch.CompositeAlarm] = ()
    """Composite alarms that join the composite too (the availability SLO's fastest burn alert,
    components/slo_alarms.py). Default none."""


class Alarms(pulumi.ComponentResource):
    """One `aws.cloudwatch.MetricAlarm` per spec, and the composite.

    Every alarm notifies its severity's topic on ALARM *and* on OK, so a page is
    followed by its all-clear. Specs with metric math become `metric_queries` whose
    only returned series is the expression.
    """

    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    composite: aws.cloudwatch.CompositeAlarm | None

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:monitoring:Alarms", name, None, opts)
        keys = [s.key for s in args.specs]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"alarm keys used twice: {duplicates}")
        self.alarms = {spec.key: self._alarm(name, spec, args) for spec in args.specs}
        self.composite = self._composite(name, args) if args.composite is not None else None
        self.register_outputs({"alarm_names": [a.name for a in self.alarms.values()]})

    def _topics(self, spec: AlarmSpec, args: AlarmsArgs) -> AlertTopics:
        if spec.region is None or spec.region == args.stack_region:
            return args.topics
        if spec.region not in args.remote_topics:
            raise ValueError(f"{spec.key} lives in {spec.region}: pass topics for that region in remote_topics")
        return args.remote_topics[spec.region]

    def _alarm(self, name: str, spec: AlarmSpec, args: AlarmsArgs) -> aws.cloudwatch.MetricAlarm:
        topic = self._topics(spec, args).for_severity(spec.severity)
        single = spec.metrics[0] if spec.expression is None else None
        percentile = single is not None and single.stat.startswith("p")
        queries = None
        if spec.expression is not None:
            queries = [
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id=m.id, return_data=False,
                    metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                        namespace=m.namespace, metric_name=m.name, dimensions=dict(m.dimensions),
                        period=m.period, stat=m.stat,
                    ),
                )
                for m in spec.metrics
            ]
            queries.append(aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="result", expression=spec.expression, label=spec.title, return_data=True))
        return aws.cloudwatch.MetricAlarm(
            f"{name}-{spec.key}",
            name=alarm_name(spec.key),
            alarm_description=alarm_description(spec),
            namespace=single.namespace if single else None,
            metric_name=single.name if single else None,
            dimensions=dict(single.dimensions) if single else None,
            period=single.period if single else None,
            statistic=single.stat if single and not percentile else None,
            extended_statistic=single.stat if single and percentile else None,
            metric_queries=queries,
            comparison_operator=spec.comparison,
            threshold=spec.threshold,
            evaluation_periods=spec.evaluation_periods,
            datapoints_to_alarm=spec.datapoints_to_alarm,
            treat_missing_data=spec.treat_missing_data,
            actions_enabled=args.actions_enabled,
            alarm_actions=[topic],
            ok_actions=[topic],
            region=None if spec.region in (None, args.stack_region) else spec.region,
            tags={"floyo:alarm": spec.key, "floyo:tier": spec.tier, "floyo:severity": spec.severity},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _composite(self, name: str, args: AlarmsArgs) -> aws.cloudwatch.CompositeAlarm:
        composite = args.composite
        assert composite is not None
        by_key = {s.key: s for s in args.specs}
        unknown = [k for k in composite.members if k not in by_key]
        if unknown or not composite.members:
            raise ValueError(f"composite {composite.key}: unknown or no members {unknown}")
        remote = [k for k in composite.members if by_key[k].region not in (None, args.stack_region)]
        if remote:
            raise ValueError(f"composite {composite.key}: {remote} live in another region; a composite "
                             "can only combine alarms of its own region")
        members = [*(self.alarms[k].name for k in composite.members), *(c.alarm_name for c in args.composite_alarms)]
        rule = pulumi.Output.all(*members).apply(
            lambda names: " OR ".join(f'ALARM("{n}")' for n in names))
        return aws.cloudwatch.CompositeAlarm(
            f"{name}-{composite.key}",
            alarm_name=alarm_name(composite.key),
            alarm_description=f"{composite.title}. {composite.description}"[:DESCRIPTION_LIMIT],
            alarm_rule=rule,
            **composite_actions(args.topics.page, args.actions_enabled),
            tags={"floyo:alarm": composite.key, "floyo:severity": "page"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[*(self.alarms[k] for k in composite.members),
                                                                    *args.composite_alarms]),
        )
