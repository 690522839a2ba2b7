"""The session fork server (`tests/fork_server.py`) behind `tests.ops_cli.run_ops`.

A scratch project holds a tiny `ops` package that reports its process, directory and environment, and can
sleep or meet another child, so no check needs a plan. The checks of a request use the session's own
server, as every `run_ops` does; the checks of a server's life start servers of their own (which preload
nothing, or a module that does not exist) and a small pytest session in a subprocess.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import tests.ops_cli
from ops.stackfile import ROOT
from tests.fork_client import call
from tests.fork_server import PRELOAD_ENV, SERVER_ENV, SessionServer
from tests.ops_cli import run_ops

pytestmark = pytest.mark.waits  # run first, beside pyright (tests/conftest.py)

FAKE_MAIN = '''
import json, os, sys, time
import ops
action, *rest = sys.argv[1:] or [""]
print(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "cwd": os.getcwd(), "env": dict(os.environ),
                  "ops": ops.__file__}))
sys.stdout.flush()
if os.environ.get("PROBE_PIDFILE"):
    with open(os.environ["PROBE_PIDFILE"] + ".tmp", "w") as f:
        f.write(str(os.getpid()))
    os.rename(os.environ["PROBE_PIDFILE"] + ".tmp", os.environ["PROBE_PIDFILE"])
if action == "sleep":
    time.sleep(600)
if action == "meet":  # be there when the other child is: only if both run at once
    mine, theirs = rest
    open(mine, "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(theirs):
        if time.monotonic() > deadline:
            sys.exit(9)
        time.sleep(0.02)
sys.exit(int(action) if action.isdigit() else 0)
'''

INNER_TEST = '''
import json, os
from pathlib import Path
from tests.fork_client import call
from tests.fork_server import SERVER_ENV

def test_inner():
    server = Path(os.environ[SERVER_ENV])
    Path(os.environ["INNER_INFO"]).write_text(json.dumps(
        {"directory": str(server.parent), "server": int((server.parent / "server.pid").read_text())}))
    assert call(str(server), "runpy:run_path", [os.environ["INNER_CHILD"]], 600) == 7
'''
INNER_SESSION = ("import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); import pytest; "
                 "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', '-p', 'tests.fork_session', sys.argv[1]]))")
INNER_CHILD = '''
import os, sys, time
with open(os.environ["PROBE_PIDFILE"] + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(os.environ["PROBE_PIDFILE"] + ".tmp", os.environ["PROBE_PIDFILE"])
if os.environ["INNER_ACTION"] == "sleep":
    time.sleep(600)
sys.exit(7)
'''
"""The inner session's request: a child that runs only the standard library (its server preloads nothing)."""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "project" / "ops").mkdir(parents=True)
    (tmp_path / "project" / "ops" / "__init__.py").write_text("")
    (tmp_path / "project" / "ops" / "__main__.py").write_text(FAKE_MAIN)
    return tmp_path / "project"


@pytest.fixture
def server() -> Path:
    """The session's server (tests/fork_session.py started it): its socket."""
    assert SERVER_ENV in os.environ and not tests.ops_cli._server_failed, "the session has no working fork server"
    return Path(os.environ[SERVER_ENV])


def assert_gone(*pids: int) -> None:
    """Each process has ended and been reaped (a killed orphan may take its new parent a moment)."""
    deadline = time.monotonic() + 10
    for pid in pids:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            assert time.monotonic() < deadline, f"process {pid} is still there"
            time.sleep(0.05)


def report(result: subprocess.CompletedProcess[str]) -> dict[str, object]:
    return json.loads(result.stdout.splitlines()[0])


def test_each_child_is_a_process_of_its_own_in_its_directory_with_its_environment(server: Path,
                                                                                project: Path) -> None:
    envs = [{"PATH": os.environ["PATH"], "FLOYO_FORK_PROBE": f"call {i}"} for i in (1, 2)]
    results = [run_ops("7", "x", cwd=project, env=env) for env in envs]
    first, second = (report(r) for r in results)
    assert [r.returncode for r in results] == [7, 7]
    assert first["pid"] != second["pid"] and os.getpid() not in (first["pid"], second["pid"])
    assert first["ppid"] != os.getpid()  # forked by the server's handler, not started by this process
    assert first["cwd"] == second["cwd"] == str(project)
    assert first["ops"] == str(project / "ops" / "__init__.py")
    assert [first["env"], second["env"]] == envs
    assert results[0].args == [sys.executable, "-m", "ops", "7", "x"]


