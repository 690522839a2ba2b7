"""Fuzz the stack file (issue 11: "no tracebacks, ever").

Whatever a stack file holds, reading and validating it (the settings path every tool and the
program take, no planning) either works or ends in one of the three expected errors, and the
message names the file or the offending key. Hypothesis, derandomized so CI runs the same
few hundred cases every time.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from ops.stackfile import ROOT, StackFileError, read_stack_config
from stacks import SettingsError, load_settings

STACK = "fuzz"
FILE = f"Pulumi.{STACK}.yaml"
KEY = re.compile(r"^(stack name$|[^:]*:)")
"""A problem names a config key (`namespace:name...`) or the stack name."""
BASE: dict[str, Any] = YAML(typ="safe").load((ROOT / "Pulumi.dev.yaml").read_text())

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
    st.text(max_size=12), st.dates(), st.sampled_from(["prod", "dev", "floyo.app", "1e3", "0x10", "2026-11-03", "~", "yes"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3),
    st.fixed_dictionaries({"secure": st.text(max_size=10)}),
), max_leaves=6)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """The dev stack file with a few structure mutations: a value replaced, a key dropped or added."""
    import copy

    doc: Any = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(doc))
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "drop", "add", "wrap"]))
        if not path:
            doc = draw(values) if action == "replace" else doc
            continue
        parent: Any = doc
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        if action == "replace":
            parent[last] = draw(values)
        elif action == "drop":
            del parent[last]
        elif action == "wrap":
            parent[last] = [parent[last]]
        elif isinstance(parent[last], dict):
            parent[last][draw(st.sampled_from(["floyo-infra:cdn", "zone", "tier", "x:y", "cpu", 7]))] = draw(values)
    return doc


def _text(doc: Any) -> str:
    import io

    out = io.StringIO()
    YAML(typ="safe").dump(doc, out)
    return out.getvalue()


@st.composite
def corrupted_texts(draw: st.DrawFn) -> str:
    """The dev stack file's text with characters inserted, deleted or swapped: random YAML."""
    text = (ROOT / "Pulumi.dev.yaml").read_text()
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        junk = draw(st.sampled_from([":", "- ", "\t", "{", "[", "'", '"', "\n  ", "&a", "*a", "!!int ", "? ", "#", "|"]))
        text = text[:at] + junk + text[at + draw(st.integers(0, 3)):]
    return text


stack_files = st.one_of(mutated_documents().map(_text), corrupted_texts(), st.text(max_size=60))


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="floyo-fuzz-") as tmp:
        yield Path(tmp)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=stack_files)
def test_any_stack_file_gives_settings_or_one_clear_error(scratch: Path, text: str) -> None:
    (scratch / FILE).write_text(text)
    try:
        config = read_stack_config(STACK, scratch)
        load_settings(STACK, config.values, config.secret_keys, config.secure_paths)
    except StackFileError as exc:
        message = str(exc)
        assert message.startswith(FILE), message
        assert "\n" not in message and "Traceback" not in message
    except SettingsError as exc:
        assert exc.problems, str(exc)
        for problem in exc.problems:
            assert KEY.match(problem.path), problem.path
        assert "Traceback" not in str(exc)
