"""Who imports whom inside one or more packages, read from the source with `ast` (nothing is imported or run).

An edge is recorded with where its import stands: at module level, under `if TYPE_CHECKING:` (pyright
follows it, so a circle through it is still a circle of the design), or inside a function (run later, but
still a dependency). Implicit imports of parent packages are not edges: `ops.cost.engine` does not depend
on `ops.cost` because Python runs `ops/cost/__init__.py` first.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

MODULE, TYPE_CHECKING, FUNCTION = "module", "type_checking", "function"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: str  # MODULE | TYPE_CHECKING | FUNCTION
    line: int


def modules(root: Path, *packages: str) -> dict[str, Path]:
    """Dotted module name -> file, for every `.py` under `root/<package>` (a package by its `__init__.py`)."""
    found: dict[str, Path] = {}
    for path in sorted(path for package in packages for path in (root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _resolve(name: str, known: Mapping[str, Path]) -> str | None:
    """The module `name` names, or the nearest package or module above it (`a.b.attr` -> `a.b`)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module) -> Iterable[tuple[ast.Import | ast.ImportFrom, str]]:
    """Every import statement of `tree`, with where it stands."""
    stack: list[tuple[ast.AST, str]] = [(node, MODULE) for node in reversed(tree.body)]
    while stack:
        node, kind = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, kind
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            inner = TYPE_CHECKING if kind == MODULE else kind
            stack += [(child, inner) for child in reversed(node.body)]
            stack += [(child, kind) for child in reversed(node.orelse)]
            continue
        inner = FUNCTION if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) else kind
        stack += [(child, inner) for child in reversed(list(ast.iter_child_nodes(node)))]


def edges(root: Path, *packages: str) -> list[Edge]:
    """Every import from one module of `packages` to another (itself and other packages left out)."""
    known = modules(root, *packages)
    found: list[Edge] = []
    for name, path in known.items():
        here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node, kind in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [_resolve(alias.name, known) for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    base = ".".join([*here[:len(here) - node.level + 1], *([base] if base else [])])
                targets = [_resolve(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base, known)
                           for alias in node.names]
            found += [Edge(name, t, kind, node.lineno) for t in dict.fromkeys(targets) if t and t != name]
    return found


def circles(graph: Iterable[Edge]) -> list[list[str]]:
    """The strongly connected groups of two modules or more (Tarjan): each one a circle of imports."""
    succ: dict[str, set[str]] = {}
    for edge in graph:
        succ.setdefault(edge.source, set()).add(edge.target)
        succ.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        on_stack.append(node)
        for nxt in sorted(succ[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while not group or group[-1] != node:
                group.append(on_stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(succ):
        if node not in index:
            visit(node)
    return sorted(found)