def test_concurrent_requests_each_get_their_own_result(server: Path, project: Path,
                                                        tmp_path: Path) -> None:
    """Two callers at once (as two xdist workers would be): each child waits until the other has started,
    so both finish only if the server runs them side by side, and each gets its own output back."""
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    calls = [("meet", a, b), ("meet", b, a)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(
            lambda args: run_ops(*args, cwd=project, env={**os.environ, "FLOYO_FORK_PROBE": args[1]}, timeout=120),
            calls))
    assert [r.returncode for r in results] == [0, 0], results
    assert [report(r)["env"]["FLOYO_FORK_PROBE"] for r in results] == [a, b]  # type: ignore[index]


def test_a_child_that_overruns_its_timeout_is_killed(server: Path, project: Path, tmp_path: Path) -> None:
    run_ops("0", cwd=project)  # the server preloads on its first request: not part of the timed call
    pidfile = tmp_path / "pid"
    with pytest.raises(subprocess.TimeoutExpired) as raised:
        run_ops("sleep", cwd=project, env={**os.environ, "PROBE_PIDFILE": str(pidfile)}, timeout=2)
    assert raised.value.cmd == [sys.executable, "-m", "ops", "sleep"]
    assert_gone(int(pidfile.read_text()))


def test_a_caller_that_hangs_up_takes_its_child_along(server: Path, project: Path, tmp_path: Path) -> None:
    """What happens when a worker is interrupted mid-request: its connection closes, the handler kills the child."""
    pidfile = tmp_path / "pid"
    request = {"target": "tests.ops_cli:ops_child",
               "args": [str(project), ["sleep"], str(tmp_path / "out"), str(tmp_path / "err"),
                        {**os.environ, "PROBE_PIDFILE": str(pidfile)}]}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(120)
        conn.connect(str(server))
        conn.sendall(json.dumps(request).encode() + b"\n")
        pid = int(conn.recv(100).split(b"\n")[0])
        while not pidfile.exists():
            time.sleep(0.02)
        assert int(pidfile.read_text()) == pid
    assert_gone(pid)


def _group(pgid: int) -> set[int]:
    """The processes of process group `pgid` (from /proc: field 5 of each `stat`)."""
    members = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.add(int(stat.parent.name))
    return members


def test_a_caller_gone_before_it_learns_the_pid_takes_its_child_along(tmp_path: Path) -> None:
    """A client that hangs up right after its request (its timeout ran out while the server was busy, say): the
    handler cannot send it the pid, and kills the child instead of leaving it to run on its own."""
    own = SessionServer.start(ROOT, [], eager=True)  # a server of this test's own: its group is only its own work
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.connect(str(own.socket))
            conn.sendall(json.dumps({"target": "time:sleep", "args": [600]}).encode() + b"\n")
        deadline = time.monotonic() + 30
        while "BrokenPipeError" not in own.log.read_text():  # the handler found the client gone
            assert time.monotonic() < deadline, own.log.read_text()
            time.sleep(0.05)
        while _group(own.process.pid) != {own.process.pid}:  # then it and its child end
            assert time.monotonic() < deadline, f"still running: {_group(own.process.pid)}"
            time.sleep(0.05)
    finally:
        own.stop()


def test_an_eager_server_preloads_before_any_request() -> None:
    """Started eager (a session with workers), the server imports its preload at once, unasked: a failing
    preload ends it with no request made."""
    broken = SessionServer.start(ROOT, ["tests.no_such_module"], eager=True)
    try:
        assert broken.process.wait(60) == 3
        assert "ModuleNotFoundError: No module named 'tests.no_such_module'" in broken.log.read_text()
    finally:
        broken.stop()


@pytest.mark.parametrize(("workers", "dist", "eager"), [(2, "worksteal", True), (0, "no", False),
                                                        (None, "no", False)])
def test_only_a_session_with_workers_starts_its_server_eager(workers: int | None, dist: str, eager: bool) -> None:
    """xdist has turned `-n auto` into a number by configure time; without xdist the option is absent."""
    from types import SimpleNamespace

    from tests.fork_session import _with_workers

    option = SimpleNamespace(dist=dist) if workers is None else SimpleNamespace(numprocesses=workers, dist=dist)
    assert _with_workers(SimpleNamespace(option=option)) is eager  # type: ignore[arg-type]


