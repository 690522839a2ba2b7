"""Run the real Pulumi program under the SDK's mock runtime and record what it declares."""

from __future__ import annotations

import gc
import os
import runpy
from collections.abc import Callable, Iterator
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

from ops.plan import cache as plan_cache
from ops.plan.mocks import FloyoMocks
from ops.plan.unknowns import acyclic_unknowns
from ops.plan.urns import engine_urn
from ops.stackfile import ROOT, StackConfig, load_document, load_stack
from stacks.loader import offline_secure_paths

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
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    """Input name -> URNs that input was computed from (what a policy pack sees as property dependencies)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """The state the mocks answered (inputs plus mocked ARNs/IDs); not part of `as_json`."""
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    """Resource option `custom_timeouts` (create/update/delete, where set)."""
    provider: str = ""
    """The explicit provider's URN (without its `::id`), or "" for the default provider."""

    def as_json(self) -> dict[str, Any]:
        return {"urn": self.urn, "id": self.id, "type": self.type, "name": self.name, "parent": self.parent,
                "custom": self.custom, "inputs": self.inputs, "dependencies": self.dependencies,
                "property_dependencies": self.property_dependencies,
                "protect": self.protect, "retain_on_delete": self.retain_on_delete,
                "delete_before_replace": self.delete_before_replace, "ignore_changes": self.ignore_changes,
                "provider": self.provider}


@dataclass
class Lookup:
    """One data-source call (invoke) the program made, and what it returned."""

    token: str
    args: dict[str, Any]
    result: dict[str, Any]


@dataclass
class Read:
    """One existing resource the program reads by ID (`StackReference`, `<Resource>.get`): not managed by it."""

    type: str
    name: str
    id: str


