"""Run `python -m ops ARGS` in another project directory as a child process, without paying the imports.

A fresh interpreter spends seconds importing the Pulumi SDKs before it plans anything. `ops diff`
plans the base revision in a second process; forked from this one, that process already holds the
SDKs (they are the same virtualenv's), drops every project module not loaded from the base's own
directory (so the code it plans is the base revision's copy, as `python -m ops` started there would
import it), and runs the `ops` package as `__main__` in that directory, with its own stdout, stderr
and exit code.

`start_ops` forks only when that is safe: on a platform with `os.fork` and while this process runs a
single thread (after an offline plan the SDK leaves executor threads behind, and a fork copies none
of them). Otherwise it starts `python -m ops` as a subprocess; the result is the same, only slower.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import runpy
import signal
import site
import subprocess
import sys
import sysconfig
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

FORK_ENV = "FLOYO_NO_FORK"
"""Set to 1 to always start a fresh interpreter instead of forking (e.g. to rule the fork out)."""


def _installed_prefixes() -> tuple[str, ...]:
    """Where the interpreter's own and installed modules live: the standard library and the site dirs."""
    paths = sysconfig.get_paths()
    places = [paths["stdlib"], paths["platstdlib"], paths["purelib"], paths["platlib"], *site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        places.append(site.getusersitepackages())
    return tuple({os.path.realpath(p) + os.sep for p in places})


def cached_realpath() -> Callable[[str], str]:
    """`os.path.realpath`, resolving each directory once: a child checks every loaded module (~2,500, in
    a few hundred directories), and resolving each path from scratch took ~0.25 s of every child's CPU.
    A file that is itself a symbolic link is resolved in full, so the answer is realpath's."""
    directories: dict[str, str] = {}

    def resolve(path: str) -> str:
        if os.path.islink(path):
            return os.path.realpath(path)
        head, tail = os.path.split(os.path.abspath(path))
        if head not in directories:
            directories[head] = os.path.realpath(head)
        return os.path.join(directories[head], tail)

    return resolve


def _project_module(module: object, installed: tuple[str, ...], keep: str = "",
                    resolve: Callable[[str], str] = os.path.realpath) -> bool:
    """A module loaded from source outside the interpreter's own and installed modules: a project's code
    (other than `keep`'s: the directory the child runs in, whose modules it would import anyway)."""
    files = [getattr(module, "__file__", None) or "", *list(getattr(module, "__path__", None) or [])]
    paths = [resolve(f) for f in files if isinstance(f, str) and f]
    return (bool(paths) and not any(p.startswith(installed) for p in paths)
            and not (keep and all(p.startswith(keep) for p in paths)))


_installed_modules: dict[str, object] = {}
"""Modules found installed by `note_installed_modules` in this process, or in the one it was forked from: each
held here, so `is` tells that `sys.modules` still has that very module."""


def note_installed_modules() -> int:
    """Record which of the modules loaded now are the interpreter's own or installed ones (those with a file
    that `_project_module` does not count), so that a child forked from this process later (`become_ops_in`)
    checks only the others: resolving the ~2,500 module paths again took ~0.05 s of every child's CPU. A module
    is recognised by identity (the same object under the same name), so one imported again is checked afresh.
    A process that forks many children calls it once, after its imports (the test suite's fork server); without
    it only the cost differs. Returns how many are recorded."""
    installed, resolve = _installed_prefixes(), cached_realpath()
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) and not _project_module(module, installed, resolve=resolve):
            _installed_modules[name] = module
    return len(_installed_modules)


def _dropped(name: str, module: object, installed: tuple[str, ...], keep: str,
             resolve: Callable[[str], str]) -> bool:
    """Whether a child started in the directory `keep` drops `module`, loaded as `name`: a project's module from
    elsewhere (`_project_module`), never one `note_installed_modules` recorded, nor `__main__`."""
    return (name != "__main__" and _installed_modules.get(name) is not module
            and _project_module(module, installed, keep=keep, resolve=resolve))


def _is_project_dir(entry: str) -> bool:
    return entry == "" or os.path.isfile(os.path.join(entry, "ops", "__main__.py"))


