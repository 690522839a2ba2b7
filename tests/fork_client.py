"""Ask the session fork server (`tests/fork_server.py`) to run a function in a child process of its own.

`call` connects to the server's socket, sends the request, reads the child's pid and then its exit code.
On a timeout it kills the child by that pid (the handler then reaps it) and raises
`subprocess.TimeoutExpired`; if the server is not there (never started, its preload failed, killed),
it raises `ServerUnavailableError` before any child ran, so the caller can run the work another way.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence

KILLED_CHILD_SECONDS = 30.0
"""How long to wait, after killing a child that overran its time, for its handler to confirm it was reaped."""


class ServerUnavailableError(Exception):
    """The server could not run the request: no child was started."""


class _Lines:
    """Lines read from a socket, each by a deadline."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn, self.buffer = conn, b""

    def read(self, deadline: float) -> bytes:
        """The next line (without its newline); b"" when the peer closed first. TimeoutError at the deadline."""
        while b"\n" not in self.buffer:
            self.conn.settimeout(max(deadline - time.monotonic(), 0.001))
            chunk = self.conn.recv(4096)
            if not chunk:
                return b""
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line


def call(server: str, target: str, args: Sequence[object], timeout: float) -> int:
    """Run `target` ("module:function", importable in the server) with the JSON-able `args` in a child
    forked from the server at `server` (its socket path); the child's exit code, as subprocess gives one."""
    deadline = time.monotonic() + timeout
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        lines = _Lines(conn)
        try:
            conn.settimeout(timeout)
            conn.connect(server)
            conn.sendall(json.dumps({"target": target, "args": list(args)}).encode() + b"\n")
            pid_line = lines.read(deadline)
        except TimeoutError:  # still waiting for the server: hanging up stops whatever it starts for us
            raise subprocess.TimeoutExpired(target, timeout) from None
        except OSError as exc:  # refused, reset, no such socket: no child ran
            raise ServerUnavailableError(f"fork server at {server}: {exc!r}") from exc
        if not pid_line:
            raise ServerUnavailableError(f"fork server at {server} closed the connection before starting a child")
        pid = int(pid_line)
        try:
            code_line = lines.read(deadline)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):  # not reaped before the handler reports: still ours
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                lines.read(time.monotonic() + KILLED_CHILD_SECONDS)
            raise subprocess.TimeoutExpired(target, timeout) from None
        if not code_line:
            raise RuntimeError(f"fork server at {server} lost child {pid}: no exit code came back")
        return int(code_line)
