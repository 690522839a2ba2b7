"""`python -m ops tunnel STACK [--port N] -- CMD...`: run CMD with the database reachable on 127.0.0.1.

Opens a Session Manager port forward (`AWS-StartPortForwardingSessionToRemoteHost`) from
127.0.0.1:<port> through the stack's access host (`components/db_access.py`) to the Aurora
writer, waits until the local port accepts connections, runs CMD, and closes the session
whatever CMD did. The exit code is CMD's (2 when the tunnel could not be opened).

    python -m ops tunnel dev -- pulumi up --stack dev
    python -m ops tunnel prod -- pulumi refresh --stack prod --run-program --preview-only --expect-no-changes
    python -m ops tunnel dev --port 25432 -- psql "host=127.0.0.1 port=25432 sslmode=require dbname=floyo user=..."

The host and the writer come from the stack's outputs (`pulumi stack output`); the host can
also be found by its tags. Needs on PATH: `pulumi`, `aws` (v2) and `session-manager-plugin`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.deployed.shell import Runner
from ops.deployed.stack_outputs import parse_outputs
from ops.stackfile import ROOT, load_stack
from stacks.base import PROJECT
from stacks.db_access import ROLE_TAG

DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
"""The AWS-owned Session Manager document for a port forward to a host the instance can reach."""
POSTGRES_PORT = 5432
INSTALL_HINTS = {
    "aws": "install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
    "session-manager-plugin": "install the Session Manager plugin: https://docs.aws.amazon.com/systems-manager/"
                              "latest/userguide/session-manager-working-with-install-plugin.html",
    "pulumi": "install the Pulumi CLI: https://www.pulumi.com/docs/install/",
}


class TunnelError(Exception):
    """The tunnel could not be opened; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    """Where a tunnel goes: through `instance_id` to `writer_endpoint`, from 127.0.0.1:`local_port`."""

    stack: str
    region: str
    instance_id: str
    writer_endpoint: str
    local_port: int


def require_tools(runner: Runner, tools: Sequence[str]) -> None:
    """Raise one error naming every missing CLI and how to install it."""
    missing = [tool for tool in tools if runner.which(tool) is None]
    if missing:
        raise TunnelError("missing on PATH: " + "; ".join(f"`{tool}` ({INSTALL_HINTS[tool]})" for tool in missing))


def stack_outputs(stack: str, runner: Runner) -> dict[str, Any]:
    """The stack's outputs ({} for a stack never deployed)."""
    result = runner.run(["pulumi", "stack", "output", "--json", "--stack", stack])
    return parse_outputs(stack, result, TunnelError, " (logged in? stack selected?)")


def stack_region_and_port(stack: str, stack_dir: Path | None) -> tuple[str, int]:
    """`aws:region` and `db_access.local_port` of the stack's settings file."""
    config, settings = load_stack(stack, stack_dir or ROOT, PROJECT)
    return config.region, settings.db_access.local_port


def _host_by_tags(stack: str, region: str, runner: Runner) -> str:
    result = runner.run([
        "aws", "ec2", "describe-instances", "--region", region,
        "--filters", f"Name=tag:floyo:role,Values={ROLE_TAG}", f"Name=tag:Name,Values=floyo-{stack}-{ROLE_TAG}",
        "Name=instance-state-name,Values=running",
        "--query", "Reservations[].Instances[].InstanceId", "--output", "text",
    ])
    found = result.stdout.split() if result.returncode == 0 else []
    if len(found) != 1:
        raise TunnelError(f"cannot find the access host of '{stack}': no `database_access_instance_id` output and "
                          f"{len(found)} running instances tagged floyo:role={ROLE_TAG} in {region}"
                          f"{' (' + result.stderr.strip() + ')' if result.returncode else ''}. Deploy the stack "
                          f"first: python -m ops deploy {stack}")
    return found[0]


def locate(stack: str, runner: Runner, outputs: Mapping[str, Any], region: str, local_port: int) -> Target:
    """The tunnel's target from the stack outputs (the host also by its tags)."""
    writer = outputs.get("database_writer_endpoint")
    if not writer:
        raise TunnelError(f"stack '{stack}' has no `database_writer_endpoint` output: the database is not deployed "
                          f"yet (python -m ops deploy {stack} creates it first)")
    instance = outputs.get("database_access_instance_id") or _host_by_tags(stack, region, runner)
    return Target(stack, region, str(instance), str(writer), local_port)


