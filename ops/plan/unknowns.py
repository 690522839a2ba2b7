"""The SDK's `contains_unknowns`, without the reference cycle it leaves behind on every call.

`pulumi.runtime.rpc.contains_unknowns` (pulumi 3.272.0, pulumi/runtime/rpc.py, `def contains_unknowns`)
defines a recursive inner function `impl` on every call. `impl` refers to itself through its closure cell,
so each call leaves a cycle (function -> closure tuple -> cell -> function, plus its annotations'
tuple and the `set[int]` alias the annotation evaluates) that reference counting never frees: only the
cyclic garbage collector does. The SDK calls it for every Output it resolves (`Output.future`,
`Output.apply`, `rpc.resolve_outputs`): about 18,000 calls in one plan of prod, over 100,000 of the some
130,000 objects the collector had to free after each plan (counted with `gc.DEBUG_SAVEALL`), and the
pass that freed them was about a fifth of a warm plan's CPU.

`contains_unknowns` here is the same walk (same order, same short-circuit, same `seen_ids` guard against
self-referencing containers, the same test for the unknown value as the SDK's `known_types.is_unknown`:
an instance of `pulumi.output.Unknown`) with the recursion a module-level function: nothing to collect.
A value that is neither a dict nor a list is answered without the walk's set (the walk's answer for it is
whether it is the unknown value). `acyclic_unknowns` puts it in the SDK's place for one plan (`ops.plan.planner.
mock_runtime`); every SDK caller reaches it through the `rpc` module's attribute (`rpc.contains_unknowns`
in output.py and invoke.py, the module global in rpc.py). tests/test_plan_runtime.py checks it answers as
the SDK's does, and that a plan with it equals a plan without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import rpc


def contains_unknowns(val: Any) -> bool:
    """Whether `val` is, or holds in a dict or list at any depth, the SDK's unknown value."""
    if isinstance(val, (dict, list)):
        return _walk(val, set())
    return isinstance(val, Unknown)  # what the SDK's walk answers for anything else, without its set


def _walk(val: Any, seen_ids: set[int]) -> bool:
    if isinstance(val, Unknown):  # `known_types.is_unknown`: an instance of `pulumi.output.Unknown`
        return True
    val_id = id(val)
    if val_id in seen_ids:
        return False
    seen_ids.add(val_id)
    if isinstance(val, dict):
        return any(_walk(val[k], seen_ids) for k in val)
    if isinstance(val, list):
        return any(_walk(x, seen_ids) for x in val)
    return False


@contextmanager
def acyclic_unknowns() -> Iterator[None]:
    """`contains_unknowns` in the SDK's place while the block runs; the SDK's own afterwards."""
    sdk = rpc.contains_unknowns
    rpc.contains_unknowns = contains_unknowns
    try:
        yield
    finally:
        rpc.contains_unknowns = sdk
