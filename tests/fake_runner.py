"""A scripted stand-in for `ops.deployed.shell.SubprocessRunner`: records every command, answers from a script."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ops.deployed.shell import Completed

TOOLS = ("pulumi", "aws", "session-manager-plugin")


class FakeSession:
    def __init__(self, runner: FakeRunner) -> None:
        self.runner = runner

    def poll(self) -> int | None:
        return self.runner.session_exit

    def output(self) -> str:
        return "An error occurred (AccessDeniedException) when calling the StartSession operation"

    def stop(self) -> None:
        self.runner.log.append(("stop",))
        self.runner.listening = False


class FakeRunner:
    """`outputs`: what each `pulumi stack output` prints, in turn (the last one repeats).
    `ping`: PingStatus answers in turn. `deployments`: `describe-services` answers in turn.
    `codes`: exit code by the command's first four words, else its first two (e.g. "pulumi up"). `preview`:
    what the preflight's `pulumi preview --json` prints (default: no steps)."""

    def __init__(self, outputs: Sequence[dict[str, Any]] = ({},), tools: Sequence[str] = TOOLS,
                 ping: Sequence[str] = ("Online",), deployments: Sequence[list[dict[str, Any]]] = (),
                 codes: dict[str, int] | None = None, port_in_use: bool = False, session_exit: int | None = None,
                 polls_until_listening: int = 2, preview: dict[str, Any] | None = None) -> None:
        self.outputs, self.ping, self.deployments = list(outputs), list(ping), list(deployments)
        self.tools, self.codes = set(tools), codes or {}
        self.listening, self.session_exit = port_in_use, session_exit
        self.polls_until_listening = polls_until_listening
        self.preview = preview if preview is not None else {"steps": []}
        self.started = False
        self.log: list[tuple[Any, ...]] = []
        self.said: list[str] = []

    @staticmethod
    def _next(queue: list[Any]) -> Any:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def which(self, program: str) -> str | None:
        return f"/usr/bin/{program}" if program in self.tools else None

    def run(self, argv: Sequence[str], capture: bool = True) -> Completed:
        argv = tuple(argv)
        self.log.append(("run", argv))
        if argv[:3] == ("pulumi", "stack", "output"):
            return Completed(0, json.dumps(self._next(self.outputs)))
        if argv[2:4] == ("pulumi", "preview"):
            return Completed(self.codes.get("pulumi preview", 0), json.dumps(self.preview))
        if argv[:3] == ("aws", "ssm", "describe-instance-information"):
            return Completed(0, self._next(self.ping) + "\n")
        if argv[:3] == ("aws", "ecs", "describe-services"):
            return Completed(0, json.dumps(self._next(self.deployments)))
        return Completed(self.codes.get(" ".join(argv[:4]), self.codes.get(" ".join(argv[:2]), 0)))

    def start(self, argv: Sequence[str]) -> FakeSession:
        self.log.append(("start", tuple(argv)))
        self.started = True
        return FakeSession(self)

    def port_open(self, port: int) -> bool:
        if self.started and not self.listening and self.session_exit is None:
            self.polls_until_listening -= 1
            self.listening = self.polls_until_listening <= 0
        return self.listening

    def sleep(self, seconds: float) -> None:
        self.log.append(("sleep", seconds))

    def say(self, line: str) -> None:
        self.said.append(line)

    def commands(self) -> list[tuple[Any, ...]]:
        """The log without the sleeps."""
        return [entry for entry in self.log if entry[0] != "sleep"]