def wait_until_online(target: Target, runner: Runner, timeout: float, interval: float = 10) -> None:
    """Wait until the host's SSM Agent has registered (a new host needs a minute or two after boot)."""
    waited, status = 0.0, ""
    while True:
        result = runner.run([
            "aws", "ssm", "describe-instance-information", "--region", target.region,
            "--filters", f"Key=InstanceIds,Values={target.instance_id}",
            "--query", "InstanceInformationList[0].PingStatus", "--output", "text",
        ])
        if result.returncode != 0:
            raise TunnelError(f"cannot ask SSM about {target.instance_id}: {result.stderr.strip()} "
                              "(needs ssm:DescribeInstanceInformation)")
        status = result.stdout.strip()
        if status == "Online":
            return
        if waited >= timeout:
            break
        runner.say(f"access host {target.instance_id} is not online in SSM yet ({status or 'not registered'}); "
                   f"waiting {interval:g} s")
        runner.sleep(interval)
        waited += interval
    raise TunnelError(
        f"the access host {target.instance_id} is not registered with SSM (PingStatus {status or 'None'}) after "
        f"{timeout:g} s. Check that it is running, that its instance profile carries AmazonSSMManagedInstanceCore, "
        "and that its private subnet reaches SSM (VPC endpoints ssm, ssmmessages, ec2messages, or the NAT).")


def session_command(target: Target) -> list[str]:
    """The `aws ssm start-session` port forward to the writer."""
    parameters = {"host": [target.writer_endpoint], "portNumber": [str(POSTGRES_PORT)],
                  "localPortNumber": [str(target.local_port)]}
    return ["aws", "ssm", "start-session", "--region", target.region, "--target", target.instance_id,
            "--document-name", DOCUMENT, "--parameters", json.dumps(parameters, separators=(",", ":"))]


@contextmanager
def open_tunnel(target: Target, runner: Runner, timeout: float = 60, interval: float = 1) -> Iterator[None]:
    """Hold the port forward open for the `with` block; always closed afterwards."""
    if runner.port_open(target.local_port):
        raise TunnelError(f"127.0.0.1:{target.local_port} is already in use (another tunnel, or a local Postgres?): "
                          "close it, or pass --port with a free port")
    session = runner.start(session_command(target))
    try:
        waited = 0.0
        while not runner.port_open(target.local_port):
            code = session.poll()
            if code is not None:
                raise TunnelError(f"the SSM session ended (exit {code}) before 127.0.0.1:{target.local_port} opened "
                                  f"(needs ssm:StartSession on {target.instance_id} and on the document {DOCUMENT}):\n"
                                  f"{session.output().strip()}")
            if waited >= timeout:
                raise TunnelError(f"127.0.0.1:{target.local_port} did not open within {timeout:g} s:\n"
                                  f"{session.output().strip()}")
            runner.sleep(interval)
            waited += interval
        runner.say(f"tunnel open: 127.0.0.1:{target.local_port} -> {target.writer_endpoint}:{POSTGRES_PORT} "
                   f"via {target.instance_id}")
        yield
    finally:
        session.stop()
        runner.say(f"tunnel closed: 127.0.0.1:{target.local_port}")


def tunnel(stack: str, command: Sequence[str], runner: Runner, stack_dir: Path | None = None, port: int | None = None,
           ssm_timeout: float = 300) -> int:
    """The CLI command: CMD's exit code. Raises `TunnelError` when the tunnel cannot be opened."""
    if not command:
        raise TunnelError("nothing to run: give the command after `--`, e.g. python -m ops tunnel dev -- pulumi up")
    require_tools(runner, ("pulumi", "aws", "session-manager-plugin"))
    region, configured_port = stack_region_and_port(stack, stack_dir)
    target = locate(stack, runner, stack_outputs(stack, runner), region, port or configured_port)
    if target.local_port != configured_port:
        runner.say(f"note: the postgresql provider connects to port {configured_port} (db_access.local_port), "
                   f"not {target.local_port}: use --port only for other clients")
    wait_until_online(target, runner, ssm_timeout)
    with open_tunnel(target, runner):
        return runner.run(list(command), capture=False).returncode
