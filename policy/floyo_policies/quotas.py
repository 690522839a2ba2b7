"""Quotas and hard limits that a real deploy hits and the mock runtime never does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from ._core import (
    HIGH,
    MANDATORY,
    MEDIUM,
    FloyoResourcePolicy,
    FloyoStackPolicy,
    has,
    known,
    of_type,
    pack_config,
    parse_json,
    referenced,
    stack_of,
    strings,
)

SG_RULES_QUOTA = 60
"""Default "Inbound or outbound rules per security group" (VPC quotas), per direction and address family."""
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
PREFIX_LIST = "aws:ec2/managedPrefixList:ManagedPrefixList"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"


Weighted = list[tuple[str, str | None, int]]
"""[(rule name, rule URN, weight)]"""


def _rule_weights(args: StackValidationArgs) -> dict[tuple[str, str | None, str, str], Weighted]:
    """(group name, group URN, direction, family) -> rules. A rule naming a customer-managed prefix list
    weighs the list's max_entries, whatever it holds today (VPC quotas: "prefix list references")."""
    groups = of_type(args.resources, SECURITY_GROUP)
    lists = of_type(args.resources, PREFIX_LIST)
    found: dict[tuple[str, str | None, str, str], Weighted] = defaultdict(list)
    for rule in of_type(args.resources, INGRESS, EGRESS, LEGACY_RULE):
        p = rule.props
        direction = ("ingress" if rule.resource_type == INGRESS else "egress" if rule.resource_type == EGRESS
                     else str(p.get("type", "ingress")))
        owner = referenced(rule, "securityGroupId", groups)
        group, group_urn = (owner[0].name, owner[0].urn) if owner else (str(known(p, "securityGroupId")), None)
        weight, family = 1, "IPv6" if known(p, "cidrIpv6") or known(p, "ipv6CidrBlocks") else "IPv4"
        prefix_key = "prefixListId" if has(p, "prefixListId") else "prefixListIds"
        if has(p, prefix_key):
            plists = referenced(rule, prefix_key, lists)
            weight = sum(int(pl.props.get("maxEntries") or 0) for pl in plists) or 1
            family = str(plists[0].props.get("addressFamily", "IPv4")) if plists else family
        elif rule.resource_type == LEGACY_RULE:
            weight = max(1, len(strings(known(p, "cidrBlocks"))) + len(strings(known(p, "ipv6CidrBlocks"))))
        found[(group, group_urn, direction, family)].append((rule.name, rule.urn, weight))
    for group in groups:  # inline rules on the group itself
        for direction in ("ingress", "egress"):
            for i, inline in enumerate(group.props.get(direction) or []):
                if isinstance(inline, Mapping):
                    weight = max(1, len(strings(inline.get("cidrBlocks"))) + len(strings(inline.get("securityGroups")))
                                 + len(strings(inline.get("prefixListIds"))))
                    found[(group.name, group.urn, direction, "IPv4")].append(
                        (f"{group.name} inline {direction}[{i}]", group.urn, weight))
    return found


def _sg_rule_quota(args: StackValidationArgs, report: ReportViolation) -> None:
    for (group, group_urn, direction, family), rules in sorted(_rule_weights(args).items(), key=lambda kv: kv[0][0]):
        total = sum(w for _, _, w in rules)
        if total <= SG_RULES_QUOTA:
            continue
        heavy = [(n, u, w) for n, u, w in rules if w > 1] or [(group, group_urn, total)]
        for rule_name, urn, weight in heavy:
            report(f"security group {group}: {total} {family} {direction} rules against a quota of {SG_RULES_QUOTA}; "
                   f"rule {rule_name} counts {weight} (a prefix-list reference weighs the list's max_entries) "
                   f"and the group's rules would fail with RulesPerSecurityGroupLimitExceeded", urn)


sg_rule_quota = FloyoStackPolicy(
    "security-group-rule-quota",
    "Each security group stays within 60 rules per direction, a prefix-list reference weighing its max_entries.",
    _sg_rule_quota, MANDATORY, HIGH, ["VPC quota: inbound or outbound rules per security group (60)"])


MAX_ALARM_METRICS = 10
MAX_ALARM_EXPRESSIONS = 10
MAX_ALARM_QUERIES = 20
MAX_ALARM_ACTIONS = 5


