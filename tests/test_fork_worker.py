"""xdist workers forked from the session's fork server (`tests/fork_worker.py`, `tests/worker_shim.py`).

Each check runs a small pytest session of its own with two workers (`-n 2`), whose server preloads only
`colorsys` (a module neither pytest nor xdist imports): a worker that has it was forked from the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from ops.stackfile import ROOT
from tests.fork_server import PRELOAD_ENV
from tests.fork_session import _fork_workers
from tests.fork_worker import FRESH_ENV, SHIM, worker_spec
from tests.test_fork_server import assert_gone

pytestmark = pytest.mark.waits  # run first, beside pyright (tests/conftest.py)

INNER_TEST = '''
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest

@pytest.fixture
def own_session_child(n):
    """A process in a session of its own (as `pg_ctl start` leaves a postmaster): only this teardown stops it."""
    child = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield child.pid
    child.kill()
    child.wait()
    (Path(os.environ["INFO_DIR"]) / f"{n}.torn-down").write_text("")

@pytest.mark.parametrize("n", [1, 2])
def test_report(n, own_session_child):
    info = {"pid": os.getpid(), "ppid": os.getppid(), "pgid": os.getpgid(0), "cwd": os.getcwd(),
            "probe": os.environ.get("WORKER_PROBE"), "argv": sys.argv, "preloaded": "colorsys" in sys.modules,
            "main_is_fresh": not hasattr(sys.modules["__main__"], "main"),
            "worker": os.environ.get("PYTEST_XDIST_WORKER"), "child": own_session_child}
    out = Path(os.environ["INFO_DIR"]) / f"{n}.json"
    out.with_suffix(".tmp").write_text(json.dumps(info))
    out.with_suffix(".tmp").rename(out)
    if os.environ.get("INNER_SLEEP"):
        time.sleep(600)
'''
INNER_SESSION = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); import pytest; "
                 "sys.exit(pytest.main(['-q', '-n', '2', '-p', 'xdist.plugin', '-p', 'no:cacheprovider', "
                 "'-p', 'tests.fork_session', sys.argv[1]]))")


def inner_session(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[str], Path]:
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "inner" / "test_inner.py").write_text(INNER_TEST)
    (tmp_path / "info").mkdir()
    full = {**os.environ, PRELOAD_ENV: "colorsys", "INFO_DIR": str(tmp_path / "info"), "WORKER_PROBE": "from the controller",
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **env}
    full.pop(FRESH_ENV, None)
    # Ctrl-C as a terminal gives it: Python's own SIGINT handler (an xdist worker's children inherit SIGINT ignored)
    # in a process group of its own, as a terminal's foreground job: a Ctrl-C goes to the whole group
    inner = subprocess.Popen([sys.executable, "-c", INNER_SESSION, str(tmp_path / "inner")], cwd=ROOT, env=full,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    return inner, tmp_path / "info"


def reports(info: Path, inner: subprocess.Popen[str]) -> list[dict[str, object]]:
    deadline = time.monotonic() + 120
    while len(list(info.glob("*.json"))) < 2 and inner.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    return [json.loads((info / f"{n}.json").read_text()) for n in (1, 2)]


def test_workers_are_forks_of_the_server_and_a_ctrl_c_tears_them_down(tmp_path: Path) -> None:
    """A terminal's Ctrl-C (SIGINT to the session's process group, which the forked workers are not in): the
    shims pass it on, each worker tears its test down as a fresh worker would (its fixture stops a process it
    had started in a session of its own), and no worker, server or such process is left."""
    inner, info = inner_session(tmp_path, INNER_SLEEP="1")
    try:
        found = reports(info, inner)
        server = found[0]["pgid"]  # the server leads its own process group, which its children stay in
        os.killpg(inner.pid, signal.SIGINT)
        output, _ = inner.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(inner.pid, signal.SIGKILL)
        inner.wait()
    assert inner.returncode == 2, output  # interrupted
    assert "Traceback" not in output and "worker_shim" not in output, output
    assert {r["worker"] for r in found} == {"gw0", "gw1"}  # one test on each worker, both running at once
    for report in found:
        assert report["preloaded"] and report["pgid"] == server != inner.pid, report
        assert report["ppid"] != inner.pid  # a child of the server's handler, not of the controller
        assert report["cwd"] == str(ROOT) and report["probe"] == "from the controller"
        assert report["argv"] == ["-c"] and report["main_is_fresh"]
    assert sorted(p.name for p in info.glob("*.torn-down")) == ["1.torn-down", "2.torn-down"], output
    assert_gone(*(int(str(r["pid"])) for r in found), *(int(str(r["child"])) for r in found), int(str(server)))


def test_without_a_working_server_the_workers_are_fresh_interpreters(tmp_path: Path) -> None:
    """The server's preload fails (it closes its socket and exits 3): the shim becomes the interpreter xdist asked for."""
    inner, info = inner_session(tmp_path, **{PRELOAD_ENV: "tests.no_such_module"})
    try:
        output, _ = inner.communicate(timeout=120)
    finally:
        inner.kill()
    assert inner.returncode == 0 and "2 passed" in output, output
    for report in reports(info, inner):
        assert not report["preloaded"] and report["ppid"] == inner.pid, report
        assert report["cwd"] == str(ROOT) and report["probe"] == "from the controller"


