"""Benchmark: offline plan time of each stack next to its floor.

The floor is what any program of the same size pays under the same mock runtime:
importing the SDKs plus registering as many trivial resources. Each measurement runs
in a fresh interpreter (so imports are really paid) and is repeated; the median is
reported. Ratios matter, not seconds: these machines are noisy.

It first runs the whole test suite once (as `./run test` does, on all cores) and reports its wall
time next to the number of plans the suite ran (every `plan_config` call, in any process, appends a
line to the file named by $FLOYO_PLAN_LOG).

    python -m ops.bench [--stacks dev prod] [--tenants 1 50 500] [--repeat 3] [--no-suite]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SDKS = ("pulumi", "pulumi_aws", "pulumi_cloudflare", "pulumi_postgresql", "pulumi_random")


def _import_sdks() -> None:
    import importlib

    for module in SDKS:
        importlib.import_module(module)


def _provider_modules() -> list[str]:
    """Provider submodules loaded so far (the SDKs import them lazily, on first use)."""
    loaded = {".".join(m.split(".")[:2]) for m in sys.modules
              if m.count(".") >= 2 and m.split(".")[0] in SDKS[1:] and not m.split(".")[1].startswith("_")}
    return sorted(loaded)


def _child_plan(stack: str, tenants: int | None, preload: list[str]) -> dict[str, Any]:
    import importlib

    start = time.perf_counter()
    _import_sdks()
    imported = time.perf_counter()
    for module in preload:
        hasattr(importlib.import_module(module), "_touch")  # any attribute access executes a lazy module
    submodules = time.perf_counter()
    from ops.plan import plan_config
    from ops.stackfile import StackConfig, read_stack_config

    config = read_stack_config(stack)
    if tenants is not None:
        slugs = [{"slug": f"tenant_{i:04d}"} for i in range(tenants)]
        config = StackConfig(stack, {**config.values, "floyo-infra:tenants": json.dumps(slugs)}, config.secret_keys)
    plan = plan_config(config)
    end = time.perf_counter()
    return {"total": end - start, "import": imported - start, "submodules": submodules - imported,
            "resources": len(plan.resources), "modules": _provider_modules()}


def _child_floor(count: int, region: str, typed: bool = False) -> dict[str, Any]:
    start = time.perf_counter()
    _import_sdks()
    imported = time.perf_counter()
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from ops.plan import Plan, mock_runtime

    plan = Plan("floyo-infra", "floor")
    def program() -> None:
        import pulumi

        if typed:  # a real provider resource class with one argument: the SDK's typed-resource cost
            from pulumi_aws import cloudwatch

            for i in range(count):
                cloudwatch.LogGroup(f"r{i}", retention_in_days=7)
        else:
            for i in range(count):
                pulumi.CustomResource("floyo:bench:Trivial", f"r{i}", {"value": i})

    with mock_runtime("floor", region, plan):  # the same mock runtime (and switches) as a real plan
        _sync_await(run_pulumi_func(program))
    end = time.perf_counter()
    return {"total": end - start, "import": imported - start, "resources": len(plan.resources)}


def _suite() -> dict[str, Any]:
    """Run the whole test suite once, as `./run test` does; count the plans it ran."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "plans.log"
        env = {**os.environ, "FLOYO_PLAN_LOG": str(log)}
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "pytest", "-n", "auto", "-q", "-p", "no:cacheprovider"],
                             capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - start
        plans = log.read_text().splitlines() if log.exists() else []
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr.strip()[-200:]
    passed = re.search(r"(\d+) passed", summary)
    return {"wall": wall, "plans": len(plans), "by_stack": {s: plans.count(s) for s in sorted(set(plans))},
            "tests": int(passed.group(1)) if passed else 0, "summary": summary, "ok": out.returncode == 0}


def _once(args: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "ops.bench", "--child", *args],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _measure(args: list[str], repeat: int) -> dict[str, Any]:
    runs = [_once(args) for _ in range(repeat)]
    summary = {key: statistics.median(r.get(key, 0.0) for r in runs) for key in ("total", "import", "submodules")}
    return {**summary, "resources": runs[0]["resources"], "modules": runs[0].get("modules", [])}


