"""stacks/ (settings) and components/ (the program) import in one direction: no module of either reaches
itself again through imports, counting imports under `TYPE_CHECKING` and inside functions, and the settings
never import the program."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("stacks", "components")


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Dotted name -> file of every module under `PACKAGES`."""
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(source: str, known: set[str]) -> set[str]:
    """The known modules `source` imports anywhere (top level, `TYPE_CHECKING`, functions); `from p import m`
    counts as importing the module `p.m` when there is one."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            subs = {f"{node.module}.{a.name}" for a in node.names} & known
            found |= subs | ({node.module} if len(subs) < len(node.names) else set())
    return found & known


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path.read_text(), set(known)) - {name} for name, path in known.items()}


def test_no_import_circles_in_settings_or_components() -> None:
    assert circles(import_graph()) == []


def test_settings_never_import_the_program() -> None:
    graph = import_graph()
    assert {m: sorted(i for i in graph[m] if i.startswith("components"))
            for m in graph if m.startswith("stacks") and any(i.startswith("components") for i in graph[m])} == {}


def test_a_circle_through_a_type_checking_import_is_found() -> None:
    known = {"stacks.settings", "stacks.cdn", "stacks.base"}
    settings = "from stacks.cdn import CdnSettings\n"
    cdn = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from stacks.settings import StackSettings\n"
    graph = {"stacks.settings": imports(settings, known), "stacks.cdn": imports(cdn, known), "stacks.base": set()}
    assert circles(graph) == [["stacks.cdn", "stacks.settings"]]
    inside = "def f():\n    from stacks import settings\n"  # `from package import module`, inside a function
    assert imports(inside, known) == {"stacks.settings"}
