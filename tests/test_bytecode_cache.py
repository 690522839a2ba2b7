"""`tests.bytecode_cache` (the plugin `./run test` loads): under PYTHONDONTWRITEBYTECODE the session still keeps
pytest's rewritten test modules, and only beside the tests, so the next session (and each xdist worker) reads them
instead of rewriting every test module's asserts again."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import types
from pathlib import Path
from typing import IO

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


def test_a_module_another_worker_is_rewriting_is_read_not_rewritten_again(tmp_path: Path,
                                                                          pytestconfig: pytest.Config,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers collecting the same new test module: the second waits on the first's lock, then reads the pyc
    the first filed instead of rewriting it (`tests.bytecode_cache._rewrite_once`); with no pyc it rewrites and
    files one itself. A rewrite that should not happen fails the test."""
    import fcntl
    import threading

    from _pytest.assertion import rewrite

    from tests import bytecode_cache

    module = tmp_path / "test_probe.py"
    module.write_text("def test_probe() -> None:\n    assert 1 + 1 == 2\n")
    pyc = rewrite.get_cache_dir(module) / (module.name[:-3] + rewrite.PYC_TAIL)
    pyc.parent.mkdir()
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    rewritten: list[Path] = []
    pytests = bytecode_cache._rewrite_test  # pytest's own (this session's `rewrite._rewrite_test` may be the plugin's)

    def counted(fn: Path, config: pytest.Config) -> tuple[bytes, types.CodeType]:
        rewritten.append(fn)
        return pytests(fn, config)

    monkeypatch.setattr(bytecode_cache, "_rewrite_test", counted)
    lock, timed_out = bytecode_cache._lock, []

    def recorded(source: IO[bytes], seconds: float | None = None) -> bool:  # a wait that gives up is a failure
        had = lock(source, 10.0 if seconds is None else seconds)
        timed_out.extend([] if had else [source.name])
        return had

    monkeypatch.setattr(bytecode_cache, "_lock", recorded)
    with open(module, "rb") as other:  # the other worker, rewriting: holds the module's lock
        fcntl.flock(other.fileno(), fcntl.LOCK_EX)
        result: list[tuple[bytes, types.CodeType]] = []
        waiting = threading.Thread(target=lambda: result.append(bytecode_cache._rewrite_once(module, pytestconfig)),
                                   daemon=True)  # a broken lock cannot keep the worker from exiting
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive() and not result  # it waits for the lock
        with open(module, "rb") as third:
            assert not lock(third, 0.05)  # a wait has a deadline, then goes on without
        source_hash, code = pytests(module, pytestconfig)
        assert rewrite._write_pyc(pytestconfig.stash[rewrite.assertstate_key], code, source_hash, pyc)
    waiting.join(30)
    assert result and not rewritten  # read what the other filed
    found_hash, found = result[0]
    assert found_hash == source_hash and found.co_filename == str(module)
    pyc.unlink()
    assert bytecode_cache._rewrite_once(module, pytestconfig)[0] == source_hash and rewritten == [module]
    assert rewrite._read_pyc(module, pyc) is not None  # and filed it before letting go
    assert not timed_out  # every lock was had: none was taken twice by one worker
