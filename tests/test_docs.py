"""The README is kept true by tests where it can be generated."""

from __future__ import annotations

from ops.docs.config_reference import PAGE, page, reference
from ops.stackfile import ROOT


def test_config_reference_is_current() -> None:
    assert PAGE.read_text() == page(), "run: python -m ops.docs.config_reference --write"


def test_list_defaults_are_their_values() -> None:
    row = next(line for line in reference().splitlines() if "`floyo-infra:cdn.cache.static_path_prefixes`" in line)
    assert "`[/static/, /assets/]`" in row


def test_config_reference_lists_every_section() -> None:
    table = reference()
    for key in ("tier", "network.nat", "backend.image", "backend.health_check.path", "cdn.zone"):
        assert f"`floyo-infra:{key}`" in table


def test_quick_start_is_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert [c.split("#")[0].strip() for c in commands] == ["./run preview", "./run test"]


def test_readme_links_name_files_that_exist() -> None:
    """The docs site checks its own links (`./run docs`, --strict); the README is outside it, so here."""
    import re

    readme = (ROOT / "README.md").read_text()
    targets = {t.split("#", 1)[0] for t in re.findall(r"\]\(([^)\s]+)\)", readme) if not t.startswith(("http", "#"))}
    assert targets, "the README links to its docs pages"
    missing = sorted(t for t in targets if not (ROOT / t).exists())
    assert not missing, missing
