"""A mermaid picture of what a change replaces or deletes, and what follows from it (the PR diff).

Nodes are groups of resources, one per component and type (`3 × Subnet`), so a change that
touches hundreds of resources stays readable; arrows go from a replaced or removed group to the
groups that are replaced because of it (a replace-forcing input reads it) or updated in place
because of it (any other input reads it: an ALB's subnets, the ECS service's network). Dangerous
groups are red, replaced ones orange, removed ones grey, updated-in-place ones blue and dashed.
Past `MAX_NODES` groups, dangerous groups and their neighbours are kept first and the rest are
counted in one node.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from ops.diff.danger import STATEFUL, TRAFFIC
from ops.diff.model import Diff, ResourceChange
from ops.plan.urns import is_top_level, leaf_type, name_of

KEEP_FIRST = {*STATEFUL, *TRAFFIC, "aws:ecs/service:Service"}
"""Types kept in a cut picture before others: they hold data or carry users' requests."""

MAX_NODES = 40
"""Most groups drawn; the rest are summarised in one node."""

CLASSES = (
    "  classDef danger fill:#fde2e1,stroke:#c62828,stroke-width:2px,color:#000",
    "  classDef replaced fill:#fff1d6,stroke:#ef6c00,color:#000",
    "  classDef removed fill:#eeeeee,stroke:#616161,stroke-dasharray:3 3,color:#000",
    "  classDef follows fill:#e3f2fd,stroke:#1565c0,stroke-dasharray:5 3,color:#000",
)


@dataclass
class _Group:
    ident: str
    component: str
    token: str
    kind: str  # danger | replaced | removed | follows
    names: list[str] = field(default_factory=list)


def _component(parent: str) -> str:
    return "stack" if is_top_level(parent) else f"{name_of(parent)} ({leaf_type(parent).rsplit(':', 1)[-1]})"


def _kind(change: ResourceChange, follows: bool) -> str:
    if change.dangerous:
        return "danger"
    if follows:
        return "follows"
    return "removed" if change.kind == "remove" else "replaced"


RANK = {"danger": 0, "removed": 1, "replaced": 2, "follows": 3}


def _ident(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def cascade_graph(diff: Diff, max_nodes: int = MAX_NODES) -> str | None:
    """The mermaid flowchart of the diff's replacements, removals and what follows; None when there are none."""
    moved = [c for c in diff.changes if c.replaced or c.kind == "remove"]
    if not moved:
        return None
    groups: dict[tuple[str, str, str], _Group] = {}
    group_of: dict[str, _Group] = {}
    for change, follows in [*((c, False) for c in moved), *((c, True) for c in diff.knock_on.values())]:
        kind = _kind(change, follows)
        component = _component(change.parent)
        key = (component, change.type, kind)
        if key not in groups:
            groups[key] = _Group(_ident(f"g_{component}_{change.type.rsplit(':', 1)[-1]}_{kind}"), component,
                                 change.type, kind)
        groups[key].names.append(change.name)
        group_of[change.urn] = groups[key]
    edges: set[tuple[str, str]] = set()
    for change in [*moved, *diff.knock_on.values()]:
        cause = change.cascade or change.reads_replaced
        if cause is not None and cause.source in group_of:
            src, dst = group_of[cause.source], group_of[change.urn]
            if src is not dst:
                edges.add((src.ident, dst.ident))
    kept = _keep(list(groups.values()), edges, max_nodes)
    lines = ["flowchart LR"]
    by_component: dict[str, list[_Group]] = defaultdict(list)
    for group in kept:
        by_component[group.component].append(group)
    for n, (component, members) in enumerate(sorted(by_component.items())):
        lines.append(f'  subgraph c{n}["{component}"]')
        for group in sorted(members, key=lambda g: (RANK[g.kind], g.token)):
            short = group.token.rsplit(":", 1)[-1]
            what = f"{len(group.names)} × {short}" if len(group.names) > 1 else f"{short}<br/><small>{group.names[0]}</small>"
            verb = {"danger": "⚠ replaced/deleted", "replaced": "replaced", "removed": "deleted",
                    "follows": "updated in place"}[group.kind]
            lines.append(f'    {group.ident}["{what}<br/><small>{verb}</small>"]:::{group.kind}')
        lines.append("  end")
    shown = {g.ident for g in kept}
    dropped = [g for g in groups.values() if g.ident not in shown]
    if dropped:
        lines.append(f'  more["… {len(dropped)} more group(s), {sum(len(g.names) for g in dropped)} resource(s): '
                     'see the lists below"]')
    lines += [f"  {a} --> {b}" for a, b in sorted(edges) if a in shown and b in shown]
    lines += list(CLASSES)
    return "\n".join(lines)


def _keep(groups: list[_Group], edges: set[tuple[str, str]], max_nodes: int) -> list[_Group]:
    """At most `max_nodes` groups: dangerous ones, what holds data or carries traffic, their neighbours, then by kind."""
    if len(groups) <= max_nodes:
        return groups
    near: set[str] = set()
    danger = {g.ident for g in groups if g.kind == "danger"}
    for a, b in edges:
        if a in danger:
            near.add(b)
        if b in danger:
            near.add(a)
    ranked = sorted(groups, key=lambda g: (g.kind != "danger", g.token not in KEEP_FIRST, g.ident not in near,
                                           RANK[g.kind], -len(g.names), g.ident))
    return ranked[:max_nodes]
