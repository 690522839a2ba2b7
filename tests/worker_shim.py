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

When the server cannot be reached, or hangs up before it started the worker, nothing has read stdin yet:
this process then becomes the fresh interpreter xdist asked for (`os.execv`), as if it had never been here.
"""

import json
import os
import socket
import sys


def _fresh(python_args: list[str]) -> None:
    os.execv(sys.executable, [sys.executable, *python_args])


def main(server: str, python_args: list[str]) -> None:
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
        _fresh(python_args)
    for fd in (0, 1):  # the worker has execnet's pipes: the controller sees their end when the worker's ends
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, fd)
        os.close(devnull)
    code_line = reader.readline().strip()
    code = int(code_line) if code_line else 1
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
