"""One fork server for the whole test session: `python -m ops` children without a fresh interpreter's imports.

The session's first process (the xdist controller, or the only process without xdist) starts it
(`SessionServer.start`, from `tests/fork_session.py`); every worker sends it requests over an AF_UNIX
socket in a private (0700) directory (`tests/fork_client.py`). The server imports its preload modules
(`tests.sdk_preload`, which imports the SDKs and plans dev once; see docs/test-speed-fork-server.md for what
that buys) before it serves: at once when started `eager` (a session with xdist workers: they are forks
of this server too, `tests/fork_worker.py`, and wait for the preload, which runs beside pyright in
`./run test`), else on the first request (a single-process session, perhaps of one file that starts no child,
pays it only when it needs it). Before, each pytest process started its own server (multiprocessing's
forkserver), and each paid those imports and that plan again.

For each request the server forks a handler, which forks the child that runs the request's target (for
`run_ops`, `ops.diff.forked.become_ops_in`), sends the client the child's pid, waits for the child and
sends its exit code. The server itself stays single-threaded and never runs a request, so every fork
copies a process with one thread and the same warm state. The handler kills the child when the client
hangs up (it gave up on a timeout, or its worker was interrupted), so no child outlives its request.

The server runs in its own session (process group): `SessionServer.stop` kills the group, reaps the
server and removes the directory at the end of the test session (pytest calls it on Ctrl-C too). If the
process that started it dies without stopping it, the server notices within a second (its parent
changes), removes its directory, stops accepting, and waits up to `ORPHAN_GRACE_SECONDS` for the handlers
still running to end on their own (an xdist worker forked from it sees the dead controller's pipe end and
acts on it as a fresh worker would: execnet's 5 s, then a SIGINT to itself, then its exit; a CLI child's
handler kills it when its client is gone); then it kills its group.

Protocol: the client sends one JSON line `{"target": "module:function", "args": [...]}`, optionally with
three file descriptors (SCM_RIGHTS) that become the child's stdin, stdout and stderr; the handler
answers with two lines, the child's pid and then its exit code (as `subprocess` gives one: negative for
a signal). The child's exit code is the target's `SystemExit` code (0 when it returns, 1 and a traceback
on stderr when it raises).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from ops.diff.forked import exit_as_interpreter

SERVER_ENV = "TESTS_FORK_SERVER"
"""The session server's socket path, set by the process that started it and inherited by the workers.
(Not a `FLOYO_*` name: those are plan inputs, `ops.plan.cache.plan_key`.)"""
PRELOAD_ENV = "TESTS_FORK_PRELOAD"
"""Comma-separated modules the server imports instead of `PRELOAD` (a test's own small session sets it)."""
PRELOAD = ("tests.sdk_preload", "tests.ops_cli")
"""What the server imports on its first request, before it forks anything."""
_MAIN = "import sys; from tests.fork_server import main; main(sys.argv[1:])"
"""The server's command (with `-c`, its `__main__` is no project module, which a child would count as one)."""
MAX_FDS = 3
"""A request may pass the child its stdin, stdout and stderr (SCM_RIGHTS), and nothing else."""
ORPHAN_GRACE_SECONDS = 30.0
"""How long an orphaned server (its starter died without stopping it) waits for its handlers before it kills
its group."""
WAKE_SECONDS = 1.0
"""How often the idle server looks for finished handlers and checks that its starter is still alive."""


def _run_target(request: dict[str, object]) -> NoReturn:
    """In the child: call the request's target with its arguments, then exit as an interpreter would."""
    module, _, name = str(request["target"]).partition(":")
    args = request.get("args") or []
    assert isinstance(args, list)
    exit_as_interpreter(lambda: getattr(importlib.import_module(module), name)(*args))


def _read_request(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    """The request, and the file descriptors that came with it (a worker's stdin, stdout and stderr;
    `tests/worker_shim.py`), which the child gets as its 0, 1 and 2."""
    data, fds = b"", []
    while not data.endswith(b"\n"):
        chunk, received, _, _ = socket.recv_fds(conn, 65536, MAX_FDS)
        fds += received
        if not chunk:
            for fd in fds:
                os.close(fd)
            raise EOFError("the client hung up before its request was complete")
        data += chunk
    request = json.loads(data)
    assert isinstance(request, dict)
    if len(fds) not in (0, MAX_FDS):
        raise ValueError(f"a request passes no file descriptor or {MAX_FDS}, not {len(fds)}")
    return request, fds


def _wait_for(pid: int, conn: socket.socket) -> int:
    """Wait for the child `pid`; kill it if the client hangs up first. Its exit code, as subprocess gives one."""
    watched: list[socket.socket] = [conn]
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None  # Linux 5.3+: readable when it exits
    try:
        while True:
            ready, _, _ = select.select([*watched, *([pidfd] if pidfd is not None else [])], [], [],
                                        None if pidfd is not None else 0.05)
            if conn in ready and not conn.recv(1):  # the client gave up (timeout) or died: end the child
                watched.clear()
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            done, status = os.waitpid(pid, 0 if pidfd is not None and pidfd in ready else os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _handle(conn: socket.socket, listener: socket.socket) -> NoReturn:
    """In the handler (a fork of the server): run one request in a child, report its pid and exit code."""
    code = 1
    gc.disable()  # one request, few allocations: no collection walking (so copying) objects shared with the server
    try:
        listener.close()  # only the server accepts: a handler must not keep the socket alive after it
        request, fds = _read_request(conn)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            conn.close()
            for target_fd, fd in enumerate(fds):  # the client's streams become the child's 0, 1 and 2
                os.dup2(fd, target_fd)
            for fd in fds:
                if fd > 2:
                    os.close(fd)
            gc.enable()  # the child runs as the server would: with the collector the handler turned off
            _run_target(request)
        for fd in fds:  # the child has them: the handler keeps no end of the client's pipes open
            os.close(fd)
        try:
            conn.sendall(f"{pid}\n".encode())
        except OSError:  # the client hung up before it learned the pid (a timeout): the child goes with it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise
        exit_code = _wait_for(pid, conn)
        with contextlib.suppress(OSError):  # a client that gave up is gone
            conn.sendall(f"{exit_code}\n".encode())
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _reap_handlers() -> bool:
    """Reap the handlers that have ended; whether any is still running."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:  # no child left
        return False
    return True


def _drain(seconds: float) -> None:
    """Reap handlers as they end, until none is left or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while _reap_handlers() and time.monotonic() < deadline:
        time.sleep(0.05)


def _preload(modules: Sequence[str]) -> None:
    for name in modules:
        importlib.import_module(name)
    if threading.active_count() != 1:  # a fork would copy a process whose other threads are gone
        raise RuntimeError(f"{threading.active_count()} threads run after the preload: forking is unsafe")


def _preload_or_exit(preload: Sequence[str], listener: socket.socket, conn: socket.socket | None = None) -> None:
    """Preload; when that fails, close the socket (so waiting and later clients see the server gone and start
    interpreters instead) and exit 3."""
    try:
        _preload(preload)
    except BaseException:
        traceback.print_exc()
        listener.close()
        if conn is not None:
            conn.close()
        os._exit(3)


def serve(listener: socket.socket, owner: int, preload: Sequence[str], eager: bool = False) -> NoReturn:
    """Accept requests on `listener` until killed, or until `owner` (the starter, this process's parent)
    is gone. Preloads first when `eager`, else on the first request (`_preload_or_exit`)."""
    listener.settimeout(WAKE_SECONDS)
    if eager:
        _preload_or_exit(preload, listener)
    warm = eager
    while True:
        _reap_handlers()
        if os.getppid() != owner:  # the session died without stopping us: clean up as `stop` would have
            shutil.rmtree(os.path.dirname(listener.getsockname()), ignore_errors=True)
            listener.close()
            _drain(ORPHAN_GRACE_SECONDS)
            os.killpg(0, signal.SIGKILL)  # with what is left of our handlers and their children
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        if not warm:
            _preload_or_exit(preload, listener, conn)
            warm = True
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            _handle(conn, listener)
        conn.close()


@dataclass
class SessionServer:
    """A running session fork server: its private directory (socket and log) and its process."""

    directory: Path
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.directory / "socket"

    @property
    def pid_file(self) -> Path:
        """The server's pid (for a look from outside: `ps`, or a test that it is gone)."""
        return self.directory / "server.pid"

    @property
    def log(self) -> Path:
        """The server's stdout and stderr (a failed preload's traceback, a request's escaping error)."""
        return self.directory / "server.log"

    @classmethod
    def start(cls, root: Path, preload: Sequence[str] = PRELOAD, eager: bool = False) -> SessionServer:
        """Start a server in a new private directory, importing from `root` (the repository). Returns at
        once: the socket accepts connections already; the server preloads at once when `eager` (default
        False), else when the first one comes (a client that connects meanwhile waits for it).
        Raises OSError when it cannot (a temporary directory whose socket path is too long, say)."""
        directory = Path(tempfile.mkdtemp(prefix="floyo-fork-"))  # mode 0700: nobody else may connect
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener, \
                    open(directory / "server.log", "wb") as log:
                listener.bind(str(directory / "socket"))
                listener.listen(64)
                process = subprocess.Popen(
                    [sys.executable, "-c", _MAIN, str(listener.fileno()), str(os.getpid()), str(int(eager)),
                     *preload],
                    cwd=root, stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(listener.fileno(),),
                    start_new_session=True)
            # our copy of the socket is closed here: once the server is gone, connecting fails at once
            (directory / "server.pid").write_text(f"{process.pid}\n")
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return cls(directory, process)

    def stop(self) -> None:
        """Kill the server with any handler and child still running (its process group), reap it, and
        remove its directory."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def main(argv: Sequence[str]) -> NoReturn:
    """The server process: `main([LISTENING_FD, OWNER_PID, EAGER ("1" or "0"), *PRELOAD_MODULES])`."""
    fd, owner, eager, *preload = argv
    serve(socket.socket(fileno=int(fd)), int(owner), preload, eager=eager == "1")
