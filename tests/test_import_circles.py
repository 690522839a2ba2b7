"""stacks/ (settings) and components/ (the program) import in one direction: no module of either reaches
itself again through imports, counting imports under `TYPE_CHECKING` and inside functions, and the settings
never import the program. The graph is `tests/import_graph.py`'s, as for ops/ (tests/test_ops_layout.py)."""

from __future__ import annotations

from pathlib import Path

from tests.import_graph import circles, edges

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("stacks", "components")


def test_no_import_circles_in_settings_or_components() -> None:
    assert circles(edges(ROOT, *PACKAGES)) == []


def test_settings_never_import_the_program() -> None:
    found = sorted({(e.source, e.target) for e in edges(ROOT, *PACKAGES)
                    if e.source.startswith("stacks") and e.target.startswith("components")})
    assert found == []


def test_a_circle_through_a_type_checking_import_is_found(tmp_path: Path) -> None:
    package = tmp_path / "stacks"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text("")
    (package / "settings.py").write_text("from stacks.cdn import CdnSettings\n")
    (package / "cdn.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from stacks.settings import StackSettings\n")
    assert circles(edges(tmp_path, "stacks")) == [["stacks.cdn", "stacks.settings"]]
    (package / "base.py").write_text("def f():\n    from stacks import settings\n")  # inside a function
    assert {e.target for e in edges(tmp_path, "stacks") if e.source == "stacks.base"} == {"stacks.settings"}
