"""pytest hooks that give the whole test session one fork server (`tests/fork_server.py`).

The session's first process (the xdist controller; without xdist, the only process) starts the server
at configure time, before the workers exist, and puts its socket path in the environment they inherit
(`TESTS_FORK_SERVER`); it stops the server, and removes its directory, at unconfigure (also after a
Ctrl-C or a failed session). `tests/conftest.py` calls these two hooks; a test can also load this
module as a plugin (`pytest -p tests.fork_session`) for a session of its own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.fork_server import PRELOAD, PRELOAD_ENV, SERVER_ENV, SessionServer
from tests.fork_worker import FRESH_ENV, worker_spec

ROOT = Path(__file__).resolve().parents[1]
"""The repository the server imports from (`ops.stackfile.ROOT`, without importing the program's packages)."""
_SERVER = pytest.StashKey[SessionServer]()


def pytest_configure(config: pytest.Config) -> None:
    """Start this session's server (not in a worker: it uses the controller's)."""
    if hasattr(config, "workerinput"):
        return
    os.environ.pop(SERVER_ENV, None)  # an enclosing session's server is not ours to use
    try:
        preload = os.environ.get(PRELOAD_ENV)
        server = SessionServer.start(ROOT, PRELOAD if preload is None else [m for m in preload.split(",") if m],
                                     eager=_with_workers(config))
    except OSError as exc:  # `tests.ops_cli.run_ops` then starts fresh interpreters
        print(f"fork server not started, CLI tests start interpreters: {exc!r}", file=sys.stderr)
        return
    config.stash[_SERVER] = server
    os.environ[SERVER_ENV] = str(server.socket)
    _fork_workers(config, server)


def _fork_workers(config: pytest.Config, server: SessionServer) -> None:
    """Have xdist start its workers through the server (`tests/fork_worker.py`) when they are the plain local
    ones `-n N` makes (`--tx popen` each), unless TESTS_FRESH_WORKERS=1. Other `--tx` specs are left alone."""
    specs = getattr(config.option, "tx", None) or []
    if not _with_workers(config) or os.environ.get(FRESH_ENV) == "1" or any(spec != "popen" for spec in specs):
        return
    try:
        spec = worker_spec(server.socket)
    except ValueError as exc:  # a path execnet's spec syntax cannot hold: xdist's own fresh workers
        print(f"xdist workers start as fresh interpreters: {exc}", file=sys.stderr)
        return
    config.option.tx = [spec] * len(specs)


def _with_workers(config: pytest.Config) -> bool:
    """Whether this session runs xdist workers (`-n N`, `-n auto` resolved by xdist before configure): the
    server then preloads at once (`tests.fork_server`), and the workers, forked from it, wait for the preload."""
    workers = getattr(config.option, "numprocesses", None)
    return isinstance(workers, int) and workers > 0 and getattr(config.option, "dist", "no") != "no"


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the server this process started, with anything it still runs."""
    server = config.stash.get(_SERVER, None)
    if server is not None:
        server.stop()
        os.environ.pop(SERVER_ENV, None)