def become_ops_in(project: Path, argv: Sequence[str], stdout: Path | str, stderr: Path | str,
                  env: Mapping[str, str] | None = None) -> NoReturn:
    """In a freshly forked child: run `python -m ops *argv` as if started in `project`, then exit.

    stdout and stderr go to the two files; the exit code is the command's, as the interpreter would
    give it (`exit_as_interpreter`)."""
    try:
        for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                (2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
            opened = os.open(path, flags, 0o600)
            os.dup2(opened, fd)
            os.close(opened)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115 (the process ends with os._exit)
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        os.chdir(project)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        installed, here = _installed_prefixes(), os.path.realpath(project) + os.sep
        resolve = cached_realpath()
        for name, module in list(sys.modules.items()):
            if _dropped(name, module, installed, here, resolve):
                del sys.modules[name]
        sys.path[:] = [str(project), *(p for p in sys.path if not _is_project_dir(p))]
        # The parent's event loop (if any) shares its epoll fd and self-pipe with this process: leave it
        # alone (closing it would unregister them in the parent too) and give the child its own.
        asyncio.set_event_loop(asyncio.new_event_loop())
        sys.argv = [str(project / "ops" / "__main__.py"), *argv]
    except BaseException:  # the child could not be set up: exit 1 (its streams may not be the files yet)
        _exit(1)
    exit_as_interpreter(lambda: runpy.run_module("ops", run_name="__main__", alter_sys=True))


def _exit(code: int) -> NoReturn:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe: nothing left to say
            stream.flush()
    os._exit(code)


def exit_as_interpreter(main: Callable[[], object]) -> NoReturn:
    """Call `main`, then end this (forked) process with the exit code an interpreter would give: SystemExit's
    code (a message that is not an int printed, then 1), 1 and the traceback on an uncaught exception, else 0.
    `os._exit`: nothing of the parent's state (atexit handlers, buffered files) runs or flushes twice."""
    code = 1
    try:
        main()
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:  # as the interpreter would: the traceback, then exit 1
        traceback.print_exc()
    _exit(code)


def can_fork() -> bool:
    """Forking copies only the calling thread: safe while it is the only one."""
    return hasattr(os, "fork") and threading.active_count() == 1 and os.environ.get(FORK_ENV) != "1"


@dataclass
class OpsChild:
    """A running `python -m ops` child (forked or a subprocess); `wait` gives its result."""

    argv: list[str]
    stdout: Path
    stderr: Path
    pid: int = 0
    popen: subprocess.Popen[bytes] | None = None
    code: int | None = None
    """The exit code, once the child has been reaped."""

    def _reap(self) -> int:
        if self.code is None:
            if self.popen is not None:
                self.code = self.popen.wait()
            else:
                self.code = os.waitstatus_to_exitcode(os.waitpid(self.pid, 0)[1])
        return self.code

    def wait(self) -> subprocess.CompletedProcess[str]:
        code = self._reap()
        return subprocess.CompletedProcess([sys.executable, "-m", "ops", *self.argv], code,
                                           self.stdout.read_text(), self.stderr.read_text())

    def kill(self) -> None:
        """Stop it (the caller gave up on its result) and reap it; nothing once it has been reaped."""
        if self.code is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            if self.popen is not None:
                self.popen.kill()
            else:
                os.kill(self.pid, signal.SIGKILL)
        self._reap()


def start_ops(project: Path, argv: Sequence[str], scratch: Path) -> OpsChild:
    """Start `python -m ops *argv` in `project`; its output goes to files in `scratch` (which must outlive it)."""
    child = OpsChild(list(argv), scratch / "ops.stdout", scratch / "ops.stderr")
    if not can_fork():
        with open(child.stdout, "wb") as out, open(child.stderr, "wb") as err:
            child.popen = subprocess.Popen([sys.executable, "-m", "ops", *argv], cwd=project, stdin=subprocess.DEVNULL,
                                           stdout=out, stderr=err)
        return child
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        become_ops_in(project, argv, child.stdout, child.stderr)
    child.pid = pid
    return child