def _alarm_limits(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """PutMetricAlarm: at most 10 MetricStat and 10 expression queries (20 in all), 5 actions per state,
    a 255-character name and a 1024-character description."""
    p = args.props
    queries = [q for q in p.get("metricQueries") or [] if isinstance(q, Mapping)]
    metrics = [q for q in queries if q.get("metric")]
    expressions = [q for q in queries if q.get("expression")]
    if len(metrics) > MAX_ALARM_METRICS:
        report(f"alarm {args.name}: its metric math reads {len(metrics)} metrics; CloudWatch allows at most "
               f"{MAX_ALARM_METRICS} (hard limit): split it or use a Metrics Insights query", None)
    if len(expressions) > MAX_ALARM_EXPRESSIONS or len(queries) > MAX_ALARM_QUERIES:
        report(f"alarm {args.name}: {len(queries)} metric queries ({len(expressions)} expressions); "
               f"PutMetricAlarm takes at most {MAX_ALARM_QUERIES}, {MAX_ALARM_EXPRESSIONS} of them expressions", None)
    for key in ("alarmActions", "okActions", "insufficientDataActions"):
        if len(strings(p.get(key))) > MAX_ALARM_ACTIONS:
            report(f"alarm {args.name}: {len(strings(p.get(key)))} {key}; at most {MAX_ALARM_ACTIONS} per state", None)
    if len(str(known(p, "name") or "")) > 255 or len(str(known(p, "alarmDescription") or "")) > 1024:
        report(f"alarm {args.name}: name over 255 or description over 1024 characters", None)


alarm_limits = FloyoResourcePolicy(
    "metric-alarm-limits",
    "Metric alarms stay within PutMetricAlarm's hard limits: 10 metrics in metric math, 20 queries, 5 actions.",
    lambda a, r: _alarm_limits(a, r) if a.resource_type == "aws:cloudwatch/metricAlarm:MetricAlarm" else None,
    MANDATORY, HIGH, ["CloudWatch alarm limits (metric math: 10 metrics, hard)"])

MAX_COMPOSITE_RULE = 10240
MAX_DASHBOARD_WIDGETS = 500
MAX_WIDGET_METRICS = 500


def _composite_and_dashboard(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type == "aws:cloudwatch/compositeAlarm:CompositeAlarm":
        rule = str(args.props.get("alarmRule") or "")
        if len(rule) > MAX_COMPOSITE_RULE:
            report(f"composite alarm {args.name}: alarm rule of {len(rule)} characters; at most {MAX_COMPOSITE_RULE}", None)
        for key in ("alarmActions", "okActions", "insufficientDataActions"):
            if len(strings(args.props.get(key))) > MAX_ALARM_ACTIONS:
                report(f"composite alarm {args.name}: more than {MAX_ALARM_ACTIONS} {key}", None)
    if args.resource_type == "aws:cloudwatch/dashboard:Dashboard":
        body: Any = parse_json(args.props.get("dashboardBody"))
        widgets = body.get("widgets", []) if isinstance(body, Mapping) else []
        if len(widgets) > MAX_DASHBOARD_WIDGETS:
            report(f"dashboard {args.name}: {len(widgets)} widgets; at most {MAX_DASHBOARD_WIDGETS}", None)
        for i, widget in enumerate(widgets):
            metrics = (widget.get("properties") or {}).get("metrics") or [] if isinstance(widget, Mapping) else []
            if len(metrics) > MAX_WIDGET_METRICS:
                report(f"dashboard {args.name}: widget {i} graphs {len(metrics)} metrics; at most {MAX_WIDGET_METRICS}", None)


alarm_dashboard_sizes = FloyoResourcePolicy(
    "alarm-and-dashboard-sizes",
    "Composite alarm rules stay within 10240 characters; dashboards within 500 widgets and 500 metrics a graph.",
    _composite_and_dashboard, MANDATORY, MEDIUM, ["CloudWatch quotas: PutCompositeAlarm AlarmRule, dashboard widgets"])

MAX_LISTENER_RULES = 100
"""Default "Rules per Application Load Balancer" (not counting default rules), ELB quotas."""


def _listener_rules(args: StackValidationArgs, report: ReportViolation) -> None:
    listeners = of_type(args.resources, "aws:lb/listener:Listener", "aws:alb/listener:Listener")
    counts: dict[str, int] = defaultdict(int)
    for rule in of_type(args.resources, "aws:lb/listenerRule:ListenerRule", "aws:alb/listenerRule:ListenerRule"):
        owner = referenced(rule, "listenerArn", listeners)
        counts[owner[0].urn if owner else str(rule.props.get("listenerArn"))] += 1
    for listener, count in counts.items():
        if count > MAX_LISTENER_RULES:
            report(f"listener {listener.split('::')[-1]}: {count} rules; an Application Load Balancer allows "
                   f"{MAX_LISTENER_RULES} by default", listener if listener.startswith("urn:") else None)


listener_rules = FloyoStackPolicy(
    "alb-listener-rules", "An Application Load Balancer carries at most 100 listener rules (default quota).",
    _listener_rules, MANDATORY, MEDIUM, ["ELB quota: rules per Application Load Balancer (100)"])

CLOUDFLARE_RULES_PER_PHASE: dict[str, dict[str, int]] = {
    # Cloudflare's published rule counts per zone and plan (developers.cloudflare.com: each product's
    # "Availability" table): custom WAF rules, rate limiting, cache, redirect, transform, origin, config rules.
    "http_request_firewall_custom": {"free": 5, "pro": 20, "business": 100, "enterprise": 1000},
    "http_ratelimit": {"free": 1, "pro": 2, "business": 5, "enterprise": 100},
    "http_request_cache_settings": {"free": 10, "pro": 25, "business": 50, "enterprise": 300},
    "http_request_dynamic_redirect": {"free": 10, "pro": 25, "business": 50, "enterprise": 300},
    "http_request_transform": {"free": 10, "pro": 25, "business": 50, "enterprise": 300},
    "http_request_late_transform": {"free": 10, "pro": 25, "business": 50, "enterprise": 300},
    "http_response_headers_transform": {"free": 10, "pro": 25, "business": 50, "enterprise": 300},
    "http_request_origin": {"free": 10, "pro": 25, "business": 50, "enterprise": 300},
    "http_config_settings": {"free": 10, "pro": 25, "business": 50, "enterprise": 300},
}


def _cloudflare_rules(args: StackValidationArgs, report: ReportViolation) -> None:
    """Rules per phase against the zone's plan (pack config `cloudflare_plan`), and one entry-point
    ruleset per zone and phase (Cloudflare refuses a second)."""
    rulesets = of_type(args.resources, "cloudflare:index/ruleset:Ruleset")
    if not rulesets:
        args.not_applicable("no Cloudflare rulesets in this stack")
    plan = pack_config().cloudflare_plan.get(stack_of(rulesets[0].urn), "free")
    seen: dict[tuple[str, str], str] = {}
    for ruleset in rulesets:
        phase, zone = str(ruleset.props.get("phase")), str(ruleset.props.get("zoneId"))
        rules = [r for r in ruleset.props.get("rules") or [] if isinstance(r, Mapping)]
        limit = CLOUDFLARE_RULES_PER_PHASE.get(phase, {}).get(plan)
        if limit is not None and len(rules) > limit:
            report(f"ruleset {ruleset.name}: {len(rules)} rules in phase {phase}; the {plan} plan allows {limit}",
                   ruleset.urn)
        if (zone, phase) in seen and ruleset.props.get("kind") == "zone":
            report(f"ruleset {ruleset.name}: a second zone entry-point ruleset for phase {phase} "
                   f"(already {seen[(zone, phase)]}); Cloudflare keeps one per zone and phase", ruleset.urn)
        seen.setdefault((zone, phase), ruleset.name)


cloudflare_rules = FloyoStackPolicy(
    "cloudflare-rules-per-phase",
    "Each Cloudflare phase holds no more rules than the zone's plan allows, in one entry-point ruleset.",
    _cloudflare_rules, MANDATORY, MEDIUM, ["Cloudflare plan limits per phase"])

MAX_FIS_STOP_CONDITIONS = 5
"""FIS quota "Stop conditions per experiment template" (AWS FIS user guide, Quotas and limitations)."""


def _fis_stop_conditions(args: ResourceValidationArgs, report: ReportViolation) -> None:
    """An experiment template stops on 1-5 CloudWatch alarms: never `source: none` (a drill nothing can stop)."""
    conditions = [c for c in args.props.get("stopConditions") or [] if isinstance(c, Mapping)]
    alarms = [c for c in conditions if c.get("source") == "aws:cloudwatch:alarm" and c.get("value")]
    if not alarms or len(alarms) != len(conditions):
        report(f"experiment template {args.name}: every stop condition must be a CloudWatch alarm "
               f"(source aws:cloudwatch:alarm with its ARN), and there must be at least one", None)
    if len(conditions) > MAX_FIS_STOP_CONDITIONS:
        report(f"experiment template {args.name}: {len(conditions)} stop conditions; FIS allows "
               f"{MAX_FIS_STOP_CONDITIONS} per template", None)


fis_stop_conditions = FloyoResourcePolicy(
    "fis-stop-conditions",
    "Every FIS experiment template stops on 1-5 CloudWatch alarms (the FIS quota), never on none.",
    lambda a, r: _fis_stop_conditions(a, r) if a.resource_type == "aws:fis/experimentTemplate:ExperimentTemplate" else None,
    MANDATORY, HIGH, ["FIS quota: stop conditions per experiment template (5)"])

POLICIES = [sg_rule_quota, alarm_limits, alarm_dashboard_sizes, listener_rules, cloudflare_rules, fis_stop_conditions]
