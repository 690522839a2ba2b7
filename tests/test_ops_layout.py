"""ops/ is grouped by job, and ops/README.md is its map: every module is on it, in its group, and a group
imports only the groups above it in the map (`ops/__main__.py`, the CLI, imports them all). No module of
ops/ imports itself back through others, even under `if TYPE_CHECKING:` or inside a function."""

from __future__ import annotations

import re
from pathlib import Path

from ops.stackfile import ROOT
from tests.import_graph import FUNCTION, MODULE, TYPE_CHECKING, Edge, circles, edges, modules

MAP = ROOT / "ops" / "README.md"
ROW = re.compile(r"^\| \[`(?P<group>[\w./]+)`\]\([\w./]+\) \|[^|]+\| (?P<modules>[^|]+) \|$")


def groups(text: str) -> list[tuple[str, list[str]]]:
    """The map's rows, in order: (`plan/` or `stackfile.py`, its module names)."""
    rows = [ROW.match(line) for line in text.splitlines()]
    return [(m["group"], re.findall(r"`(\w+)`", m["modules"])) for m in rows if m]


def group_of(module: str) -> str | None:
    """`ops.plan.planner` -> `plan/`, `ops.stackfile` -> `stackfile.py`; None for `ops` and its CLI."""
    parts = module.split(".")[1:]
    if not parts or parts == ["__main__"]:
        return None
    return f"{parts[0]}/" if (ROOT / "ops" / parts[0]).is_dir() else f"{parts[0]}.py"


def upward(graph: list[Edge], order: list[str]) -> list[str]:
    """Imports from a group to one listed below it (or to no group of the map)."""
    rank = {group: n for n, group in enumerate(order)}
    wrong = []
    for edge in graph:
        source, target = group_of(edge.source), group_of(edge.target)
        if source is None or target is None or source == target:
            continue
        if target not in rank or source not in rank or rank[target] > rank[source]:
            wrong.append(f"{edge.source} -> {edge.target} ({edge.kind}, line {edge.line})")
    return wrong


def test_the_map_lists_every_module_in_its_group() -> None:
    listed = {f"ops.{group.removesuffix('/').removesuffix('.py')}" + ("" if group.endswith(".py") else f".{name}")
              for group, names in groups(MAP.read_text()) for name in names}
    on_disk = {name for name, path in modules(ROOT, "ops").items() if path.name not in ("__init__.py", "__main__.py")}
    assert len(groups(MAP.read_text())) >= 8, "the map's table rows are read"
    assert sorted(on_disk - listed) == [], "modules missing from ops/README.md"
    assert sorted(listed - on_disk) == [], "ops/README.md names modules that do not exist"


def test_every_group_has_a_docstring_saying_what_it_is_for() -> None:
    for package in sorted(p.parent for p in (ROOT / "ops").glob("*/__init__.py")):
        text = (package / "__init__.py").read_text()
        assert text.startswith('"""') and len(text.split('"""')[1].strip()) > 40, package


def test_a_group_imports_only_the_groups_above_it() -> None:
    graph = edges(ROOT, "ops")
    order = [group for group, _ in groups(MAP.read_text())]
    assert any(group_of(e.source) == "diff/" and group_of(e.target) == "plan/" for e in graph), "edges are read"
    assert upward(graph, order) == []


def test_an_import_from_a_lower_group_is_found() -> None:
    order = ["stackfile.py", "plan/", "diff/"]
    assert upward([Edge("ops.plan.planner", "ops.diff.plans", FUNCTION, 3)], order) == [
        "ops.plan.planner -> ops.diff.plans (function, line 3)"]
    assert upward([Edge("ops.diff.plans", "ops.plan.planner", MODULE, 1),
                   Edge("ops.__main__", "ops.diff.plans", MODULE, 1)], order) == []


def test_the_reader_finds_imports_at_every_level(tmp_path: Path) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    for name in ("pkg/__init__.py", "pkg/sub/__init__.py", "pkg/c.py", "pkg/d.py", "pkg/sub/e.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "pkg" / "a.py").write_text(
        "from typing import TYPE_CHECKING\nimport pkg.c\nfrom pkg.sub import e\nif TYPE_CHECKING:\n"
        "    from pkg.d import Thing\ndef f():\n    from . import d\n    from .sub.e import g\n")
    found = {(e.target, e.kind) for e in edges(tmp_path, "pkg") if e.source == "pkg.a"}
    assert found == {("pkg.c", MODULE), ("pkg.sub.e", MODULE), ("pkg.d", TYPE_CHECKING), ("pkg.d", FUNCTION),
                     ("pkg.sub.e", FUNCTION)}


def test_no_module_of_ops_imports_itself_back() -> None:
    graph = edges(ROOT, "ops")
    assert any(e.source == "ops.diff.render" and e.target == "ops.diff.model" for e in graph), "edges are read"
    assert circles(graph) == []


def test_a_circle_is_found_whatever_closes_it() -> None:
    loop = [Edge("ops.diff.plans", "ops.diff.render", MODULE, 1), Edge("ops.diff.render", "ops.diff.graph", MODULE, 1)]
    assert circles(loop) == []
    for kind in (MODULE, TYPE_CHECKING, FUNCTION):
        assert circles([*loop, Edge("ops.diff.graph", "ops.diff.plans", kind, 9)]) == [
            ["ops.diff.graph", "ops.diff.plans", "ops.diff.render"]]