def _row(label: str, plan: dict[str, Any], floor: dict[str, Any], typed: dict[str, Any]) -> str:
    program = plan["total"] - plan["import"] - plan["submodules"]
    floor_registration = floor["total"] - floor["import"]
    typed_registration = typed["total"] - typed["import"]
    return (f"{label:<20} {plan['resources']:>5} {plan['total']:>7.2f} {floor['total']:>7.2f} "
            f"{plan['total'] / floor['total']:>6.2f}x {plan['submodules']:>7.2f} "
            f"{(plan['total'] - plan['submodules']) / floor['total']:>6.2f}x "
            f"{typed['total']:>7.2f} {(plan['total'] - plan['submodules']) / typed['total']:>6.2f}x "
            f"{program / max(plan['resources'], 1) * 1000:>7.2f} "
            f"{floor_registration / max(floor['resources'], 1) * 1000:>7.2f} "
            f"{typed_registration / max(typed['resources'], 1) * 1000:>7.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stacks", nargs="*", default=["dev", "prod"])
    parser.add_argument("--tenants", nargs="*", type=int, default=[1, 50, 500],
                        help="tenant counts to plan the prod stack with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-suite", action="store_true", help="skip the whole-suite measurement")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "plan":
            stack, tenants, preload = rest[0], int(rest[1]), [m for m in rest[2].split(",") if m]
            result = _child_plan(stack, tenants if tenants >= 0 else None, preload)
        else:
            result = _child_floor(int(rest[0]), "us-east-1", typed=kind == "typed-floor")
        print(json.dumps(result))
        return 0

    if not args.no_suite:
        suite = _suite()
        stacks = ", ".join(f"{n} {s}" for s, n in suite["by_stack"].items())
        print(f"test suite (pytest -n auto): {suite['wall']:.1f} s wall, {suite['tests']} tests passed, "
              f"{suite['plans']} plans run ({stacks}); {suite['wall'] / max(suite['plans'], 1):.2f} s per plan")
        if not suite["ok"]:
            print(f"  the suite FAILED: {suite['summary']}")
    print(f"median of {args.repeat} fresh-interpreter runs each.")
    print("floor    = import pulumi + the provider SDKs, then register as many trivial resources (same mocks)")
    print("submods  = provider submodules the program uses (pulumi_aws.ec2, .ecs, ...), which the SDKs load")
    print("           lazily on first use and the floor never touches")
    print("typed    = the same, registering a real provider class (aws.cloudwatch.LogGroup, one argument)")
    print(f"{'case':<20} {'res':>5} {'plan s':>7} {'floor s':>7} {'ratio':>7} {'submods':>7} {'w/o sub':>7} "
          f"{'typed s':>7} {'ratio':>7} {'ms/res':>7} {'floor':>7} {'typed':>7}")
    cases = [(f"stack {s}", s, -1) for s in args.stacks]
    cases += [(f"prod, {n} tenants", "prod", n) for n in args.tenants]
    tenant_runs: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    for label, stack, tenants in cases:
        modules = ",".join(_once(["plan", stack, str(tenants), ""])["modules"])
        plan = _measure(["plan", stack, str(tenants), modules], args.repeat)
        floor = _measure(["floor", str(plan["resources"])], args.repeat)
        typed = _measure(["typed-floor", str(plan["resources"])], args.repeat)
        print(_row(label, plan, floor, typed), flush=True)
        if tenants >= 0:
            tenant_runs.append((tenants, plan, typed))
    print("ratio = plan / floor; 'w/o sub' = (plan - submodule imports) / floor; second ratio = (plan -")
    print("submodule imports) / typed floor. ms/res = time per resource after all imports (program, floor, typed).")
    if len(tenant_runs) >= 2:
        (n0, p0, t0), (n1, p1, t1) = tenant_runs[0], tenant_runs[-1]
        added = p1["resources"] - p0["resources"]
        marginal = (p1["total"] - p0["total"]) / max(added, 1) * 1000
        typed_marginal = (t1["total"] - t0["total"]) / max(added, 1) * 1000
        print(f"tenants {n0} -> {n1}: +{added} resources ({added / max(n1 - n0, 1):.1f} per tenant), "
              f"{marginal:.2f} ms per added resource vs {typed_marginal:.2f} ms typed floor "
              f"({marginal / typed_marginal:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