def test_without_a_working_server_run_ops_starts_an_interpreter(monkeypatch: pytest.MonkeyPatch,
                                                                project: Path) -> None:
    broken = SessionServer.start(ROOT, ["tests.no_such_module"])
    try:
        monkeypatch.setenv(SERVER_ENV, str(broken.socket))
        monkeypatch.setattr(tests.ops_cli, "_server_failed", [])
        first, second = run_ops("7", cwd=project), run_ops("7", cwd=project)
        assert broken.process.wait(60) == 3  # its preload failed: it closed its socket and left
        assert "ModuleNotFoundError: No module named 'tests.no_such_module'" in broken.log.read_text()
    finally:
        broken.stop()
    assert first.returncode == second.returncode == 7
    assert report(first)["ppid"] == report(second)["ppid"] == os.getpid()  # interpreters this process started
    assert len(tests.ops_cli._server_failed) == 1 and str(broken.socket) in tests.ops_cli._server_failed[0]
    monkeypatch.delenv(SERVER_ENV)
    monkeypatch.setattr(tests.ops_cli, "_server_failed", [])
    assert run_ops("7", cwd=project).returncode == 7  # no server in the session at all


@pytest.mark.parametrize("ending", ["finished", "interrupted"])
def test_the_session_stops_its_server_and_leaves_nothing_behind(tmp_path: Path, ending: str) -> None:
    """A pytest session of its own (`-p tests.fork_session`, as tests/conftest.py calls it): its server is
    gone when the session ends, with its directory, also when Ctrl-C interrupts a request in flight."""
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "inner" / "test_inner.py").write_text(INNER_TEST)
    (tmp_path / "child.py").write_text(INNER_CHILD)
    info, pidfile = tmp_path / "info.json", tmp_path / "child.pid"
    env = {**os.environ, PRELOAD_ENV: "", "INNER_INFO": str(info), "INNER_CHILD": str(tmp_path / "child.py"),
           "INNER_ACTION": "7" if ending == "finished" else "sleep", "PROBE_PIDFILE": str(pidfile)}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only what the session needs: quicker to start
    # Ctrl-C as a terminal gives it: Python's own SIGINT handler (an xdist worker's children inherit SIGINT ignored)
    inner = subprocess.Popen([sys.executable, "-c", INNER_SESSION, str(tmp_path / "inner")],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        if ending == "interrupted":
            deadline = time.monotonic() + 120
            while not pidfile.exists() and inner.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert pidfile.exists(), "the inner request never started"
            inner.send_signal(signal.SIGINT)
        output, _ = inner.communicate(timeout=120)
    finally:
        inner.kill()
    assert inner.returncode == (0 if ending == "finished" else 2), output
    started = json.loads(info.read_text())
    assert started["server"] != inner.pid
    assert not Path(started["directory"]).exists()
    assert_gone(started["server"], int(pidfile.read_text()))


def test_a_server_whose_starter_died_lets_running_work_end_then_stops_itself(tmp_path: Path) -> None:
    """No server outlives a session killed before it could stop it (SIGKILL: no unconfigure ran), and it does
    not cut short what still runs for a live client (an xdist worker tearing its session down): it stops
    accepting, waits for its handlers (up to ORPHAN_GRACE_SECONDS), then stops."""
    starter = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from tests.fork_server import SessionServer;"
         " s = SessionServer.start(Path.cwd(), []); print(s.process.pid, s.directory, flush=True); time.sleep(600)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    (tmp_path / "child.py").write_text("import time\nfrom pathlib import Path\nPath(started).write_text('')\n"
                                       "time.sleep(1.5)\nPath(finished).write_text('')\n")
    started, finished = tmp_path / "started", tmp_path / "finished"
    try:
        assert starter.stdout is not None
        pid, directory = starter.stdout.readline().split()
        with ThreadPoolExecutor(1) as pool:
            request = pool.submit(call, str(Path(directory) / "socket"), "runpy:run_path",
                                  [str(tmp_path / "child.py"), {"started": str(started), "finished": str(finished)}], 60)
            deadline = time.monotonic() + 60
            while not started.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            starter.kill()
            starter.wait()
            assert request.result(timeout=60) == 0  # the running child was let finish
    finally:
        starter.kill()
        starter.wait()
    assert finished.exists()
    assert_gone(int(pid))
    assert not Path(directory).exists()
