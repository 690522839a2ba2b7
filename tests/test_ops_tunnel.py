"""`python -m ops tunnel`: offline, with a scripted runner standing in for aws/pulumi/session-manager-plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ops.deployed.tunnel import TunnelError, tunnel
from ops.stackfile import ROOT
from tests.fake_runner import FakeRunner

INSTANCE = "i-0123456789abcdef0"
WRITER = "floyo-dev.cluster-abc.us-east-1.rds.amazonaws.com"
DEPLOYED = {"database_access_instance_id": INSTANCE, "database_writer_endpoint": WRITER}
PING = ("aws", "ssm", "describe-instance-information", "--region", "us-east-1",
        "--filters", f"Key=InstanceIds,Values={INSTANCE}",
        "--query", "InstanceInformationList[0].PingStatus", "--output", "text")


def session(port: int = 15432) -> tuple[str, ...]:
    parameters = json.dumps({"host": [WRITER], "portNumber": ["5432"], "localPortNumber": [str(port)]},
                            separators=(",", ":"))
    return ("aws", "ssm", "start-session", "--region", "us-east-1", "--target", INSTANCE,
            "--document-name", "AWS-StartPortForwardingSessionToRemoteHost", "--parameters", parameters)


def test_runs_the_command_inside_the_port_forward_and_closes_it() -> None:
    runner = FakeRunner(outputs=[DEPLOYED], codes={"pulumi refresh": 3})
    code = tunnel("dev", ["pulumi", "refresh", "--run-program"], runner)
    assert code == 3  # the command's own exit code
    assert runner.commands() == [
        ("run", ("pulumi", "stack", "output", "--json", "--stack", "dev")),
        ("run", PING),
        ("start", session()),
        ("run", ("pulumi", "refresh", "--run-program")),
        ("stop",),
    ]


def test_port_option_changes_only_the_local_end() -> None:
    runner = FakeRunner(outputs=[DEPLOYED])
    assert tunnel("dev", ["psql"], runner, port=25432) == 0
    assert ("start", session(25432)) in runner.log
    assert any("connects to port 15432" in line for line in runner.said)


def test_waits_for_a_new_host_to_register_with_ssm() -> None:
    runner = FakeRunner(outputs=[DEPLOYED], ping=["None", "ConnectionLost", "Online"])
    assert tunnel("dev", ["true"], runner) == 0
    assert [e for e in runner.log if e[0] == "run" and e[1] == PING] == [("run", PING)] * 3
    assert runner.log.index(("start", session())) > max(i for i, e in enumerate(runner.log) if e == ("run", PING))


def test_host_never_online_is_a_clear_error_and_nothing_runs() -> None:
    runner = FakeRunner(outputs=[DEPLOYED], ping=["None"])
    with pytest.raises(TunnelError, match=f"{INSTANCE} is not registered with SSM.*AmazonSSMManagedInstanceCore"):
        tunnel("dev", ["pulumi", "up"], runner, ssm_timeout=30)
    assert not any(e[0] == "start" for e in runner.log)
    assert ("run", ("pulumi", "up")) not in runner.log


def test_missing_tools_are_all_named() -> None:
    runner = FakeRunner(tools=["pulumi"])
    with pytest.raises(TunnelError) as caught:
        tunnel("dev", ["pulumi", "up"], runner)
    assert "`aws`" in str(caught.value) and "`session-manager-plugin`" in str(caught.value)
    assert "`pulumi`" not in str(caught.value)
    assert runner.log == []


def test_session_that_dies_reports_why_and_command_never_runs() -> None:
    runner = FakeRunner(outputs=[DEPLOYED], session_exit=255)
    with pytest.raises(TunnelError, match=r"(?s)ssm:StartSession.*AccessDenied"):
        tunnel("dev", ["pulumi", "up"], runner)
    assert runner.commands()[-1] == ("stop",)
    assert ("run", ("pulumi", "up")) not in runner.log


def test_port_in_use_is_refused_before_any_session() -> None:
    runner = FakeRunner(outputs=[DEPLOYED], port_in_use=True)
    with pytest.raises(TunnelError, match="15432 is already in use"):
        tunnel("dev", ["pulumi", "up"], runner)
    assert not any(e[0] == "start" for e in runner.log)


def test_tunnel_closes_when_the_command_is_interrupted() -> None:
    class Interrupting(FakeRunner):
        def run(self, argv, capture=True):
            if tuple(argv[:2]) == ("pulumi", "up"):
                raise KeyboardInterrupt
            return super().run(argv, capture)

    runner = Interrupting(outputs=[DEPLOYED])
    with pytest.raises(KeyboardInterrupt):
        tunnel("dev", ["pulumi", "up"], runner)
    assert runner.log[-1] == ("stop",)


def test_undeployed_stack_says_to_deploy_first() -> None:
    runner = FakeRunner(outputs=[{}])
    with pytest.raises(TunnelError, match="python -m ops deploy dev"):
        tunnel("dev", ["pulumi", "up"], runner)


def test_host_found_by_tags_when_the_output_is_missing() -> None:
    class Tagged(FakeRunner):
        def run(self, argv, capture=True):
            if tuple(argv[:3]) == ("aws", "ec2", "describe-instances"):
                self.log.append(("run", tuple(argv)))
                from ops.deployed.shell import Completed
                return Completed(0, INSTANCE + "\n")
            return super().run(argv, capture)

    runner = Tagged(outputs=[{"database_writer_endpoint": WRITER}])
    assert tunnel("dev", ["true"], runner) == 0
    lookup = next(e[1] for e in runner.log if e[1][:3] == ("aws", "ec2", "describe-instances"))
    assert "Name=tag:floyo:role,Values=db-access" in lookup and "Name=tag:Name,Values=floyo-dev-db-access" in lookup
    assert ("start", session()) in runner.log


def test_cli_without_the_tools_exits_2_without_a_traceback() -> None:
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}
    result = subprocess.run([sys.executable, "-m", "ops", "tunnel", "dev", "--", "pulumi", "up"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert "missing on PATH" in result.stderr and "session-manager-plugin" in result.stderr
    assert "Traceback" not in result.stderr
