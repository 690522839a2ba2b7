"""Helpers for tests: plan a stack (optionally with config changes) and query the result.

Each distinct config is planned once per test run. A plan is kept in memory, and also on disk under
`$FLOYO_PLAN_CACHE` when the test session sets it (tests/conftest.py does, for the session only), so
the pytest-xdist workers share plans: the first worker that needs a config plans it under a file lock,
the others load the result. The store is `ops.plan.cache`'s, keyed by the config and the code, so the
`python -m ops` children the CLI tests start reuse these plans too. `plan_with` returns a fresh copy
each call, as it did when it re-planned.

A test that reads only what the first tiers of the composition root declare plans the program up to one of
them (`upto`, a name of `TIERS`): the same statements of `__main__.py`, cut after the one that assigns that
name, at a quarter to a half of a whole plan's cost. `tests/test_prefix_plans.py` checks that such a plan
holds exactly the resources of the whole plan's components it declares, record for record. Only a test that
asserts what is there may plan a prefix: that something is absent is read from a whole plan.
"""

from __future__ import annotations

import ast
import dataclasses
import gc
import hashlib
import json
import pickle
from collections.abc import Callable, Mapping
from functools import cache, partial
from pathlib import Path
from types import CodeType
from typing import Any, Literal, get_args

from pulumi.runtime import settings as pulumi_settings

from ops.plan.cache import plan_key, stored
from ops.plan.planner import Plan, PlannedResource, plan_config, plan_run, project_name
from ops.stackfile import ROOT, StackConfig, read_stack_config
from stacks import StackSettings, load_settings
from stacks.profiles import deep_merge

PREFIX = "floyo-infra:"

Tier = Literal["base", "data", "backend", "edge"]
TIERS: tuple[Tier, ...] = get_args(Tier)
"""Names `__main__.py` assigns, in its order, after which a test may cut the program (`upto`): the foundation
(`base`), the data tier, the backend service, the edge."""

_plans: dict[str, bytes] = {}


def with_changes(stack: str, changes: Mapping[str, Any] | None = None, drop: tuple[str, ...] = (),
                 root: Path = ROOT) -> StackConfig:
    """The config of `root`'s stack (the app's by default) with `changes` ({"backend": {...}} or
    {"tier": "prod"}, keys of the project's namespace) merged in."""
    base = read_stack_config(stack, root)
    prefix = project_name(root) + ":"
    values = {k: v for k, v in base.values.items() if k.removeprefix(prefix) not in drop}
    for key, change in (changes or {}).items():
        full = prefix + key
        if isinstance(change, Mapping) and full in values:
            values[full] = json.dumps(deep_merge(json.loads(values[full]), change))
        else:
            values[full] = change if isinstance(change, str) else json.dumps(change)
    return StackConfig(stack, values, list(base.secret_keys), list(base.secure_paths))


def settings_for(config: StackConfig) -> StackSettings:
    return load_settings(config.stack, config.values, config.secret_keys, config.secure_paths)