@dataclass
class Plan:
    """What a stack's program declares, in registration order."""

    project: str
    stack: str
    resources: list[PlannedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    lookups: list[Lookup] = field(default_factory=list)
    reads: list[Read] = field(default_factory=list)

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

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The engine's URN, not the mock's (ops/plan/urns.py): `--exclude`/`--target` need the real one."""
        return engine_urn(pulumi.get_stack(), pulumi.get_project(), parent, type_, name)

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
                custom_timeouts={k: v for k in ("create", "update", "delete")
                                 if (v := getattr(request.customTimeouts, k, ""))},
                provider=request.provider.rsplit("::", 1)[0] if request.provider else "",
                ignore_changes=list(request.ignoreChanges),
                property_dependencies={k: sorted(set(v.urns)) for k, v in request.propertyDependencies.items() if v.urns},
                outputs=_plain(json_format.MessageToDict(response.object)),
            ))
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        self.plan.reads.append(Read(type=request.type, name=request.name, id=request.id))
        return super().ReadResource(request)

    def Invoke(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        response = super().Invoke(request)
        if request.tok != "pulumi:pulumi:getResource":
            self.plan.lookups.append(Lookup(
                token=request.tok, args=_plain(json_format.MessageToDict(request.args)),
                result=_plain(json_format.MessageToDict(getattr(response, "return"))),
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
_runs: list[str] = []
"""The stacks planned so far in this process (see `mock_runtime`)."""


@contextmanager
def mock_runtime(stack: str, region: str, plan: Plan, project: str = PROJECT) -> Iterator[None]:
    """The SDK's mock runtime, recording every registration into `plan`.

    The SDK captures the Python call stack of every resource it registers (`traceback.extract_stack`,
    which also reads each frame's source line) and sends it as the request's `sourcePosition` and
    `stackTrace`: the engine only uses them to point error messages at user code. The SDK has no switch
    for it, so while the offline plan runs its capture returns an empty trace; the plan never reads those
    two fields, and what it records (type, name, parent, inputs, dependencies, options) is unchanged.

    The cyclic garbage collector is off while the program runs. A plan allocates some 100,000 objects
    (Outputs, futures, their callbacks), so the collector ran hundreds of times during one, and each
    older-generation pass rescanned every object the SDKs keep alive: measured, over half of a plan's
    time. Instead, the first plan in a process ends by moving everything alive to the collector's
    permanent generation (`gc.freeze`), once: the SDKs' modules and classes, by then all loaded, and
    what that first plan still holds (kept for good: one plan's worth, once per process). Every later
    plan starts with one collection, which frees what the plans before it left behind and skips the
    frozen objects. Reference counting frees frozen objects that are dropped, as usual.

    The SDK's `contains_unknowns` is replaced, for the plan, by one that answers the same without leaving
    a reference cycle per call (ops/plan/unknowns.py): those cycles were most of what the collector freed
    after each plan. The SDK's scheduling (its tasks, and its monitor calls on a thread pool) is left as it
    is: an eager task factory and inline monitor calls were measured and saved nothing (docs/test-speed-plan-engine.md).
    """
    pulumi_settings.reset_options(project=project, stack=stack, preview=True)
    mocks = FloyoMocks(region)
    pulumi.runtime.set_mocks(mocks, project, stack, preview=True, monitor=RecordingMonitor(mocks, plan))
    capture = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = _no_stack_trace
    collecting, first = gc.isenabled(), not _runs
    if not first:
        gc.collect()  # the cycles earlier plans left behind
    gc.disable()
    try:
        with acyclic_unknowns():
            yield
    finally:
        pulumi_resource._get_stack_trace = capture
        _runs.append(stack)
        if first:  # once per process: the SDKs' modules and classes, all loaded now, leave the collections
            gc.freeze()
        if collecting:
            gc.enable()


def _log_plan(stack: str) -> None:
    log = os.environ.get(PLAN_LOG_ENV)
    if log:
        with open(log, "a", encoding="utf-8") as f:  # one short append per plan: atomic across processes
            f.write(stack + "\n")


def plan_config(config: StackConfig, program: Path = ROOT / "__main__.py", project: str = PROJECT) -> Plan:
    """Run `program` (of Pulumi project `project`) for `config` under mocks. Raises what the program raises.

    In a test session's `python -m ops` children, a plan the session already made with the same code comes
    from its store instead (`ops.plan.cache`; never outside the tests)."""
    if plan_cache.serving():
        return plan_cache.cached_plan(config, program, project, lambda: _plan_now(config, program, project))
    return _plan_now(config, program, project)


def _plan_now(config: StackConfig, program: Path, project: str) -> Plan:
    def run_program() -> None:
        runpy.run_path(str(program), run_name="__main__")

    return plan_run(config, project, run_program)


def plan_run(config: StackConfig, project: str, run_program: Callable[[], None]) -> Plan:
    """The plan of what `run_program` declares for `config`, under the mocks (`plan_config` runs a program
    file; the tests also run a part of one: tests/planning.py)."""
    _log_plan(config.stack)
    plan = Plan(project, config.stack)
    with mock_runtime(config.stack, config.region, plan, project):
        pulumi.runtime.set_all_config(dict(config.values), list(config.secret_keys))
        with offline_secure_paths(config.secure_paths):
            _sync_await(run_pulumi_func(run_program))
        root = pulumi_settings.get_root_resource()
        exported = getattr(root, "outputs", {}) if root is not None else {}
        plan.outputs = _sync_await(_resolve_outputs(dict(exported)))
    return plan


def project_name(root: Path) -> str:
    """The `name` in `root`'s Pulumi.yaml (the project, and the config namespace of its settings)."""
    return str(load_document(root / "Pulumi.yaml")["name"])


def plan_stack(stack: str, root: Path = ROOT, stack_dir: Path | None = None) -> Plan:
    """Plan `root`'s program for the settings in `<stack_dir or root>/Pulumi.<stack>.yaml`."""
    project = project_name(root)
    config, _ = load_stack(stack, stack_dir or root, project)  # the one loader: refused before the program runs
    return plan_config(config, root / "__main__.py", project)
