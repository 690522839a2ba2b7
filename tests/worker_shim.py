"""The command an xdist worker is started with in `./run test`: it asks the session's fork server for the worker.

pytest-xdist starts each worker as `PYTHON -u -c "import sys;exec(eval(sys.stdin.readline()))"` (execnet's
popen gateway), a fresh interpreter that then imports pytest, the Pulumi SDKs and the program and pays a first,
cold plan: about 2.5 s of CPU per worker. `tests/fork_session.py` names this file as the workers' PYTHON
(`popen//python=...`), run with `-I -S` so that it imports only the standard library. It passes its stdin,
stdout and stderr (execnet's pipes to the controller), its working directory, its environment and the
interpreter arguments to the fork server (`tests/fork_server.py`), whose child becomes the worker
(`tests.fork_worker.become_worker`) and reads execnet's bootstrap from that same stdin. This process then
only waits: it exits with the worker's exit code, and when the controller kills it (execnet does, when a
worker will not stop), the server's handler sees the connection close and kills the worker.

The worker lives in the server's process group, so a signal sent to the controller's group (a terminal's
Ctrl-C or Ctrl-Z, a job runner stopping the run) reaches this process, not the worker. SIGINT, SIGTERM and
SIGHUP are passed on, so the worker gets what a fresh worker would have got and reacts as it would (a SIGINT
it handles ends its session with its fixtures torn down; SIGTERM and SIGHUP end it at once, as they end a
fresh one). A terminal's stop (SIGTSTP) stops the worker (SIGSTOP: its group is orphaned, where the kernel
drops SIGTSTP) and then this process; SIGCONT resumes both. A signal this process was started with ignored
stays ignored, as it would be in a fresh worker (`./run test` runs pytest as a background job, with SIGINT
ignored in every process of the run).

When the arguments are not execnet's `-u [-B] -c CODE`, or the server cannot be reached, or hangs up before it
started the worker, nothing has read stdin yet: this process then becomes the fresh interpreter xdist asked
for (`os.execv`), as if it had never been here.
"""

import contextlib
import json
import os
import signal
import socket
import sys

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGTSTP, signal.SIGCONT)


def _kill(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # it has ended already: its exit code is on its way
        os.kill(pid, signum)


def _fresh(python_args: list[str]) -> None:
    os.execv(sys.executable, [sys.executable, *python_args])


def execnets(python_args: list[str]) -> bool:
    """Whether `python_args` is the command line execnet's popen gateway gives: `-u [-B] -c CODE`."""
    *flags, dash_c, _ = python_args if len(python_args) >= 3 else ["", "", ""]
    return dash_c == "-c" and "-u" in flags and set(flags) <= {"-u", "-B"}


def main(server: str, python_args: list[str]) -> None:
    if not execnets(python_args):  # another execnet: leave it its own interpreter
        _fresh(python_args)
    worker: list[int] = []
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if not worker:  # before the pid is known: passed on as soon as it is
            pending.append(signum)
        elif signum == signal.SIGTSTP:  # stop the worker, then this process, as the terminal would have
            _kill(worker[0], signal.SIGSTOP)
            os.kill(os.getpid(), signal.SIGSTOP)
        else:
            _kill(worker[0], signum)

    for signum in FORWARDED:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, forward)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    reader = conn.makefile("rb")
    request = {"target": "tests.fork_worker:become_worker", "args": [os.getcwd(), dict(os.environ), python_args]}
    try:
        conn.connect(server)
        socket.send_fds(conn, [json.dumps(request).encode() + b"\n"], [0, 1, 2])
        pid_line = reader.readline()
    except OSError:
        pid_line = b""
    if not pid_line.strip():  # no worker was started: be the fresh interpreter
        reader.close()
        conn.close()
        for signum in FORWARDED:  # from here on a signal does to this process what it would to that one
            if signal.getsignal(signum) is forward:
                signal.signal(signum, signal.SIG_DFL)
        for signum in pending:  # and one that came meanwhile does it now
            signal.raise_signal(signum)
        _fresh(python_args)
    worker.append(int(pid_line))
    for signum in pending:
        forward(signum, None)
    for fd in (0, 1):  # the worker has execnet's pipes: the controller sees their end when the worker's ends
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, fd)
        os.close(devnull)
    code_line = reader.readline().strip()
    code = int(code_line) if code_line else 1
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
