"""Imported by the session's fork server (`tests/fork_server.py`) when it preloads: plans the dev
stack once (which loads the SDKs and every provider submodule the program uses) and imports what other
`ops` commands need, so that each `python -m ops` child forked from the server starts where a second plan
in one process would.
"""

from __future__ import annotations

import importlib
import sys
import threading

from ops.diff.forked import note_installed_modules
from ops.plan.cache import installed_versions

OTHER_COMMANDS = ["ruamel.yaml", "boto3"]
"""Imported by `ops` commands besides the plan (promote's YAML edits, migrate and canary-gate)."""
COMMAND_MODULES = ["ops.plan.render", "ops.diff.render", "ops.cost.cli", "stacks.baseline",
                   "ops.release.tenants", "ops.release.promote", "ops.docs.slo", "ops.diff.plans"]
"""The project modules `ops.__main__` imports for every command (its parser: `ops.diff.render`, `ops.cost.cli`
and theirs, `stacks.baseline`) and those of the commands the tests run in the repository itself. A child
started there keeps them (`become_ops_in` drops only other directories' project modules): without them,
every such child imported them again, ~0.08 s of its CPU (docs/test-speed-fork-server.md)."""


def warm_up() -> bool:
    """Plan the committed dev stack once, so the children start with what a second plan in one process
    has (the SDK's per-class type-hint caches, the providers' lazily built tables); then leave the process
    single-threaded again, as forking needs: the SDK runs its calls on the event loop's default executor,
    whose threads are shut down with that loop, and a new loop is set. False when a thread is still
    running afterwards: the server then refuses to start, and `tests.ops_cli.run_ops` starts fresh
    interpreters instead."""
    import asyncio

    from ops.plan.planner import plan_config
    from ops.stackfile import read_stack_config

    try:
        plan_config(read_stack_config("dev"))
    except Exception as exc:  # only an optimisation: the children then plan cold
        print(f"fork server: warm-up plan failed, children start cold: {exc!r}", file=sys.stderr)
    finally:
        loop = asyncio.get_event_loop()
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()
        asyncio.set_event_loop(asyncio.new_event_loop())
    return threading.active_count() == 1


for _name in [*OTHER_COMMANDS, *COMMAND_MODULES]:
    importlib.import_module(_name)
WARM = warm_up()
if not WARM:  # a fork would copy a process whose other threads are gone: refuse to serve it
    raise RuntimeError(f"the fork server still runs {threading.active_count()} threads after its warm-up plan")
# read once here for every child, not again in each: the modules installed (ops.diff.forked.become_ops_in then
# checks only the others, ~0.04 s a child) and the distributions' versions (the plan store's key, ~0.03 s a child)
note_installed_modules()
installed_versions()
# the warm-up was this process's first plan: it froze the heap (ops.plan.planner.mock_runtime), children inherit that
