"""`ops.diff.forked`: `python -m ops` run as a forked child behaves as a fresh interpreter would.

A scratch project holds its own tiny `ops` package, so the checks need no plan: the child must run
*that* package (not the repository's, which the parent has imported), in that directory, with the
environment it was given, and exit as the interpreter would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from ops.diff import forked
from ops.diff.forked import _installed_prefixes, _project_module, cached_realpath, can_fork
from ops.stackfile import ROOT
from tests.ops_cli import run_ops

FAKE_MAIN = '''
import os, sys
import ops
print("ops from", os.path.dirname(ops.__file__))
print("cwd", os.getcwd())
print("env", os.environ.get("FLOYO_FORK_PROBE", "-"))
print("argv", sys.argv[1:])
action = sys.argv[1] if len(sys.argv) > 1 else ""
if action == "raise":
    raise RuntimeError("boom from the child")
if action == "message":
    sys.exit("a message, not a code")
sys.exit(int(action or 0))
'''


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "__init__.py").write_text("")
    (tmp_path / "ops" / "__main__.py").write_text(FAKE_MAIN)
    return tmp_path


def fresh(project: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ops", *args], cwd=project, capture_output=True, text=True,
                          env=env, timeout=60)


@pytest.mark.parametrize("args", [("7",), ("0",), ("raise",), ("message",)])
def test_the_child_runs_that_projects_code_and_exits_as_an_interpreter_would(project: Path,
                                                                               args: tuple[str, ...]) -> None:
    env = {**os.environ, "FLOYO_FORK_PROBE": "probe-value"}
    forked, interpreter = run_ops(*args, cwd=project, env=env), fresh(project, *args, env=env)
    assert forked.returncode == interpreter.returncode, (forked, interpreter)
    assert forked.stdout == interpreter.stdout
    assert f"ops from {project}" in forked.stdout and f"cwd {project}" in forked.stdout
    assert "env probe-value" in forked.stdout and f"argv {list(args)}" in forked.stdout
    if args == ("raise",):
        assert forked.returncode == 1 and "Traceback" in forked.stderr
        assert forked.stderr.strip().splitlines()[-1] == "RuntimeError: boom from the child"
    elif args == ("message",):
        assert forked.returncode == 1 and forked.stderr.strip() == "a message, not a code"
    else:
        assert forked.returncode == int(args[0]) and forked.stderr == interpreter.stderr == ""


def test_only_the_projects_own_modules_are_dropped() -> None:
    installed = _installed_prefixes()
    import pulumi

    import ops.plan.planner

    assert _project_module(ops.plan.planner, installed)
    assert not _project_module(pulumi, installed) and not _project_module(os, installed)
    assert not _project_module(sys, installed)  # built in: no file at all


def test_noting_the_installed_modules_changes_no_child_s_choice(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`note_installed_modules` (the fork server's) only saves children work: for every loaded module, in the
    repository and in another directory, a child drops exactly what it drops without the record. A module loaded
    again under a recorded name (another object, here a project's file) is checked afresh and dropped."""
    installed, resolve = _installed_prefixes(), cached_realpath()
    elsewhere = str(tmp_path) + os.sep

    def dropped(keep: str) -> set[str]:
        return {name for name, module in list(sys.modules.items())
                if forked._dropped(name, module, installed, keep, resolve)}

    monkeypatch.setattr(forked, "_installed_modules", {})
    before = {keep: dropped(keep) for keep in (str(ROOT) + os.sep, elsewhere)}
    assert "ops.stackfile" in before[elsewhere] and "pytest" not in before[elsewhere]
    assert "ops.stackfile" not in before[str(ROOT) + os.sep]  # the child's own directory's: kept
    assert forked.note_installed_modules() == len(forked._installed_modules)
    assert "pytest" in forked._installed_modules and "ops.stackfile" not in forked._installed_modules
    assert {keep: dropped(keep) for keep in before} == before
    recorded = types.ModuleType("floyo_probe")  # a name nothing imports: no other code sees the impostor
    recorded.__file__ = str(Path(forked.__file__).parent / "no_such_module.py")
    monkeypatch.setitem(forked._installed_modules, "floyo_probe", recorded)
    impostor = types.ModuleType("floyo_probe")
    impostor.__file__ = str(ROOT / "ops" / "__init__.py")
    monkeypatch.setitem(sys.modules, "floyo_probe", impostor)
    assert forked._dropped("floyo_probe", impostor, installed, elsewhere, resolve)


def test_the_cached_realpath_is_realpath(tmp_path: Path) -> None:
    """The child resolves each directory once; the answer must stay realpath's, also for a linked file or folder."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "mod.py").write_text("")
    (tmp_path / "linked-dir").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "linked.py").symlink_to(tmp_path / "elsewhere.py")
    paths = [str(tmp_path / "linked-dir" / "mod.py"), str(tmp_path / "real" / "linked.py"), "relative/x.py",
             *(f for m in list(sys.modules.values()) if isinstance(f := getattr(m, "__file__", None), str))]
    resolve = cached_realpath()
    assert [resolve(p) for p in paths] == [os.path.realpath(p) for p in paths]
    assert resolve(paths[0]) == str((tmp_path / "real" / "mod.py").resolve())
    assert resolve(paths[1]) == str(tmp_path / "elsewhere.py")


def test_no_fork_while_other_threads_run(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not can_fork()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert can_fork() == hasattr(os, "fork")
    monkeypatch.setenv("FLOYO_NO_FORK", "1")
    assert not can_fork()


def test_without_a_fork_server_run_ops_starts_an_interpreter(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback when the fork server could not start (its warm-up left a thread running, say)."""
    import tests.ops_cli

    env = {**os.environ, "FLOYO_FORK_PROBE": "fallback"}
    forked = run_ops("7", cwd=project, env=env)
    monkeypatch.setattr(tests.ops_cli, "_server_failed", ["EOFError()"])
    fallback = run_ops("7", cwd=project, env=env)
    assert fallback.returncode == forked.returncode == 7
    assert fallback.stdout == forked.stdout and "env fallback" in fallback.stdout
