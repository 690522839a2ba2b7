"""xdist workers forked from the session's fork server, instead of fresh interpreters.

Each fresh worker imported pytest's plugins, the Pulumi SDKs and the program, and paid a first plan with the
SDKs' per-class caches cold: about 2.5 s of CPU each, paid again by the fork server, which does the same once
(`tests.sdk_preload`). In a session with workers, `tests/fork_session.py` has xdist start each worker through
`tests/worker_shim.py`, which asks the server for one; the server's child runs `become_worker`, which turns
it into what execnet's `PYTHON -u -c "import sys;exec(eval(sys.stdin.readline()))"` would have started:
the controller's working directory and environment, stdin, stdout and stderr on execnet's pipes, unbuffered
output as `-u` gives, no bytecode written with `-B`, `sys.argv == ["-c"]`, a `__main__` and an event loop
of its own; then it runs the same bootstrap line. Everything else is the server's warm state: the modules it
imported and what its dev plan left in the SDKs' caches, as every `run_ops` child has.

What differs from a fresh worker (compared side by side in one session):

* its parent is the server's handler, and it stays in the server's session and process group: a signal sent
  to the controller's group reaches the shim, which passes SIGINT, SIGTERM, SIGHUP and SIGCONT on to it and
  stops it on SIGTSTP (`tests/worker_shim.py`); when the controller dies, the worker sees its stdin end, as a
  fresh one does, and the orphaned server waits for it before it stops (`tests/fork_server.py`);
* it ends with `os._exit`, as every child of the server does: the server's `atexit` handlers do not run;
* it shares the server's hash seed (both workers alike), so a collection that depended on the seed would no
  longer differ between workers for xdist to notice (today's does not: the same order with seeds 1, 2, 3);
* it holds what the server had: some 2,700 imported modules (a fresh worker has ~400 before collection), the
  frozen heap of the warm-up plan, `sys.orig_argv`, and the file descriptors of the server's unused event
  loop (left open: closing that loop would unregister its descriptors from the epoll set it shares with the
  server).

xdist talks to the worker over the pipes, ends it through them, and needs none of the rest.
"""

from __future__ import annotations

import asyncio
import io
import os
import shlex
import sys
import types
from pathlib import Path
from typing import NoReturn

from ops.diff.forked import exit_as_interpreter

SHIM = Path(__file__).with_name("worker_shim.py")
FRESH_ENV = "TESTS_FRESH_WORKERS"
"""Set to 1 to start xdist's workers as fresh interpreters, as xdist does by itself (say, to rule this out)."""


def worker_spec(server_socket: Path) -> str:
    """The execnet spec of a worker started through the shim (`--tx` syntax: `popen//python=...`)."""
    python = shlex.join([sys.executable, "-I", "-S", str(SHIM), str(server_socket)])
    if "//" in python:
        raise ValueError(f"an execnet spec cannot hold '//': {python}")
    return f"popen//python={python}"


def _stream(fd: int, mode: str) -> io.TextIOWrapper:
    """A text stream on `fd` as a fresh `python -u` sets it up (stdin buffered; stdout and stderr unbuffered)."""
    if mode == "r":
        return io.TextIOWrapper(io.BufferedReader(io.FileIO(fd, "r", closefd=False)))
    return io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), write_through=True,
                            errors="backslashreplace" if fd == 2 else "strict")


def become_worker(cwd: str, env: dict[str, str], python_args: list[str]) -> NoReturn:
    """In a child of the fork server, on the shim's stdin, stdout and stderr: run the interpreter arguments
    execnet gave the shim (`-u [-B] -c CODE`) as that interpreter would, then exit with its exit code."""
    *flags, _, code = python_args  # execnet's, as the shim checked before it asked (`execnets`)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    if "-B" in flags:
        sys.dont_write_bytecode = True
    sys.stdin = sys.__stdin__ = _stream(0, "r")
    sys.stdout = sys.__stdout__ = _stream(1, "w")
    sys.stderr = sys.__stderr__ = _stream(2, "w")
    sys.argv = ["-c"]
    main = types.ModuleType("__main__")
    sys.modules["__main__"] = main
    # the server's current loop shares its epoll fd and self-pipe with the server: the worker gets its own
    asyncio.set_event_loop(asyncio.new_event_loop())
    exit_as_interpreter(lambda: exec(compile(code, "<string>", "exec"), main.__dict__))
