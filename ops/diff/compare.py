"""Compare two JSON values leaf by leaf, so a diff shows the one element that changed.

* Objects are compared key by key; JSON documents held in strings (IAM policies, container
  definitions) are parsed first and compared inside.
* Lists of objects that each carry a unique `name` (containers, env vars) or `Sid` (IAM
  statements) are compared by that key: `containerDefinitions[backend].cpu`.
* Other lists are aligned element by element (longest common subsequence), so one added
  IAM `Resource` shows as `...Resource[2]: (absent) -> "arn:..."`, not as two whole lists.
  A scalar that becomes a list holding it (IAM's `"Resource": "a"` -> `["a", "b"]`) is
  compared as the one-element list it means.
* Numbers are shown as written: the Pulumi wire format carries every number as a double,
  so `90.0` is printed `90`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

LIST_KEYS = ("name", "Sid")
"""Keys that identify the elements of a list of objects, tried in order."""


@dataclass(frozen=True)
class PropertyChange:
    """One property that differs: `before`/`after` are None when the key is absent."""

    path: str
    before: Any
    after: Any


def as_written(value: Any) -> Any:
    """Doubles that hold whole numbers back to ints (`90.0` -> `90`), recursively."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: as_written(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_written(v) for v in value]
    return value


def _maybe_json(value: Any) -> Any:
    """JSON documents held in strings (policies, container definitions) -> their structure."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return as_written(json.loads(value))
        except json.JSONDecodeError:
            return value
    return value


def _keyed(items: list[Any]) -> tuple[str, dict[str, Any]] | None:
    """A list of objects that each have a unique `name` (or `Sid`) -> (key, {value: item})."""
    if not items or not all(isinstance(i, dict) for i in items):
        return None
    for key in LIST_KEYS:
        if all(isinstance(i.get(key), str) for i in items):
            keyed = {i[key]: i for i in items}
            if len(keyed) == len(items):
                return key, keyed
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _compare_lists(before: list[Any], after: list[Any], path: str) -> list[PropertyChange]:
    b_keyed, a_keyed = _keyed(before), _keyed(after)
    if b_keyed is not None and a_keyed is not None and b_keyed[0] == a_keyed[0]:
        b_items, a_items = b_keyed[1], a_keyed[1]
        found: list[PropertyChange] = []
        for key in [*b_items, *[k for k in a_items if k not in b_items]]:
            found += compare(b_items.get(key), a_items.get(key), f"{path}[{key}]")
        return found
    if len(before) == len(after):
        found = []
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            found += compare(b, a, f"{path}[{i}]")
        return found
    found = []
    matcher = SequenceMatcher(a=[_canonical(b) for b in before], b=[_canonical(a) for a in after], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            found += compare(before[i1 + k], after[j1 + k], f"{path}[{j1 + k}]")
        found += [PropertyChange(f"{path}[{i}]", before[i], None) for i in range(i1 + paired, i2)]
        found += [PropertyChange(f"{path}[{j}]", None, after[j]) for j in range(j1 + paired, j2)]
    return found


def compare(before: Any, after: Any, path: str = "") -> list[PropertyChange]:
    """Every leaf that differs between two JSON values, with its path."""
    before, after = as_written(_maybe_json(before)), as_written(_maybe_json(after))
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[PropertyChange] = []
        for key in sorted(set(before) | set(after), key=str):
            found += compare(before.get(key), after.get(key), _join(path, str(key)))
        return found
    if isinstance(before, list) and isinstance(after, list):
        return _compare_lists(before, after, path)
    if isinstance(after, list) and before is not None and not isinstance(before, dict) and before in after:
        return _compare_lists([before], after, path)
    if isinstance(before, list) and after is not None and not isinstance(after, dict) and after in before:
        return _compare_lists(before, [after], path)
    return [PropertyChange(path or "(value)", before, after)]