def _config(tx: list[str], workers: int = 2) -> SimpleNamespace:
    return SimpleNamespace(option=SimpleNamespace(numprocesses=workers, dist="load", tx=tx))


def test_only_the_plain_local_workers_of_n_are_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    server = SimpleNamespace(socket=Path("/tmp/floyo-fork-x/socket"))
    monkeypatch.delenv(FRESH_ENV, raising=False)
    for tx, forked in ((["popen", "popen"], True), (["popen", "ssh=host"], False), (["popen//python=python3.12"], False)):
        config = _config(list(tx))
        _fork_workers(config, server)  # type: ignore[arg-type]
        assert config.option.tx == ([worker_spec(server.socket)] * len(tx) if forked else tx)
    assert worker_spec(server.socket) == f"popen//python={sys.executable} -I -S {SHIM} /tmp/floyo-fork-x/socket"
    with monkeypatch.context() as patched:  # execnet's spec separator in the interpreter's path: xdist's own workers
        patched.setattr(sys, "executable", "/opt//python/bin/python3")
        config = _config(["popen", "popen"])
        _fork_workers(config, server)  # type: ignore[arg-type]
    assert config.option.tx == ["popen", "popen"]
    monkeypatch.setenv(FRESH_ENV, "1")
    config = _config(["popen", "popen"])
    _fork_workers(config, server)  # type: ignore[arg-type]
    assert config.option.tx == ["popen", "popen"]


def test_the_shim_recognises_execnets_command_line_only() -> None:
    from tests.worker_shim import execnets

    assert execnets(["-u", "-c", "X"]) and execnets(["-u", "-B", "-c", "X"])
    for other in (["-c", "X"], ["-B", "-c", "X"], ["-u", "-c"], ["-u", "-I", "-c", "X"], ["-u", "-c", "X", "Y"],
                  ["-u", "x.py"], []):
        assert not execnets(other), other


