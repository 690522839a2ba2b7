"""Imported by the tests' fork server (`tests.ops_cli`): loads the SDKs and every provider submodule the
program's components use, and plans the dev stack once, so that each `python -m ops` child forked from
the server starts where a second plan in one process would.

The provider SDKs load a submodule (`pulumi_aws.ec2`, ...) lazily, on its first attribute access, so a
plain import is not enough: each one is touched here.
"""

from __future__ import annotations

import gc
import importlib
import re
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDKS = ["pulumi", "pulumi.runtime", "pulumi.automation", "pulumi_aws", "pulumi_cloudflare", "pulumi_postgresql",
        "pulumi_random", "pydantic", "ruamel.yaml", "yaml", "boto3"]


def provider_submodules(root: Path = ROOT) -> list[str]:
    """The provider submodules the components use (`aws.ec2.Vpc` -> `pulumi_aws.ec2`)."""
    used: set[str] = set()
    for source in (root / "components").glob("*.py"):
        used |= {f"pulumi_aws.{m}" for m in re.findall(r"\baws\.([a-z0-9]+)\.[A-Z]", source.read_text())}
    return sorted(used)


def preload() -> list[str]:
    """Import and touch them all; the names loaded."""
    loaded = []
    for name in [*SDKS, *provider_submodules()]:
        try:
            module = importlib.import_module(name)
        except ImportError:  # an optional one: the child imports what it needs anyway
            continue
        hasattr(module, "__touch__")  # runs a lazily loaded module's body
        loaded.append(name)
    return loaded


def warm_up() -> bool:
    """Plan the committed dev stack once, so the children start with what a second plan in one process
    has (the SDK's per-class type-hint caches, the providers' lazily built tables); then leave the process
    single-threaded again, as forking needs: the SDK runs its calls on the event loop's default executor,
    whose threads are shut down with that loop, and a new loop is set. False when a thread is still
    running afterwards: the server then refuses to start, and `tests.ops_cli.run_ops` starts fresh
    interpreters instead."""
    import asyncio

    from ops.plan import plan_config
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


LOADED = preload()
WARM = warm_up()
if not WARM:  # a fork would copy a process whose other threads are gone: refuse to serve it
    raise RuntimeError(f"the fork server still runs {threading.active_count()} threads after its warm-up plan")
gc.collect()
gc.freeze()  # the children's plans start with a collection (ops.plan.mock_runtime): it skips all of this
