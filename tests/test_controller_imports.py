"""What the xdist controller of `./run test` imports: it runs no test, only the conftest and the plugins the
command line names, so those must not pull in the Pulumi SDKs or the settings models (~0.45 s of CPU, paid for
nothing; docs/test-speed-misc.md). Each worker imports them when its tests need them."""

from __future__ import annotations

import json
import subprocess
import sys

from ops.stackfile import ROOT

HEAVY = ("pulumi", "pulumi_aws", "pulumi_cloudflare", "stacks.loader", "ops.plan.planner", "tests.planning")


def test_the_conftest_and_the_session_plugin_import_no_sdk_and_no_settings() -> None:
    probe = ("import json, sys\nimport tests.conftest, tests.bytecode_cache\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
