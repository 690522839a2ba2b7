"""`python -m ops ARGS` for the tests: a real child process, without a fresh interpreter's imports.

`run_ops` gives what `subprocess.run([sys.executable, "-m", "ops", *args], cwd=..., env=...,
capture_output=True, text=True)` gives: a separate process, its own exit code, stdout and stderr,
working directory and environment, and the `ops` code found in `cwd` (a scratch repository's own
copy, say). What it skips is the seconds a new interpreter spends importing the Pulumi SDKs: each
child is forked from a server process (multiprocessing's forkserver, one per test worker) that
imported the SDKs once and never runs a program itself, and it runs the command through the same
`ops.diff.forked.become_ops_in` that `ops diff` uses for its base revision.

tests/test_cli.py keeps one run through a real `python -m ops` interpreter, so the entry point
itself stays covered.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Mapping
from functools import cache
from multiprocessing.context import ForkServerContext
from pathlib import Path

from ops.diff.forked import become_ops_in
from ops.plan.cache import CACHE_ENV
from ops.stackfile import ROOT

_server_failed: list[str] = []
"""Why this process's fork server could not start, if it could not: `run_ops` then starts interpreters."""


@cache
def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests.sdk_preload"])
    return context


def planning_env(**extra: str) -> dict[str, str]:
    """This environment without the session's plan store (`ops.plan.cache`): a child given it plans for real,
    for the tests that compare a plan with another process's."""
    return {**{k: v for k, v in os.environ.items() if k != CACHE_ENV}, **extra}


def run_ops(*args: str, cwd: Path = ROOT, env: Mapping[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python -m ops *args` in `cwd` (environment `env`, default this one's) in a child process."""
    if _server_failed:  # no fork server here: a fresh interpreter, as the CLI tests ran before
        return subprocess.run([sys.executable, "-m", "ops", *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout, check=False)
    with tempfile.TemporaryDirectory(prefix="floyo-ops-") as scratch:
        out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
        child = _context().Process(target=become_ops_in,
                                   args=(Path(cwd).resolve(), list(args), out, err, dict(env or os.environ)))
        try:
            child.start()
        except (EOFError, OSError) as exc:  # the server died starting (tests/sdk_preload.py raised)
            _server_failed.append(repr(exc))
            return run_ops(*args, cwd=cwd, env=env, timeout=timeout)
        child.join(timeout)
        if child.exitcode is None:
            child.kill()
            child.join()
            raise subprocess.TimeoutExpired([sys.executable, "-m", "ops", *args], timeout)
        return subprocess.CompletedProcess([sys.executable, "-m", "ops", *args], child.exitcode,
                                           out.read_text() if out.exists() else "",
                                           err.read_text() if err.exists() else "")


def run_ops_here(*args: str) -> subprocess.CompletedProcess[str]:
    """What `run_ops(*args)` gives, for a command that stops before planning (a refused stack file, say),
    from `ops.__main__.main` in this process: its exit code (SystemExit's, as the interpreter turns it into
    one), and what it printed. An exception that escapes is printed as the interpreter would print it (a
    traceback, exit 1), so the callers' "no traceback" checks see it. Saves the forked child (~0.15 s of
    CPU each); tests keep one real child per command, so the process boundary stays covered."""
    from ops.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
            if not isinstance(exc.code, int | None):
                print(exc.code, file=sys.stderr)
        except Exception:
            traceback.print_exc()
            code = 1
    return subprocess.CompletedProcess([sys.executable, "-m", "ops", *args], code, out.getvalue(), err.getvalue())
