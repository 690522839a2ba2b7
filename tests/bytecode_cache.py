"""A pytest plugin that lets the test session keep its bytecode caches even under PYTHONDONTWRITEBYTECODE.

`./run test` loads it (`pytest -p tests.bytecode_cache`). Without it, a machine that sets
`PYTHONDONTWRITEBYTECODE=1` (this one does) makes every pytest process rewrite every test module's asserts
again: pytest writes its rewritten `tests/__pycache__/*-pytest-*.pyc` only when `sys.dont_write_bytecode`
is false (`_pytest/assertion/rewrite.py`, `AssertionRewritingHook.exec_module`), and reads it in any case.
That rewriting was more than half of collection's CPU time (about 2.7 of 5.1 s), paid again by every xdist
worker; the project's own modules were compiled from source again in every process too.

The switch is made at `pytest_sessionstart`, after pytest has imported its plugins and the conftest files and
before collection imports the test modules. Only the project's files get caches, as Python does by default
(`__pycache__/` beside them, ignored by git). pytest also marks the modules of installed plugin packages for
rewriting (hypothesis, imported later by a test module): the plugin unmarks them (`unmark_installed`), and
should one be rewritten anyway, its rewritten cache is not written into the virtualenv (`_keep_inside`).
Installed packages already carry their ordinary `.pyc` (pip compiles them at install). Child processes keep the
environment's setting and read the caches the session wrote."""

from __future__ import annotations

import contextlib
import fcntl
import sys
import sysconfig
import time
import types
from importlib.machinery import PathFinder
from pathlib import Path
from typing import IO

import pytest
from _pytest.assertion import AssertionState, rewrite

INSTALLED = tuple(Path(p).resolve() for p in {sys.prefix, sys.base_prefix, *sysconfig.get_paths().values()})
"""The virtualenv and the interpreter's own folders: no rewritten cache is written under them."""
_write_pyc = rewrite._write_pyc
_rewrite_test = rewrite._rewrite_test


def _keep_inside(state: AssertionState, co: types.CodeType, source_hash: bytes, pyc: Path) -> bool:
    """pytest's `_write_pyc`, except for a module of an installed package (skipped as pytest skips a read-only
    folder: the rewritten module is used, its cache not written)."""
    where = Path(pyc).resolve()
    if any(where.is_relative_to(folder) for folder in INSTALLED):
        return False
    return _write_pyc(state, co, source_hash, pyc)


LOCK_SECONDS = 60.0
"""How long a worker waits for another's rewrite of a module before it rewrites the module itself."""


def _lock(source: IO[bytes], seconds: float | None = None) -> bool:
    """An exclusive `flock` on `source`, waited for up to `seconds` (default `LOCK_SECONDS`); False if it was not
    had (or the file system has no `flock`): the caller then goes on without it, as pytest alone would."""
    deadline = time.monotonic() + (LOCK_SECONDS if seconds is None else seconds)
    while True:
        try:
            fcntl.flock(source.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        except OSError:
            return False


def _rewrite_once(fn: Path, config: pytest.Config) -> tuple[bytes, types.CodeType]:
    """pytest's `_rewrite_test`, by one process at a time per test module, which also files the result.

    pytest rewrites a test module when it finds no cached rewritten pyc (`AssertionRewritingHook.exec_module`),
    and files it afterwards. The xdist workers collect the same modules in the same order at the same time, so on
    a first run (a fresh clone, or a changed test module) every worker rewrote every module: about 2.5 s of CPU
    each. Here a worker takes an exclusive lock on the module's source (`flock` on the file itself: no lock file
    left behind) and looks for the pyc again: if another worker has filed it meanwhile, that is read (with the
    source hash its header holds, so the pair pytest files again is the pair that was read), else this one
    rewrites and files it before letting go. The lock covers no module's execution, only reading, rewriting and
    writing one file, so no worker waits on another's imports; a lock not had within `LOCK_SECONDS` (or a file
    system without `flock`) is done without, as pytest alone would. pytest then files the same pyc once more (an
    atomic replace); it reads a valid one either way, as before."""
    with open(fn, "rb") as source:  # closing it releases the lock
        if not _lock(source):
            return _rewrite_test(fn, config)
        pyc = rewrite.get_cache_dir(fn) / (fn.name[:-3] + rewrite.PYC_TAIL)
        found = rewrite._read_pyc(fn, pyc)
        if found is not None:
            with contextlib.suppress(OSError), open(pyc, "rb") as filed:
                header = filed.read(16)
                if len(header) == 16:
                    return header[8:16], found
        source_hash, co = _rewrite_test(fn, config)
        if not sys.dont_write_bytecode:
            rewrite._write_pyc(config.stash[rewrite.assertstate_key], co, source_hash, pyc)
        return source_hash, co


def _installed(name: str) -> bool:
    """Whether the top-level module or package `name` is found under the virtualenv or the interpreter (found,
    not imported)."""
    spec = PathFinder.find_spec(name)
    if spec is None:
        return False
    places = [*(spec.submodule_search_locations or []), *([spec.origin] if spec.origin else [])]
    return bool(places) and all(any(Path(p).resolve().is_relative_to(f) for f in INSTALLED) for p in places)


def unmark_installed(hook: rewrite.AssertionRewritingHook) -> set[str]:
    """Stop rewriting the asserts of installed plugin packages; returns the names no longer rewritten.

    pytest marks every top-level module of each distribution that declares a `pytest11` entry point
    (`_pytest/config/__init__.py`, `_mark_plugins_for_rewrite`): hypothesis among them, so every process that
    imports it (each xdist worker, at collection: the fuzz tests) rewrote its ~100 modules' asserts, about 1 s
    of CPU instead of 0.15 s, and could keep no cache of it (`_keep_inside`). Rewriting only changes the message
    of an assert that fails inside the package, never whether a test passes; the project's test modules (and
    conftest files, and `pytest.register_assert_rewrite` names) are still rewritten."""
    dropped = {name for name in hook._must_rewrite if _installed(name)}
    hook._must_rewrite -= dropped
    hook._marked_for_rewrite_cache.clear()
    return dropped


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Let this process write bytecode (the rewritten test modules and the project modules it imports), rewrite
    each test module only if no other worker has just done so (`_rewrite_once`), and rewrite no installed plugin
    package's modules."""
    rewrite._write_pyc = _keep_inside
    rewrite._rewrite_test = _rewrite_once
    sys.dont_write_bytecode = False
    hook = session.config.pluginmanager.rewrite_hook
    if isinstance(hook, rewrite.AssertionRewritingHook):
        unmark_installed(hook)
