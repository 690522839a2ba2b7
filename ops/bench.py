"""Benchmark: offline plan time of each stack next to its floor.

The floor is what any program of the same size pays under the same mock runtime:
importing the SDKs plus registering as many trivial resources. Each measurement runs
in a fresh interpreter (so imports are really paid) and is repeated; the median is
reported. Ratios matter, not seconds: these machines are noisy.

It first runs the whole test suite once (as `./run test` does, on all cores) and reports its wall
time next to the number of plans the suite ran (every `plan_config` call, in any process, appends a
line to the file named by $FLOYO_PLAN_LOG). With `--baseline REV` it first runs the suite of git
revision REV the same way (in a temporary worktree) and prints the two wall times' ratio.

    python -m ops.bench [--stacks dev prod] [--tenants 1 50 500] [--repeat 3] [--no-suite] [--baseline REV]
    python -m ops.bench --tenant-scale 2000   # only the tenant scaling case (see `tenant_scale`)
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

SCALE_TENANTS = 2000
"""The tenant count the scale budget is measured at (issue 20: 2,000 tenants)."""
SCALE_BUDGET = 3.5
"""2,000 tenants may take at most this many times prod's own plan time, measured side by side."""

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
    from ops.plan.planner import plan_config
    from ops.stackfile import read_stack_config

    plan = plan_config(read_stack_config(stack) if tenants is None else _tenant_config(stack, tenants))
    end = time.perf_counter()
    return {"total": end - start, "import": imported - start, "submodules": submodules - imported,
            "resources": len(plan.resources), "modules": _provider_modules()}


def _child_floor(count: int, region: str, typed: bool = False) -> dict[str, Any]:
    start = time.perf_counter()
    _import_sdks()
    imported = time.perf_counter()
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from ops.plan.planner import Plan, mock_runtime

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


def _tenant_config(stack: str, tenants: int) -> Any:
    from ops.stackfile import StackConfig, read_stack_config

    config = read_stack_config(stack)
    slugs = [{"slug": f"t{i:04d}"} for i in range(tenants)]
    return StackConfig(stack, {**config.values, "floyo-infra:tenants": json.dumps(slugs)}, config.secret_keys)


def _child_tenant_diff(stack: str, tenants: int) -> dict[str, Any]:
    """Plan N and N+1 tenants in one process, then time only the comparison and its rendering."""
    from ops.diff.plans import diff_plans
    from ops.diff.render import render_text
    from ops.plan.planner import plan_config

    base = plan_config(_tenant_config(stack, tenants)).as_json()
    head = plan_config(_tenant_config(stack, tenants + 1)).as_json()
    start = time.perf_counter()
    text = render_text(diff_plans(stack, base, head))
    return {"total": time.perf_counter() - start, "lines": len(text.splitlines()), "resources": len(head["resources"])}


def tenant_scale(tenants: int, repeat: int, stack: str = "prod") -> None:
    """The tenant case: plan `stack` with 1 and with `tenants` tenants, next to the typed floor of the same
    resource counts; print the marginal cost per tenant over the floor's, and the time to diff N vs N+1."""
    low = _measure(["plan", stack, "1", ""], repeat)
    modules = ",".join(_once(["plan", stack, str(tenants), ""])["modules"])
    high = _measure(["plan", stack, str(tenants), modules], repeat)
    typed_low = _measure(["typed-floor", str(low["resources"])], repeat)
    typed_high = _measure(["typed-floor", str(high["resources"])], repeat)
    added, per = high["resources"] - low["resources"], max(tenants - 1, 1)
    cost = (high["total"] - high["submodules"] - low["total"]) / per * 1000
    floor = (typed_high["total"] - typed_low["total"]) / per * 1000
    print(f"{stack}: 1 tenant {low['total']:.2f} s ({low['resources']} resources); {tenants} tenants "
          f"{high['total']:.2f} s ({high['resources']} resources, {added / per:.1f} per tenant)")
    print(f"per tenant: {cost:.2f} ms vs {floor:.2f} ms for as many typed floor resources "
          f"({cost / floor:.2f}x, +{cost - floor:.2f} ms over the floor)")
    if tenants == SCALE_TENANTS:
        prod, scale = _measure_side_by_side([["plan", stack, "-1", modules], ["plan", stack, str(tenants), modules]],
                                            repeat)
        print(scale_line(prod, scale))
    diff = _once(["tenant-diff", stack, str(tenants)])
    print(f"diff {tenants} -> {tenants + 1} tenants: compare + render {diff['total']:.2f} s, {diff['lines']} lines")


