"""`tests.bytecode_cache` (the plugin `./run test` loads): under PYTHONDONTWRITEBYTECODE the session still keeps
pytest's rewritten test modules, and only beside the tests, so the next session (and each xdist worker) reads them
instead of rewriting every test module's asserts again."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from ops.stackfile import ROOT

PROBE = """\
import hypothesis.core


def test_probe() -> None:
    assert 1 + 1 == 2
    # hypothesis's modules are not rewritten (tests.bytecode_cache.unmark_installed): read by the plain loader
    assert type(hypothesis.core.__loader__).__name__ == "SourceFileLoader", hypothesis.core.__loader__
"""
"""A test module that passes only in a session whose plugin leaves the installed hypothesis unrewritten."""


def _session(folder: Path, *plugin: str) -> list[str]:
    """Run pytest on one test module in `folder` with PYTHONDONTWRITEBYTECODE=1; the rewritten caches it left."""
    (folder / "test_probe.py").write_text(PROBE)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           *plugin, "--rootdir", str(folder), str(folder / "test_probe.py")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return sorted(p.name for p in (folder / "__pycache__").glob("*-pytest-*.pyc")) if (
        folder / "__pycache__").is_dir() else []


def test_the_plugin_keeps_the_rewritten_test_module_under_pythondontwritebytecode(tmp_path: Path) -> None:
    """Without the plugin the same session keeps nothing (pytest writes the rewritten module only when
    `sys.dont_write_bytecode` is false: `_pytest/assertion/rewrite.py`, `exec_module`): checked once by hand,
    `_session(tmp_path)` == [], not re-run here (one pytest process less). The probe also holds the plugin to
    leaving installed plugin packages unrewritten: without it, its session fails, hypothesis.core being read by
    pytest's AssertionRewritingHook (also checked by hand)."""
    kept = _session(tmp_path, "-p", "tests.bytecode_cache")
    assert len(kept) == 1 and kept[0].startswith("test_probe.cpython-"), kept


def test_no_rewritten_cache_is_written_into_the_virtualenv(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    """pytest also rewrites installed plugin packages' modules (hypothesis): their caches stay out of the venv."""
    from _pytest.assertion import AssertionState

    from tests.bytecode_cache import _keep_inside

    state = AssertionState(pytestconfig, "rewrite")
    code = compile("x = 1", "probe", "exec")
    installed = Path(sysconfig.get_paths()["purelib"]) / "__pycache__" / "floyo-probe.cpython-pytest.pyc"
    assert not _keep_inside(state, code, b"", installed) and not installed.exists()
    assert _keep_inside(state, code, b"", tmp_path / "probe.pyc") and (tmp_path / "probe.pyc").is_file()
