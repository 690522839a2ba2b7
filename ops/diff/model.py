"""What an offline diff is made of: the changed resources and the diff that holds them.

The data types `plans` (which computes a diff), `render` and `graph` (which print it) share, in a module
that imports none of them: the three import this one, and it imports only what its fields are made of.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ops.cost.delta import CostDelta
from ops.diff.compare import PropertyChange
from ops.diff.danger import STATEFUL


@dataclass(frozen=True)
class Cascade:
    """`input` of this resource takes its value from `source`, which is replaced."""

    input: str
    source: str
    why: str = ""


@dataclass
class ResourceChange:
    """A resource added, removed or changed (a "change" may hold no property: replaced by cascade)."""

    kind: str  # "add" | "remove" | "change"
    urn: str
    type: str
    name: str
    parent: str
    properties: list[PropertyChange] = field(default_factory=list)
    replace_paths: list[str] = field(default_factory=list)
    cascade: Cascade | None = None
    protect: bool = False
    renamed_from: str | None = None
    hazards: list[str] = field(default_factory=list)
    note: str = ""
    reads_replaced: Cascade | None = None
    """Kept, but `input` reads `source`, which is replaced or removed: updated in place (`Diff.knock_on`)."""

    @property
    def stateful(self) -> bool:
        return self.type in STATEFUL

    @property
    def replaced(self) -> bool:
        return bool(self.replace_paths) or self.cascade is not None

    @property
    def dangerous(self) -> bool:
        return bool(self.hazards)

    def replacement_reason(self) -> str:
        if self.replace_paths:
            return "replaced (delete + create) because " + ", ".join(f"`{p}`" for p in self.replace_paths) + " changed"
        if self.cascade is not None:
            why = f"replaced (delete + create) because `{self.cascade.input}` takes the new {short_urn(self.cascade.source)}"
            return why + (f"; {self.cascade.why}" if self.cascade.why else "")
        return ""

    def danger_reason(self) -> str:
        return "; ".join(self.hazards)


def short_urn(urn: str) -> str:
    """`urn:...$aws:ec2/vpc:Vpc::net-vpc` -> `aws:ec2/vpc:Vpc net-vpc`."""
    head, _, name = urn.rpartition("::")
    return f"{head.rpartition('$')[2].rpartition('::')[2]} {name}"


@dataclass
class Diff:
    """Two plans of one stack, compared."""

    stack: str
    base: str
    base_note: str = ""
    changes: list[ResourceChange] = field(default_factory=list)
    outputs: list[PropertyChange] = field(default_factory=list)
    base_error: str = ""
    head_types: dict[str, int] = field(default_factory=dict)
    cost: CostDelta | None = None
    """The monthly estimate before and after (ops/cost/delta.py); None when it could not be priced."""
    cost_note: str = ""
    """Why there is no `cost` (a region the price table lacks)."""
    knock_on: dict[str, ResourceChange] = field(default_factory=dict)
    """URN -> a resource kept and updated in place only because an input of it reads a replaced or
    removed resource (an ALB's subnets, the ECS service's network): its new value is known at apply
    time only, so no property of it differs offline. `knock_on[urn].reads_replaced` names the input and source."""

    def of_kind(self, kind: str) -> list[ResourceChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def dangerous(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.dangerous]

    @property
    def empty(self) -> bool:
        return not self.changes and not self.outputs and not self.base_error

    def counts_by_type(self) -> dict[str, Counter[str]]:
        """Type -> {"add", "change", "remove", "replace", "danger"} counts, for types with changes."""
        counts: dict[str, Counter[str]] = {}
        for c in self.changes:
            count = counts.setdefault(c.type, Counter())
            count[c.kind] += 1
            count["replace"] += c.replaced
            count["danger"] += c.dangerous
        return dict(sorted(counts.items()))

    def as_json(self) -> dict[str, Any]:
        def change(c: ResourceChange) -> dict[str, Any]:
            return {"kind": c.kind, "urn": c.urn, "type": c.type, "name": c.name, "parent": c.parent,
                    "dangerous": c.dangerous, "hazards": c.hazards, "note": c.note, "replace": c.replaced,
                    "replace_paths": c.replace_paths,
                    "cascade": None if c.cascade is None else {"input": c.cascade.input, "source": c.cascade.source},
                    "reads_replaced": None if c.reads_replaced is None else {"input": c.reads_replaced.input,
                                                                             "source": c.reads_replaced.source},
                    "properties": [{"path": p.path, "before": p.before, "after": p.after} for p in c.properties]}

        return {"stack": self.stack, "base": self.base, "base_note": self.base_note, "base_error": self.base_error,
                "head_types": self.head_types, "changes": [change(c) for c in self.changes],
                "cost": None if self.cost is None else self.cost.as_json(), "cost_note": self.cost_note,
                "knock_on": [change(c) for c in self.knock_on.values()],
                "outputs": [{"path": p.path, "before": p.before, "after": p.after} for p in self.outputs]}
