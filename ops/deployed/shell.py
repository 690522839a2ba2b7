"""The commands `ops tunnel` and `ops deploy` run, behind one small interface so tests can fake them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from ops.stackfile import ROOT


@dataclass(frozen=True)
class Completed:
    """How a command ended (its output only when it was captured)."""

    returncode: int
    stdout: str = ""
    stderr: str = ""


class Session(Protocol):
    """A long-running command (the SSM port forward)."""

    def poll(self) -> int | None:
        """Exit code once it ended, else None."""
        ...

    def output(self) -> str:
        """What it printed so far (for error messages)."""
        ...

    def stop(self) -> None:
        """End it and everything it started."""
        ...


class Runner(Protocol):
    """What the orchestration may do to the machine it runs on."""

    def which(self, program: str) -> str | None: ...
    def run(self, argv: Sequence[str], capture: bool = True) -> Completed: ...
    def start(self, argv: Sequence[str]) -> Session: ...
    def port_open(self, port: int) -> bool: ...
    def sleep(self, seconds: float) -> None: ...
    def say(self, line: str) -> None: ...


class _Process:
    """A child in its own process group, output to a temporary file, ended as a group."""

    def __init__(self, argv: Sequence[str], cwd: Path) -> None:
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        # Own session: `aws ssm start-session` starts session-manager-plugin as its child, and ending
        # only the aws CLI would leave the plugin holding the local port.
        self._proc = subprocess.Popen(list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT, start_new_session=True)

    def poll(self) -> int | None:
        return self._proc.poll()

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-4000:]

    def stop(self) -> None:
        if self._proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self._proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self._proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._log.close()


class SubprocessRunner:
    """The real thing: commands run in the project directory; progress goes to stderr."""

    def __init__(self, cwd: Path = ROOT) -> None:
        self.cwd = cwd

    def which(self, program: str) -> str | None:
        return shutil.which(program)

    def run(self, argv: Sequence[str], capture: bool = True) -> Completed:
        if capture:
            result = subprocess.run(list(argv), cwd=self.cwd, capture_output=True, text=True, check=False)
            return Completed(result.returncode, result.stdout, result.stderr)
        return Completed(subprocess.run(list(argv), cwd=self.cwd, check=False).returncode)

    def start(self, argv: Sequence[str]) -> Session:
        return _Process(argv, self.cwd)

    def port_open(self, port: int) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def say(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)
