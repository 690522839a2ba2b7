"""`python -m ops check`: the offline adapter hands policies what a real preview would, and the committed
stacks pass the pack."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from ops import __main__ as cli
from ops import check as check_module
from ops.check import CheckResult, Finding, live_lookup_values, render, resource_args, run_policies, stack_resources
from ops.plan import UNKNOWN, Lookup, Plan
from tests.planning import one, stack_plan
from tests.policy_fixtures import res

README = Path(__file__).resolve().parent.parent / "README.md"


def test_resource_args_carry_wire_names_urn_and_options() -> None:
    plan = stack_plan("dev")
    proxy = one(plan, "aws:rds/proxy:Proxy")
    args = resource_args(proxy)
    assert args.resource_type == "aws:rds/proxy:Proxy" and args.urn == proxy.urn and args.name == "db-proxy"
    assert args.props["requireTls"] is True and "vpcSubnetIds" in args.props and "vpc_subnet_ids" not in args.props
    assert args.opts.parent == proxy.parent and args.opts.protect is proxy.protect
    assert args.opts.delete_before_replace is proxy.delete_before_replace


def test_stack_resources_link_parent_dependencies_and_property_dependencies() -> None:
    plan = stack_plan("dev")
    by_name = {r.name: r for r in stack_resources(plan) if r.resource_type.startswith("aws:vpc/")}
    rule = by_name["sg-service-to-proxy-in"]
    assert rule.parent is not None and rule.parent.name == "sg" and rule.parent.resource_type.endswith("TierSecurityGroups")
    assert [r.name for r in rule.property_dependencies["securityGroupId"]] == ["sg-proxy"]
    assert {r.name for r in rule.dependencies} == {"sg-proxy", "sg-service"}
    assert rule.props["id"] == one(plan, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
                                   "sg-service-to-proxy-in").id


def test_an_unknown_value_is_reported_as_a_policy_that_cannot_run() -> None:
    alarm = res("aws:cloudwatch/metricAlarm:MetricAlarm", "a", {"metricQueries": UNKNOWN})
    with pytest.raises(UnknownValueError):
        _ = resource_args(alarm).props["metricQueries"]
    policies = [p for p in check_module.POLICIES if p.name == "metric-alarm-limits"]
    result = run_policies(Plan("floyo-infra", "dev", [alarm]), policies)
    assert [(f.level, f.message) for f in result.findings] == [
        ("advisory", "can't run policy during preview: string value at .metricQueries can't be known during preview")]


def test_live_lookups_exclude_values_the_settings_pin() -> None:
    plan = Plan("floyo-infra", "dev", lookups=[
        Lookup("aws:index/getAvailabilityZones:getAvailabilityZones", {"state": "available"},
               {"names": ["us-east-1a", "us-east-1b"], "zoneIds": ["use1-az1", "use1-az2"]}),
        Lookup("aws:index/getAvailabilityZones:getAvailabilityZones", {"zoneIds": ["use1-az4"]}, {"names": ["us-east-1c"]}),
        Lookup("aws:index/getRegion:getRegion", {}, {"name": "us-east-1"})])
    live = live_lookup_values(plan, pinned=['{"azs": ["use1-az2"]}'])
    assert set(live) == {"us-east-1a", "us-east-1b", "use1-az1"}


def test_render_lists_mandatory_in_full_and_advisory_in_a_table() -> None:
    result = CheckResult("dev", [Finding("p-one", "mandatory", "high", "broken", "urn:pulumi:dev::p::t::res-a"),
                                 Finding("p-two", "advisory", "low", "meh | odd", "urn:pulumi:dev::p::t::res-b")])
    text = render(result)
    assert "policy: 1 mandatory, 1 advisory (python -m ops check dev)" in text
    assert "  [p-one] res-a: broken" in text and "p-two  res-b: meh | odd" in text
    markdown = render(result, markdown=True)
    assert "- `p-one` on `res-a`: broken" in markdown and "| `p-two` | `res-b` | meh / odd |" in markdown


def test_ops_check_exit_codes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    findings = [Finding("p", "mandatory", "high", "broken", None)]
    monkeypatch.setattr(check_module, "check_stack", lambda stack: CheckResult(stack, list(findings)))
    assert cli.main(["check", "dev"]) == 3
    findings[:] = [Finding("p", "advisory", "low", "meh", None)]
    assert cli.main(["check", "dev", "--json"]) == 0
    assert '"advisory": 1' in capsys.readouterr().out
    monkeypatch.undo()
    assert cli.main(["check", "nosuch"]) == 2


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_have_no_mandatory_violation(stack: str) -> None:
    from ops.check import check_plan
    from ops.stackfile import read_stack_config

    result = check_plan(stack_plan(stack), read_stack_config(stack))
    assert not result.mandatory, "\n".join(f"{f.policy} {f.resource}: {f.message}" for f in result.mandatory)
    readme = README.read_text()
    section = readme[readme.index("## Policy"):]
    for finding in result.advisory:
        assert re.search(rf"`{re.escape(finding.policy)}`.*`{re.escape(finding.resource)}`", section), (
            f"README's Policy section must list the ADVISORY finding {finding.policy} on {finding.resource} with its reason")


def test_policies_are_the_sdk_types() -> None:
    assert all(isinstance(p, ResourceValidationPolicy | StackValidationPolicy) for p in check_module.POLICIES)
