"""`python -m ops ARGS` for the tests: a real child process, without a fresh interpreter's imports.

`run_ops` gives what `subprocess.run([sys.executable, "-m", "ops", *args], cwd=..., env=...,
capture_output=True, text=True)` gives: a separate process, its own exit code, stdout and stderr,
working directory and environment, and the `ops` code found in `cwd` (a scratch repository's own
copy, say). What it skips is the seconds a new interpreter spends importing the Pulumi SDKs: each
child is forked from the session's fork server (`tests/fork_server.py`, one for all xdist workers,
started by `tests/fork_session.py`), which imported the SDKs once and never runs a program itself, and
it runs the command through the same `ops.diff.forked.become_ops_in` that `ops diff` uses for its base
revision. Without a server (none started, or it could not preload), a fresh interpreter runs it.

tests/test_cli.py keeps one run through a real `python -m ops` interpreter, so the entry point
itself stays covered.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

from ops.diff.forked import become_ops_in
from ops.plan.cache import CACHE_ENV
from ops.stackfile import ROOT
from tests.fork_client import ServerUnavailableError, call
from tests.fork_server import SERVER_ENV

_server_failed: list[str] = []
"""Why the session's fork server could not serve this process, if it could not: `run_ops` then starts
interpreters."""


def ops_child(project: str, argv: list[str], stdout: str, stderr: str, env: dict[str, str]) -> NoReturn:
    """In a child of the fork server: `python -m ops *argv` in `project` (`become_ops_in`), then exit."""
    become_ops_in(Path(project), argv, stdout, stderr, env)


def run_forked(target: str, *args: object, timeout: float = 300) -> int:
    """Call `target` ("module:function") with the JSON-able `args` in a child forked from the session's
    fork server; its exit code. Raises `ServerUnavailableError` when there is no server to fork from."""
    server = os.environ.get(SERVER_ENV)
    if _server_failed or not server:
        raise ServerUnavailableError(_server_failed[0] if _server_failed else f"no fork server in this session (${SERVER_ENV})")
    try:
        return call(server, target, args, timeout)
    except ServerUnavailableError as exc:
        _server_failed.append(str(exc))
        raise


def planning_env(**extra: str) -> dict[str, str]:
    """This environment without the session's plan store (`ops.plan.cache`): a child given it plans for real,
    for the tests that compare a plan with another process's."""
    return {**{k: v for k, v in os.environ.items() if k != CACHE_ENV}, **extra}


def run_ops(*args: str, cwd: Path = ROOT, env: Mapping[str, str] | None = None,
            timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `python -m ops *args` in `cwd` (environment `env`, default this one's) in a child process."""
    command = [sys.executable, "-m", "ops", *args]
    with tempfile.TemporaryDirectory(prefix="floyo-ops-") as scratch:
        out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
        try:
            code = run_forked("tests.ops_cli:ops_child", str(Path(cwd).resolve()), list(args), str(out), str(err),
                              dict(env or os.environ), timeout=timeout)
        except ServerUnavailableError:  # no fork server: a fresh interpreter, as the CLI tests ran before
            return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise subprocess.TimeoutExpired(command, timeout) from None
        return subprocess.CompletedProcess(command, code, out.read_text() if out.exists() else "",
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
