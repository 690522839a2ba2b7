"""`python -m ops check`: the offline adapter hands policies what a real preview would, and the committed
stacks pass the pack."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from ops import __main__ as cli
from ops.plan import check as check_module
from ops.plan.check import CheckResult, Finding, live_lookup_values, render, resource_args, run_policies, stack_resources
from ops.plan.planner import UNKNOWN, Lookup, Plan
from tests.planning import one, stack_plan
from tests.policy_fixtures import res

POLICY_PAGE = Path(__file__).resolve().parent.parent / "docs" / "policy.md"


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
    monkeypatch.setattr(check_module, "check_stack", lambda stack, stack_dir=None: CheckResult(stack, list(findings)))
    assert cli.main(["check", "dev"]) == 3
    findings[:] = [Finding("p", "advisory", "low", "meh", None)]
    assert cli.main(["check", "dev", "--json"]) == 0
    assert '"advisory": 1' in capsys.readouterr().out
    monkeypatch.undo()
    assert cli.main(["check", "nosuch"]) == 2


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_committed_stacks_have_no_mandatory_violation(stack: str) -> None:
    from ops.plan.check import check_plan
    from ops.stackfile import read_stack_config

    result = check_plan(stack_plan(stack), read_stack_config(stack))
    assert not result.mandatory, "\n".join(f"{f.policy} {f.resource}: {f.message}" for f in result.mandatory)
    section = POLICY_PAGE.read_text()
    for finding in result.advisory:
        assert re.search(rf"`{re.escape(finding.policy)}`.*`{re.escape(finding.resource)}`", section), (
            f"docs/policy.md must list the ADVISORY finding {finding.policy} on {finding.resource} with its reason")


def test_policies_are_the_sdk_types() -> None:
    assert all(isinstance(p, ResourceValidationPolicy | StackValidationPolicy) for p in check_module.POLICIES)


# --- re-adding a first-deploy defect to the committed plan makes the check fail, naming resource and rule -----
def _mutated(stack: str) -> Plan:
    """A deep copy of the committed plan, safe to edit."""
    import copy

    return copy.deepcopy(stack_plan(stack))


def _mandatory(plan: Plan, policy: str) -> list[Finding]:
    """MANDATORY findings of `policy` under the committed config without its exceptions for that policy
    (an open defect recorded as an exception must still be caught once its fix lands and regresses)."""
    from dataclasses import replace

    from ops.plan.check import check_plan
    from ops.stackfile import read_stack_config
    from policy.floyo_policies import config_override, pack_config

    committed = pack_config()
    config = replace(committed, exceptions=tuple(e for e in committed.exceptions if e.policy != policy))
    with config_override(config):
        return [f for f in check_plan(plan, read_stack_config(plan.stack)).mandatory if f.policy == policy]


def test_re_adding_a_forty_entry_prefix_list_on_two_rules_fails() -> None:
    plan = _mutated("dev")
    plist = one(plan, "aws:ec2/managedPrefixList:ManagedPrefixList")
    plist.inputs["maxEntries"] = plist.outputs["maxEntries"] = 40.0
    edge = [r for r in plan.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
            if plist.urn in r.property_dependencies.get("prefixListId", [])]
    assert edge, "the dev plan has an edge rule referencing the prefix list"
    if len(edge) == 1:  # the fix dropped the port-80 rule: put it back
        import copy
        second = copy.deepcopy(edge[0])
        second.name = second.name.replace("443", "80") if "443" in second.name else second.name + "-80"
        second.urn = second.urn.rsplit("::", 1)[0] + "::" + second.name
        for values in (second.inputs, second.outputs):
            values["fromPort"] = values["toPort"] = 80.0
        plan.resources.append(second)
        edge.append(second)
    found = _mandatory(plan, "security-group-rule-quota")
    assert {f.resource for f in found} == {r.name for r in edge}
    assert all("against a quota of 60" in f.message and "counts 40" in f.message for f in found)


def test_re_adding_a_pull_grant_on_the_wrong_repository_fails() -> None:
    plan = _mutated("prod")
    task = one(plan, "aws:ecs/taskDefinition:TaskDefinition", "backend-task")
    for values in (task.inputs, task.outputs):
        containers = json.loads(values["containerDefinitions"])
        containers[0]["image"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/not-granted@sha256:" + "b" * 64
        values["containerDefinitions"] = json.dumps(containers)
    found = _mandatory(plan, "execution-role-covers-task")
    assert len(found) == 1 and found[0].resource == task.name
    assert "may not pull arn:aws:ecr:us-east-1:123456789012:repository/not-granted" in found[0].message


def test_re_adding_a_create_before_delete_proxy_fails() -> None:
    plan = _mutated("prod")
    proxy = one(plan, "aws:rds/proxy:Proxy")
    proxy.delete_before_replace = False
    found = _mandatory(plan, "fixed-name-replacement")
    assert any(f.resource == proxy.name and "would collide on the name" in f.message for f in found)


def test_removing_the_deploy_path_to_the_database_fails() -> None:
    plan = _mutated("dev")
    hosts = {r.urn for r in plan.resources if r.type in ("aws:ec2/instance:Instance", "aws:codebuild/project:Project",
                                                         "aws:ec2/launchTemplate:LaunchTemplate")}
    plan.resources = [r for r in plan.resources if r.urn not in hosts]
    found = _mandatory(plan, "required-network-paths")
    assert {f.resource for f in found} == {r.name for r in plan.of_type("pulumi:providers:postgresql")}
    assert all("no in-VPC deploy path" in f.message for f in found)


def test_the_pack_pins_the_same_sdk_as_the_project() -> None:
    def pins(path: Path) -> dict[str, str]:
        lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
        return dict(line.split("==", 1) for line in lines if "==" in line)

    root = POLICY_PAGE.parent.parent
    project = pins(root / "requirements.txt") | pins(root / "requirements-dev.txt")
    pack = pins(root / "policy" / "requirements.txt")
    assert pack["pulumi"] == project["pulumi"] and pack["pulumi-policy"] == project["pulumi-policy"]
    assert "runtime:\n  name: python" in (root / "policy" / "PulumiPolicy.yaml").read_text()


def test_relations_resolve_by_property_dependency_when_ids_are_unknown() -> None:
    """A first real preview knows no IDs; the quota policy still finds the group and the list."""
    from tests.policy_fixtures import INGRESS, group

    lb = group("sg-lb")
    lb.outputs["arn"] = UNKNOWN
    plist = res("aws:ec2/managedPrefixList:ManagedPrefixList", "edge", {"maxEntries": 40.0}, outputs={"arn": UNKNOWN})
    rules = [res(INGRESS, f"edge-{p}", {"ipProtocol": "tcp", "fromPort": float(p), "toPort": float(p),
                                         "securityGroupId": UNKNOWN, "prefixListId": UNKNOWN},
                 refs={"securityGroupId": [lb], "prefixListId": [plist]}, outputs={"arn": UNKNOWN}) for p in (443, 80)]
    for r in (lb, plist, *rules):
        r.id = UNKNOWN
    policies = [p for p in check_module.POLICIES if p.name == "security-group-rule-quota"]
    result = run_policies(Plan("floyo-infra", "dev", [lb, plist, *rules]), policies)
    assert [f.resource for f in result.findings] == ["edge-443", "edge-80"]
    assert all("security group sg-lb: 80 IPv4 ingress rules" in f.message for f in result.findings)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_pack_knows_each_stacks_cloudflare_plan(stack: str) -> None:
    from ops.stackfile import read_stack_config
    from policy.floyo_policies import pack_config
    from tests.planning import settings_for

    assert pack_config().cloudflare_plan[stack] == settings_for(read_stack_config(stack)).cdn.plan
