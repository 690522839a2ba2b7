"""The PR diff draws what a change replaces or deletes and what follows from it (mermaid)."""

from __future__ import annotations

import re

from ops.diff.graph import cascade_graph
from ops.diff.plans import diff_plans
from ops.diff.render import render_markdown, render_text
from tests.test_diff_cascade import cidr_diff

LB = "aws:lb/loadBalancer:LoadBalancer"
SERVICE = "aws:ecs/service:Service"


def test_a_vpc_change_names_what_is_updated_in_place_because_of_it() -> None:
    diff = cidr_diff()
    follows = {c.type: c for c in diff.knock_on.values()}
    assert {LB, SERVICE} <= set(follows)
    reads = follows[LB].reads_replaced
    assert reads is not None and "subnets" in reads.input.split(", ")
    assert not any(c.replaced for c in diff.knock_on.values())
    text = render_text(diff)
    assert re.search(r"~ aws:lb/loadBalancer:LoadBalancer  api-alb  \[`[^`]*subnets", text)


def test_the_markdown_diff_pictures_the_cascade_with_the_load_balancer_and_service() -> None:
    body = render_markdown(cidr_diff())
    graph = body.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert graph.startswith("flowchart LR")
    assert re.search(r'LoadBalancer\W[^\n]*updated in place[^\n]*:::follows', graph)
    assert re.search(r'Service\W[^\n]*updated in place[^\n]*:::follows', graph)
    assert re.search(r'Cluster\W[^\n]*:::danger', graph)
    assert re.search(r"g_net\w*_Vpc_replaced --> g_api\w*_TargetGroup_(replaced|danger)", graph)
    assert body.count("```") % 2 == 0


def test_a_cut_picture_keeps_dangers_and_traffic_and_counts_the_rest() -> None:
    diff = cidr_diff()
    graph = cascade_graph(diff, max_nodes=8)
    assert graph is not None
    nodes = [line for line in graph.splitlines() if ":::" in line]
    assert len(nodes) == 8
    assert any(":::danger" in n and "Cluster" in n for n in nodes)
    assert any("LoadBalancer" in n for n in nodes)
    dropped = re.search(r"… (\d+) more group\(s\), (\d+) resource\(s\)", graph)
    assert dropped is not None
    full = cascade_graph(diff)
    assert full is not None
    assert int(dropped.group(1)) + 8 == sum(1 for line in full.splitlines() if ":::" in line) + _more(full)


def _more(graph: str) -> int:
    found = re.search(r"… (\d+) more group", graph)
    return int(found.group(1)) if found else 0


def test_no_replacement_no_picture() -> None:
    plan = {"resources": [{"urn": "urn:pulumi:dev::floyo-infra::aws:sns/topic:Topic::t", "type": "aws:sns/topic:Topic",
                           "name": "t", "parent": "", "inputs": {"displayName": "a"}}]}
    changed = {"resources": [{**plan["resources"][0], "inputs": {"displayName": "b"}}]}
    diff = diff_plans("dev", plan, changed)
    assert cascade_graph(diff) is None and "```mermaid" not in render_markdown(diff)


def test_a_tight_budget_drops_the_picture_not_the_fences() -> None:
    body = render_markdown(cidr_diff(), max_chars=6000)
    assert len(body) <= 6000 and body.count("```") % 2 == 0
