"""A pytest plugin that lets the test session keep its bytecode caches even under PYTHONDONTWRITEBYTECODE.

`./run test` loads it (`pytest -p tests.bytecode_cache`). Without it, a machine that sets
`PYTHONDONTWRITEBYTECODE=1` (this one does) makes every pytest process rewrite every test module's asserts
again: pytest writes its rewritten `tests/__pycache__/*-pytest-*.pyc` only when `sys.dont_write_bytecode`
is false (`_pytest/assertion/rewrite.py`, `AssertionRewritingHook.exec_module`), and reads it in any case.
That rewriting was more than half of collection's CPU time (about 2.7 of 5.1 s), paid again by every xdist
worker; the project's own modules were compiled from source again in every process too.

The switch is made at `pytest_sessionstart`, after pytest has imported its plugins and the conftest files and
before collection imports the test modules. Only the project's files get caches, as Python does by default
(`__pycache__/` beside them, ignored by git): pytest also rewrites the modules of installed plugin packages
(hypothesis, imported later by a test module), and those rewritten caches are not written into the
virtualenv (`_keep_inside`). Installed packages already carry their ordinary `.pyc` (pip compiles them at
install). Child processes keep the environment's setting and read the caches the session wrote."""

from __future__ import annotations

import sys
import sysconfig
import types
from pathlib import Path

import pytest
from _pytest.assertion import AssertionState, rewrite

INSTALLED = tuple(Path(p).resolve() for p in {sys.prefix, sys.base_prefix, *sysconfig.get_paths().values()})
"""The virtualenv and the interpreter's own folders: no rewritten cache is written under them."""
_write_pyc = rewrite._write_pyc


def _keep_inside(state: AssertionState, co: types.CodeType, source_hash: bytes, pyc: Path) -> bool:
    """pytest's `_write_pyc`, except for a module of an installed package (skipped as pytest skips a read-only
    folder: the rewritten module is used, its cache not written)."""
    where = Path(pyc).resolve()
    if any(where.is_relative_to(folder) for folder in INSTALLED):
        return False
    return _write_pyc(state, co, source_hash, pyc)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Let this process write bytecode (the rewritten test modules and the project modules it imports)."""
    rewrite._write_pyc = _keep_inside
    sys.dont_write_bytecode = False