def _key(config: StackConfig, root: Path) -> str:
    text = json.dumps([str(root), config.stack, config.values, sorted(config.secret_keys), sorted(config.secure_paths)],
                      sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@cache
def _prefix(program: Path, upto: str) -> CodeType:
    """`program`'s top-level statements up to the first that assigns `upto`, compiled as the program."""
    tree = ast.parse(program.read_text(encoding="utf-8"), str(program))
    for at, statement in enumerate(tree.body):
        if isinstance(statement, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == upto for target in statement.targets):
            return compile(ast.Module(body=tree.body[:at + 1], type_ignores=[]), str(program), "exec")
    raise ValueError(f"{program} has no top-level statement that assigns {upto!r}")


def _planned(config: StackConfig, root: Path = ROOT, upto: Tier | None = None) -> bytes:
    """The pickled plan of `config` for the project in `root` (of its program up to `upto`, if given): from
    memory, from the session's shared store (`ops.plan.cache`, under the key a `python -m ops` child of the
    same code looks up), or planned now (in this process, `plan_config` never consults the store)."""
    key = _key(config, root) + (f":{upto}" if upto else "")
    if key not in _plans:
        program, project = root / "__main__.py", project_name(root)
        whole = plan_key(config, program, project)
        if upto is None:
            filed, make = whole, partial(plan_config, config, program, project)
        else:
            filed, make = hashlib.sha256(f"{whole}:{upto}".encode()).hexdigest(), partial(plan_prefix_now, config, upto, root)
        _plans[key] = stored(filed, partial(_after_freeze, make))
    return _plans[key]


def _after_freeze(make: Callable[[], Plan]) -> Plan:
    """`make()`, after moving everything this test process holds now (the earlier tests' plans, fixtures and
    reports) to the collector's permanent generation, as `tests/conftest.py` does once after collection.

    A plan starts with a full collection, and the collector runs during the tests after it
    (`ops.plan.planner.mock_runtime`): with the process's state frozen, both walk only what was made since the
    last plan, not everything the earlier tests still hold. Measured in a whole `pytest -n 2` run, the workers'
    collections took 2.3-2.5 s of CPU instead of 6.6-6.9 s (docs/test-speed.md, where `./run test` stands).
    Cyclic garbage among frozen objects is never collected (refcounting still frees the rest): at most a
    worker's lifetime of it, in a test process only; `ops`'s own commands plan once or twice per process and do
    not do this.

    The SDK's globals still hold the last plan (its root stack and monitor, and through them the plan's resources,
    outputs and futures) until the next plan resets them: they are reset first, so that plan is freed by this
    collection instead of frozen for good (some 18,000 objects per plan, found by review)."""
    pulumi_settings.reset_options()
    gc.collect()
    gc.freeze()
    return make()


def plan_prefix_now(config: StackConfig, upto: Tier, root: Path = ROOT) -> Plan:
    """`root`'s program up to the tier `upto`, planned now in this process (never from memory or the store)."""
    program = root / "__main__.py"
    code, scope = _prefix(program, upto), {"__name__": "__main__", "__file__": str(program)}
    return plan_run(config, project_name(root), lambda: exec(code, scope))


def planned(config: StackConfig, root: Path = ROOT, upto: Tier | None = None) -> Plan:
    """The plan of `config` (a fresh copy: callers may change it), planned once per test run; of the program
    up to the tier `upto` when given (see the module's docstring)."""
    return pickle.loads(_planned(config, root, upto))


@cache
def stack_plan(stack: str) -> Plan:
    """The (cached) plan of a committed stack file."""
    return planned(read_stack_config(stack))


def plan_with(stack: str, changes: Mapping[str, Any], upto: Tier | None = None) -> Plan:
    """The plan of `stack`'s committed file with `changes` (see `with_changes`); up to `upto` when given."""
    return planned(with_changes(stack, changes), upto=upto)


def one(plan: Plan, token: str, name: str | None = None) -> PlannedResource:
    """The single resource of `token` (and `name`), failing loudly otherwise."""
    found = [r for r in plan.of_type(token) if name is None or r.name == name]
    assert len(found) == 1, f"expected one {token} {name or ''}, found {[r.name for r in found]}"
    return found[0]


def container_definitions(plan: Plan, task: str = "backend-task") -> list[dict[str, Any]]:
    """Containers of the service's task definition (or of `task`, e.g. `backend-migrate`)."""
    return json.loads(one(plan, "aws:ecs/taskDefinition:TaskDefinition", task).inputs["containerDefinitions"])


def as_secure(config: StackConfig, *paths: str) -> StackConfig:
    """`config` with the values at `paths` (`monitoring.webhook_url`) set as `pulumi config set --secret` would:
    `secure:` values in the file, their top-level keys secret."""
    prefix = project_name(ROOT) + ":"
    return dataclasses.replace(
        config, secret_keys=sorted({*config.secret_keys, *(prefix + p.split(".")[0] for p in paths)}),
        secure_paths=sorted({*config.secure_paths, *(prefix + p for p in paths)}))


def as_stack(config: StackConfig, stack: str) -> StackConfig:
    """`config` (another stack's file) as stack `stack`'s own: its name, and its `stack` tag."""
    values = dict(config.values)
    if "aws:defaultTags" in values:
        tags = json.loads(values["aws:defaultTags"])
        tags.setdefault("tags", {})["stack"] = stack
        values["aws:defaultTags"] = json.dumps(tags)
    return dataclasses.replace(config, stack=stack, values=values)
