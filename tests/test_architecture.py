"""The architecture picture is drawn from the plan, and the committed copies are current."""

from __future__ import annotations

import copy
from typing import Any

from ops.docs.architecture import TARGETS, block, committed, mermaid
from ops.stackfile import ROOT
from tests.planning import stack_plan


def _prod() -> dict[str, Any]:
    return stack_plan("prod").as_json()


def test_committed_pictures_are_current() -> None:
    want = block(_prod())
    for name in TARGETS:
        assert committed((ROOT / name).read_text()) == want, f"{name} is stale: run python -m ops architecture --write"


def test_arrows_are_the_security_group_rules() -> None:
    plan = _prod()
    picture = mermaid(plan)
    assert 'backend_Service -->|"6379"| cache_ReplicationGroup' in picture
    assert 'cf_edge -->|"443"| api_LoadBalancer' in picture  # the prefix-list rule: Cloudflare's ranges
    without = copy.deepcopy(plan)
    without["resources"] = [r for r in without["resources"] if r["name"] != "sg-service-to-cache-in"]
    assert "cache_ReplicationGroup\n" not in mermaid(without).split("end\n")[-1]
    assert "-->|\"6379\"|" not in mermaid(without)


def test_tiers_are_the_subnets_tags() -> None:
    plan = _prod()
    assert _tier_of(mermaid(plan), "db_Proxy") == "isolated"
    moved = copy.deepcopy(plan)
    for res in moved["resources"]:
        if res["type"] == "aws:ec2/subnet:Subnet" and res["inputs"]["tags"].get("floyo:tier") == "isolated":
            res["inputs"]["tags"]["floyo:tier"] = "private"
    assert _tier_of(mermaid(moved), "db_Proxy") == "private"


def _tier_of(picture: str, node: str) -> str:
    tier = ""
    for line in picture.splitlines():
        stripped = line.strip()
        if stripped.startswith("subgraph tier_"):
            tier = stripped.removeprefix("subgraph tier_").split("[", 1)[0]
        elif stripped == "end":
            tier = ""
        elif stripped.startswith(node + "[") and tier:
            return tier
    raise AssertionError(f"{node} is in no tier of:\n{picture}")
