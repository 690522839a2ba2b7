"""`__main__.py`, the composition root: each stack output is exported once (a second export of a name silently
replaces the first, as a merge left `ecs_service_name` and `backend_log_group` twice)."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

MAIN = Path(__file__).resolve().parent.parent / "__main__.py"


def exported_names(source: str) -> list[str]:
    """The literal names of every `pulumi.export("<name>", ...)` call in `source`."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "export"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.append(node.args[0].value)
    return names


def test_each_output_is_exported_once() -> None:
    names = exported_names(MAIN.read_text())
    assert {"ecs_service_name", "backend_log_group", "migrate_task_definition_arn"} <= set(names)
    assert [n for n, count in Counter(names).items() if count > 1] == []


def test_a_duplicate_export_is_found() -> None:
    assert exported_names('pulumi.export("a", 1)\npulumi.export("a", 2)\n') == ["a", "a"]
