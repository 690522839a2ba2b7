"""Run the real Pulumi program under the SDK's mock runtime and record what it declares."""

from __future__ import annotations

import os
import runpy
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from ops.mocks import FloyoMocks
from ops.stackfile import ROOT, StackConfig, read_stack_config

PROJECT = "floyo-infra"
SECRET = "[secret]"
UNKNOWN = "[unknown until apply]"
PLAN_LOG_ENV = "FLOYO_PLAN_LOG"
"""If set, the path of a file that gets one line per plan run (the benchmark counts the suite's plans)."""

_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def _plain(value: Any) -> Any:
    """Wire-format property values -> plain JSON, with secrets masked."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return SECRET
        if sig == _RESOURCE_SIG:
            return value.get("urn", "")
        if sig == _OUTPUT_SIG:
            if value.get("secret"):
                return SECRET
            return _plain(value["value"]) if "value" in value else UNKNOWN
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if value == _UNKNOWN_VALUE:
        return UNKNOWN
    return value


@dataclass
class PlannedResource:
    """One resource registration, as the engine would receive it."""

    urn: str
    id: str
    type: str
    name: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    dependencies: list[str]
    protect: bool
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    ignore_changes: list[str] = field(default_factory=list)
    """Resource option `ignore_changes` (property names as the engine receives them)."""
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """Resource option `custom_timeouts` (create/update/delete, where set)."""
    state: dict[str, Any] = field(default_factory=dict)
    """What the (mocked) provider answered: inputs plus computed attributes such as `arn`."""
    provider: str = ""
    """The explicit provider's URN (without its `::id`), or "" for the default provider."""
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Input name -> the URNs its value came from (the request's `propertyDependencies`)."""

    def as_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "id": self.id, "type": self.type, "name": self.name, "parent": self.parent,
                "custom": self.custom, "inputs": self.inputs, "dependencies": self.dependencies,
                "property_dependencies": self.property_dependencies,
                "protect": self.protect, "retain_on_delete": self.retain_on_delete, "provider": self.provider}


@dataclass
class Plan:
    """What a stack's program declares, in registration order."""

    project: str
    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, token: str) -> list[PlannedResource]:
        return [r for r in self.resources if r.type == token]

    def as_json(self) -> dict[str, Any]:
        return {"project": self.project, "stack": self.stack,
                "resources": [r.as_json() for r in self.resources], "outputs": self.outputs}


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The SDK's mock monitor, also keeping each registration request."""

    def __init__(self, mocks: pulumi.runtime.Mocks, plan: Plan) -> None:
        super().__init__(mocks)
        self.plan = plan

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.plan.resources.append(PlannedResource(
                urn=response.urn, id=response.id, type=request.type, name=request.name, parent=request.parent,
                custom=bool(request.custom),
                inputs=_plain(json_format.MessageToDict(request.object)),
                dependencies=sorted(set(request.dependencies)), protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                delete_before_replace=bool(request.deleteBeforeReplace),
                ignore_changes=list(request.ignoreChanges),
                state=_plain(json_format.MessageToDict(response.object)),
                custom_timeouts={k: v for k in ("create", "update", "delete")
                                 if (v := getattr(request.customTimeouts, k, ""))},
                provider=request.provider.rsplit("::", 1)[0] if request.provider else "",
                property_dependencies={key: sorted(set(deps.urns)) for key, deps in
                                       sorted(request.propertyDependencies.items()) if deps.urns},
            ))
        return response


async def _resolve_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    resolved: dict[str, Any] = {}
    for name, value in outputs.items():
        out = pulumi.Output.from_input(value)
        if await out.is_secret():
            resolved[name] = SECRET
            continue
        known = await out.is_known()
        resolved[name] = await out.future() if known else UNKNOWN
    return resolved


def _no_stack_trace() -> Any:
    """Stands in for the SDK's per-resource call-stack capture during an offline plan (see `mock_runtime`)."""
    return _EMPTY_STACK_TRACE


_EMPTY_STACK_TRACE = source_pb2.StackTrace()


@contextmanager
def mock_runtime(stack: str, region: str, plan: Plan) -> Iterator[None]:
    """The SDK's mock runtime, recording every registration into `plan`.

    The SDK captures the Python call stack of every resource it registers (`traceback.extract_stack`,
    which also reads each frame's source line) and sends it as the request's `sourcePosition` and
    `stackTrace`: the engine only uses them to point error messages at user code. The SDK has no switch
    for it, so while the offline plan runs its capture returns an empty trace; the plan never reads those
    two fields, and what it records (type, name, parent, inputs, dependencies, options) is unchanged.
    """
    pulumi_settings.reset_options(project=PROJECT, stack=stack, preview=True)
    mocks = FloyoMocks(region)
    pulumi.runtime.set_mocks(mocks, PROJECT, stack, preview=True, monitor=RecordingMonitor(mocks, plan))
    capture = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = _no_stack_trace
    try:
        yield
    finally:
        pulumi_resource._get_stack_trace = capture


def _log_plan(stack: str) -> None:
    log = os.environ.get(PLAN_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as f:  # one short append per plan: atomic across processes
            f.write(stack + "\n")


def plan_config(config: StackConfig, program: Path = ROOT / "__main__.py") -> Plan:
    """Run `program` for `config` under mocks. Raises what the program raises."""
    _log_plan(config.stack)
    plan = Plan(PROJECT, config.stack)
    with mock_runtime(config.stack, config.region, plan):
        pulumi.runtime.set_all_config(dict(config.values), list(config.secret_keys))

        def run_program() -> None:
            runpy.run_path(str(program), run_name="__main__")

        _sync_await(run_pulumi_func(run_program))
        root = pulumi_settings.get_root_resource()
        exported = getattr(root, "outputs", {}) if root is not None else {}
        plan.outputs = _sync_await(_resolve_outputs(dict(exported)))
    return plan


def plan_stack(stack: str, root: Path = ROOT, stack_dir: Path | None = None) -> Plan:
    """Plan `root`'s program for the settings in `<stack_dir or root>/Pulumi.<stack>.yaml`."""
    return plan_config(read_stack_config(stack, stack_dir or root), root / "__main__.py")
