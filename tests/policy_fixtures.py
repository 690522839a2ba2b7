"""Small hand-built plans for the policy tests: resources as the offline plan records them."""

from __future__ import annotations

import json
from typing import Any

from ops.plan.check import CheckResult, run_policies
from ops.plan.planner import Plan, PlannedResource
from policy.floyo_policies import POLICIES, PackConfig, config_override

ACCOUNT = "123456789012"


def urn(token: str, name: str, stack: str = "dev") -> str:
    return f"urn:pulumi:{stack}::floyo-infra::{token}::{name}"


def res(token: str, name: str, inputs: dict[str, Any] | None = None, *, refs: dict[str, list[PlannedResource]] | None = None,
        outputs: dict[str, Any] | None = None, protect: bool = False, delete_before_replace: bool = False,
        depends_on: list[PlannedResource] | None = None, stack: str = "dev") -> PlannedResource:
    """One resource. `refs` says which resources an input was computed from (property dependencies); their
    ids/arns are written into the input, as the engine would resolve them."""
    values = dict(inputs or {})
    prop_deps: dict[str, list[str]] = {}
    for key, targets in (refs or {}).items():
        prop_deps[key] = [t.urn for t in targets]
        if key not in values:
            ids = [t.outputs.get("arn") if key.endswith("Arn") else t.id for t in targets]
            values[key] = ids[0] if len(ids) == 1 and not key.endswith("Ids") else ids
    deps = sorted({u for us in prop_deps.values() for u in us} | {d.urn for d in depends_on or []})
    rid = f"{name}-id"
    state = {**values, "arn": f"arn:aws:{token.split(':')[1].split('/')[0]}:us-east-1:{ACCOUNT}:{name}", **(outputs or {})}
    return PlannedResource(urn(token, name, stack), rid, token, name, "", True, values, deps, protect,
                           delete_before_replace=delete_before_replace, property_dependencies=prop_deps, outputs=state)


FIXTURE_CONFIG = PackConfig(production_stacks=("prod",), cloudflare_plan={"dev": "pro", "prod": "pro"})
"""The pack config fixtures run under: no exceptions, so a fixture sees every violation."""


def check(*resources: PlannedResource, stack: str = "dev", policy: str | None = None,
          config: PackConfig = FIXTURE_CONFIG) -> CheckResult:
    plan = Plan("floyo-infra", stack, list(resources))
    chosen = [p for p in POLICIES if policy is None or p.name == policy]
    assert chosen, f"no policy named {policy}"
    with config_override(config):
        return run_policies(plan, chosen)


def messages(result: CheckResult, policy: str) -> list[str]:
    return [f.message for f in result.findings if f.policy == policy]


def policy_doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"


def group(name: str) -> PlannedResource:
    return res(SG, name, {"description": name})


def rule(token: str, name: str, sg: PlannedResource, peer: PlannedResource | None = None, port: int = 5432,
         **extra: Any) -> PlannedResource:
    refs = {"securityGroupId": [sg]} | ({"referencedSecurityGroupId": [peer]} if peer else {})
    return res(token, name, {"ipProtocol": "tcp", "fromPort": float(port), "toPort": float(port), **extra}, refs=refs)


def allow(name: str, src: PlannedResource, dst: PlannedResource, port: int) -> list[PlannedResource]:
    """Ingress on `dst` naming `src`, and the matching egress."""
    return [rule(INGRESS, f"{name}-in", dst, src, port), rule(EGRESS, f"{name}-out", src, dst, port)]