def _suite(cwd: Path | None = None) -> dict[str, Any]:
    """Run the whole test suite once (of the project in `cwd`, default this one), as `./run test` does;
    count the plans it ran."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "plans.log"
        env = {**os.environ, "FLOYO_PLAN_LOG": str(log)}
        # ./run test's bytecode plugin, in a tree that has it (an older `--baseline` revision may not)
        plugin = ["-p", "tests.bytecode_cache"] if ((cwd or Path.cwd()) / "tests" / "bytecode_cache.py").is_file() else []
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "pytest", "-n", "auto", "--dist", "worksteal", "-p", "no:cacheprovider",
                              *plugin], capture_output=True, text=True, env=env, check=False, cwd=cwd)
        wall = time.perf_counter() - start
        plans = log.read_text().splitlines() if log.exists() else []
    finals = [line for line in out.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    summary = finals[-1] if finals else out.stderr.strip()[-200:]
    passed = re.search(r"(\d+) passed", summary)
    return {"wall": wall, "plans": len(plans), "by_stack": {s: plans.count(s) for s in sorted(set(plans))},
            "tests": int(passed.group(1)) if passed else 0, "summary": summary, "ok": out.returncode == 0}


def _print_suite(label: str, suite: dict[str, Any]) -> None:
    stacks = ", ".join(f"{n} {s}" for s, n in suite["by_stack"].items())
    print(f"test suite (pytest -n auto), {label}: {suite['wall']:.1f} s wall, {suite['tests']} tests passed, "
          f"{suite['plans']} plans run ({stacks}); {suite['wall'] / max(suite['plans'], 1):.2f} s per plan")
    if not suite["ok"]:
        print(f"  the suite FAILED: {suite['summary']}")


def _baseline_suite(rev: str) -> dict[str, Any]:
    """The suite at git revision `rev`, in a temporary worktree (same interpreter and node tools)."""
    from ops.diff.plans import worktree_at
    from ops.stackfile import ROOT

    with worktree_at(rev) as tree:
        if (ROOT / "node_modules").is_dir() and not (tree / "node_modules").exists():
            (tree / "node_modules").symlink_to(ROOT / "node_modules")
        return _suite(tree)


def _once(args: list[str]) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-m", "ops.bench", "--child", *args],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    summary = {key: statistics.median(r.get(key, 0.0) for r in runs) for key in ("total", "import", "submodules")}
    return {**summary, "resources": runs[0]["resources"], "modules": runs[0].get("modules", [])}


def _measure(args: list[str], repeat: int) -> dict[str, Any]:
    return _summary([_once(args) for _ in range(repeat)])


def _measure_side_by_side(cases: list[list[str]], repeat: int) -> list[dict[str, Any]]:
    """Each case `repeat` times, interleaved (a, b, c, a, b, c, ...), so that a slow spell of a noisy
    machine weighs on every case alike; the median of each."""
    runs: list[list[dict[str, Any]]] = [[] for _ in cases]
    for _ in range(repeat):
        for i, args in enumerate(cases):
            runs[i].append(_once(args))
    return [_summary(r) for r in runs]


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
    parser.add_argument("--tenants", nargs="*", type=int, default=[1, 500, SCALE_TENANTS],
                        help="tenant counts to plan the prod stack with")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tenant-scale", type=int, default=None, metavar="N",
                        help="run only the tenant scaling case with N tenants (e.g. 2000)")
    parser.add_argument("--no-suite", action="store_true", help="skip the whole-suite measurement")
    parser.add_argument("--baseline", metavar="REV", default=None,
                        help="also run the suite at git revision REV first (a temporary worktree), and print the ratio")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, *rest = args.child
        if kind == "tenant-diff":
            print(json.dumps(_child_tenant_diff(rest[0], int(rest[1]))))
            return 0
        if kind == "plan":
            stack, tenants, preload = rest[0], int(rest[1]), [m for m in rest[2].split(",") if m]
            result = _child_plan(stack, tenants if tenants >= 0 else None, preload)
        else:
            result = _child_floor(int(rest[0]), "us-east-1", typed=kind == "typed-floor")
        print(json.dumps(result))
        return 0

    if args.tenant_scale is not None:
        tenant_scale(args.tenant_scale, args.repeat)
        return 0
    if not args.no_suite:
        baseline = _baseline_suite(args.baseline) if args.baseline else None
        suite = _suite()
        if baseline is not None:
            _print_suite(f"at {args.baseline}", baseline)
        _print_suite("working tree", suite)
        if baseline is not None:
            print(f"  working tree / {args.baseline}: {suite['wall'] / baseline['wall']:.2f}x the wall time "
                  f"({baseline['wall'] / suite['wall']:.2f}x faster), measured one after the other in this run")
    print(f"median of {args.repeat} fresh-interpreter runs each, plan and floors interleaved.")
    print("floor    = import pulumi + the provider SDKs, then register as many trivial resources (same mocks)")
    print("submods  = provider submodules the program uses (pulumi_aws.ec2, .ecs, ...), which the SDKs load")
    print("           lazily on first use and the floor never touches")
    print("typed    = the same, registering a real provider class (aws.cloudwatch.LogGroup, one argument)")
    print(f"{'case':<20} {'res':>5} {'plan s':>7} {'floor s':>7} {'ratio':>7} {'submods':>7} {'w/o sub':>7} "
          f"{'typed s':>7} {'ratio':>7} {'ms/res':>7} {'floor':>7} {'typed':>7}")
    cases = [(f"stack {s}", s, -1) for s in args.stacks]
    cases += [(f"prod, {n} tenants", "prod", n) for n in args.tenants]
    tenant_runs: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    stack_runs: dict[str, dict[str, Any]] = {}
    for label, stack, tenants in cases:
        first = _once(["plan", stack, str(tenants), ""])
        count, modules = str(first["resources"]), ",".join(first["modules"])
        plan, floor, typed = _measure_side_by_side(
            [["plan", stack, str(tenants), modules], ["floor", count], ["typed-floor", count]], args.repeat)
        print(_row(label, plan, floor, typed), flush=True)
        if tenants >= 0:
            tenant_runs.append((tenants, plan, typed))
        else:
            stack_runs[stack] = plan
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
    scale = next((p for n, p, _ in tenant_runs if n == SCALE_TENANTS), None)
    if scale is not None and "prod" in stack_runs:
        print(scale_line(stack_runs["prod"], scale))
    return 0


def scale_line(prod: dict[str, Any], scale: dict[str, Any]) -> str:
    """The tenant-scale budget: prod with SCALE_TENANTS tenants against prod as configured."""
    ratio = scale["total"] / prod["total"]
    verdict = "within" if ratio <= SCALE_BUDGET else "OVER"
    return (f"scale: prod with {SCALE_TENANTS} tenants {scale['total']:.2f} s vs prod {prod['total']:.2f} s = "
            f"{ratio:.2f}x, {verdict} the {SCALE_BUDGET}x budget")


if __name__ == "__main__":
    sys.exit(main())
