"""Human-readable rendering of a plan: the component tree and a count summary."""

from __future__ import annotations

from collections import Counter

from ops.plan.planner import Plan, PlannedResource


def tree(plan: Plan) -> str:
    """The resource tree (component -> children), then counts by type."""
    children: dict[str, list[PlannedResource]] = {}
    urns = {r.urn for r in plan.resources}
    roots: list[PlannedResource] = []
    for res in plan.resources:
        if res.parent in urns:
            children.setdefault(res.parent, []).append(res)
        else:
            roots.append(res)
    lines = [f"{plan.project} / {plan.stack}"]

    def walk(nodes: list[PlannedResource], prefix: str) -> None:
        for i, node in enumerate(nodes):
            last = i == len(nodes) - 1
            mark = " [protected]" if node.protect else ""
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{node.type}  {node.name}{mark}")
            walk(children.get(node.urn, []), prefix + ("   " if last else "│  "))

    walk(roots, "")
    counts = Counter(r.type for r in plan.resources if r.custom)
    components = sum(1 for r in plan.resources if not r.custom)
    lines.append("")
    lines.append(f"{sum(counts.values())} resources, {components} components, "
                 f"{sum(1 for r in plan.resources if r.protect)} protected")
    for token, count in sorted(counts.items()):
        lines.append(f"  {count:4d}  {token}")
    if plan.outputs:
        lines.append("")
        lines.append("Outputs:")
        for key, value in sorted(plan.outputs.items()):
            lines.append(f"  {key}: {value}")
    return "\n".join(lines)