class FakeServer:
    """A socket the shim connects to, in place of the fork server: it takes the request and its three file
    descriptors, and answers only when the test says so (a pid, then an exit code), or hangs up."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="floyo-shim-"))  # short: an AF_UNIX path is <= 107 bytes
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(self.directory / "socket"))
        self.listener.listen(1)
        self.listener.settimeout(60)

    def accept(self) -> tuple[socket.socket, dict[str, object], list[int]]:
        conn, _ = self.listener.accept()
        data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
        for fd in fds:
            os.close(fd)
        return conn, json.loads(data), fds

    def close(self) -> None:
        self.listener.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def shim(server: Path, *python_args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-I", "-S", str(SHIM), str(server), *python_args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@contextlib.contextmanager
def shim_with_worker() -> Iterator[tuple[FakeServer, subprocess.Popen[str], subprocess.Popen[bytes]]]:
    """A fake server, a shim asking it for a worker, and a process that stands in for the worker the server would
    fork; all gone afterwards."""
    fake = FakeServer()
    started = shim(fake.directory / "socket", "-u", "-c", "raise SystemExit('a fresh interpreter ran')")
    worker = subprocess.Popen(["sleep", "60"])
    try:
        yield fake, started, worker
    finally:
        for process in (started, worker):
            process.kill()
            process.wait()
        fake.close()


def test_the_shim_passes_a_signal_that_came_before_the_pid_on_to_the_worker() -> None:
    with shim_with_worker() as (fake, started, worker):
        conn, request, fds = fake.accept()  # the shim has its handlers (set before it connected)
        assert request["target"] == "tests.fork_worker:become_worker" and len(fds) == 3
        started.send_signal(signal.SIGTERM)  # no pid yet: kept
        time.sleep(0.2)
        conn.sendall(f"{worker.pid}\n".encode())
        code = worker.wait(timeout=30)  # the kept SIGTERM, passed on
        conn.sendall(f"{code}\n".encode())
        _, err = started.communicate(timeout=30)
        conn.close()
    assert code == -signal.SIGTERM
    assert started.returncode == 128 + signal.SIGTERM, err  # the worker's end, as the shim's exit code


def test_the_shim_dies_of_a_signal_that_came_before_a_server_that_hung_up() -> None:
    """No worker was started: the shim would become the fresh interpreter, but the signal it kept ends it first,
    as it would have ended that interpreter."""
    fake = FakeServer()
    started = shim(fake.directory / "socket", "-u", "-c", "raise SystemExit('a fresh interpreter ran')")
    try:
        conn, _, _ = fake.accept()
        started.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        conn.close()
        _, err = started.communicate(timeout=30)
    finally:
        started.kill()
        started.wait()
        fake.close()
    assert started.returncode == -signal.SIGTERM and "fresh interpreter" not in err, err


def test_without_a_server_or_with_other_arguments_the_shim_is_the_fresh_interpreter(tmp_path: Path) -> None:
    """Either way the shim prints what the interpreter xdist asked for prints, run directly."""
    code = "import sys; print('fresh', sys.flags.isolated, sys.stdout.write_through, sys.argv)"
    for args in (["-u", "-c", code], ["-c", code]):  # execnet's command line, no server; another, never asks
        direct = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=True, timeout=60)
        via = shim(tmp_path / "no-such-socket", *args)
        assert via.communicate(timeout=60)[0] == direct.stdout and via.returncode == 0, args
        assert direct.stdout.startswith("fresh 0 ")  # not isolated: the shim's own -I -S are not passed on


def _state(pid: int) -> str:
    """A process's state letter in /proc (T: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _until(check: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 10
    while not check() and time.monotonic() < deadline:
        time.sleep(0.02)
    return check()


def test_a_terminal_stop_stops_the_worker_and_the_shim_and_a_continue_resumes_both() -> None:
    with shim_with_worker() as (fake, started, worker):
        conn, _, _ = fake.accept()
        conn.sendall(f"{worker.pid}\n".encode())
        time.sleep(0.2)  # the shim has read the pid
        started.send_signal(signal.SIGTSTP)  # what Ctrl-Z sends the foreground group
        assert _until(lambda: _state(worker.pid) == "T" and _state(started.pid) == "T")
        started.send_signal(signal.SIGCONT)  # what `fg` sends
        assert _until(lambda: _state(worker.pid) != "T" and _state(started.pid) != "T")
        conn.close()
