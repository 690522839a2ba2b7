"""`__main__.py`, the composition root, and its tiers (components/tiers/): each stack output is exported once (a
second export of a name silently replaces the first, as a merge left `ecs_service_name` and `backend_log_group`
twice), and the tiers hand the backend each name once."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

from components.tiers.needs import BackendNeeds

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = [ROOT / "__main__.py", *sorted((ROOT / "components" / "tiers").glob("*.py"))]


def exported_names(source: str) -> list[str]:
    """The literal names of every `pulumi.export("<name>", ...)` call in `source`."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "export"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.append(node.args[0].value)
    return names


def test_each_output_is_exported_once() -> None:
    names = [n for path in PROGRAM for n in exported_names(path.read_text())]
    assert {"ecs_service_name", "backend_log_group", "migrate_task_definition_arn"} <= set(names)
    assert [n for n, count in Counter(names).items() if count > 1] == []


def test_a_duplicate_export_is_found() -> None:
    assert exported_names('pulumi.export("a", 1)\npulumi.export("a", 2)\n') == ["a", "a"]


def test_needs_merge_in_tier_order() -> None:
    data = BackendNeeds(environment={"A": "1", "B": "2"}, task_statements=({"Sid": "a"},), rollback_secrets=("r1",))
    tracing = BackendNeeds(environment={"C": "3"}, secrets={"S": "s"}, task_statements=({"Sid": "c"},),
                           sidecars=({"name": "collector"},))
    merged = BackendNeeds.merge(data, tracing)
    assert list(merged.environment) == ["A", "B", "C"] and merged.secrets == {"S": "s"}
    assert merged.task_statements == ({"Sid": "a"}, {"Sid": "c"}) and merged.sidecars == ({"name": "collector"},)
    assert merged.rollback_secrets == ("r1",) and merged.names() == ["A", "B", "C", "S"]


def test_a_name_two_tiers_set_is_refused() -> None:
    with pytest.raises(RuntimeError, match=r"environment \['B'\]"):
        BackendNeeds.merge(BackendNeeds(environment={"B": "1"}), BackendNeeds(environment={"B": "2"}))
    with pytest.raises(RuntimeError, match=r"migrate_secrets \['DATABASE_URL'\]"):
        BackendNeeds.merge(BackendNeeds(migrate_secrets={"DATABASE_URL": "x"}),
                           BackendNeeds(migrate_secrets={"DATABASE_URL": "y"}))
