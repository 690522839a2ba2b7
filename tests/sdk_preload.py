"""Imported by the tests' fork server (`tests.ops_cli`): loads the SDKs and every provider submodule the
program's components use, so that each `python -m ops` child forked from the server starts with them.

The provider SDKs load a submodule (`pulumi_aws.ec2`, ...) lazily, on its first attribute access, so a
plain import is not enough: each one is touched here.
"""

from __future__ import annotations

import gc
import importlib
import re
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


LOADED = preload()
gc.collect()
gc.freeze()  # the children's plans start with a collection (ops.plan.mock_runtime): it skips all of this
