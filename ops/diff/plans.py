"""`python -m ops diff STACK --base REV`: what a change does to a stack, offline.

Plans STACK twice with the mock runtime -- at git revision REV (in a temporary,
detached `git worktree`, planned by a child process: `ops.diff.forked`) and at the working
tree, side by side -- and compares the two plans by URN:

* resources **added** and **removed**;
* resources **changed**, property by property (`ops/diff/compare.py`: nested paths, lists element
  by element, JSON documents in strings compared inside, numbers as written); secrets stay
  "[secret]" since the plans only ever hold the mask;
* resources **replaced**: directly, when an input the provider cannot update in place changes
  (`ops/diff/replacement.py`, a table per resource type read from the providers' source), and by
  **cascade**, when a replace-forcing input takes its value from a replaced resource (the plan
  records each input's dependencies): a new VPC takes its subnets, security groups, subnet
  groups, database cluster and proxy with it;
* **dangerous** changes first (`ops/diff/danger.py`): deleting or replacing a resource that holds
  data or carries user traffic, or losing `protect`, `retain_on_delete`, deletion protection,
  a final snapshot, or arming a tenant's DROP SCHEMA CASCADE.

A base revision that cannot be planned (unknown revision, invalid settings there, a planner
that fails) does not stop the diff: it says "base could not be planned: <reason>" and
summarises the working tree's plan instead.

Exit codes: 0 when the diff was computed (whatever it holds), 3 with `--fail-on-danger`
when it holds a dangerous change, 2 when the working tree cannot be planned.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from ops.cost.delta import cost_delta
from ops.cost.prices import PriceTableError
from ops.diff.compare import PropertyChange, as_written, compare
from ops.diff.danger import STATEFUL, TRAFFIC, halted_replacement, lost_safeties, reissued_under_same_ca, removal
from ops.diff.forked import start_ops
from ops.diff.model import Cascade, Diff, ResourceChange
from ops.diff.replacement import direct_replacements, rule_for
from ops.stackfile import ROOT

# --- the comparison ----------------------------------------------------------------------


def _cascade(new: Mapping[str, Any], old: Mapping[str, Any], replaced: dict[str, ResourceChange],
             changes: dict[str, ResourceChange]) -> None:
    """Replace every resource whose replace-forcing input takes a replaced resource's outputs, to a fixed point."""
    grew = True
    while grew:
        grew = False
        for urn, res in new.items():
            rule = rule_for(res["type"])
            if urn not in old or urn in replaced or rule is None:
                continue
            deps: dict[str, list[str]] = res.get("property_dependencies") or {}
            forcing = sorted(rule.forcing_inputs(set(res.get("inputs", {})) | set(deps)))
            hit = next(((key, src, "") for key in forcing for src in deps.get(key, []) if src in replaced), None)
            hit = hit or next(((key, src, why) for key, why in rule.follows.items() for src in deps.get(key, [])
                               if src in replaced), None)
            if hit is None:
                continue
            change = changes.get(urn) or ResourceChange("change", urn, res["type"], res["name"], res["parent"],
                                                        protect=bool(res.get("protect")))
            change.cascade = Cascade(*hit)
            changes[urn] = replaced[urn] = change
            grew = True


def _knock_on(new: Mapping[str, Any], old: Mapping[str, Any], gone: set[str],
              changes: Mapping[str, ResourceChange]) -> dict[str, ResourceChange]:
    """Kept resources (not replaced) with an input that reads a replaced or removed resource."""
    found: dict[str, ResourceChange] = {}
    for urn, res in sorted(new.items()):
        if urn not in old or (urn in changes and changes[urn].replaced):
            continue
        deps: dict[str, list[str]] = res.get("property_dependencies") or {}
        hits = [(key, src) for key, sources in sorted(deps.items()) for src in sources if src in gone]
        if not hits:
            continue
        change = ResourceChange("change", urn, res["type"], res["name"], res["parent"],
                                protect=bool(res.get("protect")))
        inputs = ", ".join(dict.fromkeys(key for key, _ in hits))
        change.reads_replaced = Cascade(inputs, hits[0][1], "updated in place")
        found[urn] = change
    return found


def _hazards(change: ResourceChange, was: Mapping[str, Any], res: Mapping[str, Any],
             replaced: set[str]) -> list[str]:
    hazards: list[str] = []
    what = STATEFUL.get(change.type) or TRAFFIC.get(change.type)
    if change.replaced and what:
        hazards.append(f"{change.replacement_reason()}: {what}")
    reissued = reissued_under_same_ca(change.type, res.get("property_dependencies") or {}, replaced) \
        if change.replaced else None
    if reissued:
        hazards.append(f"{change.replacement_reason()}: {reissued}")
    # the base's inputs: the cluster being replaced is the one RDS must delete (the head may turn it off)
    halted = halted_replacement(change.type, was.get("inputs", {})) if change.replaced else None
    if halted:
        hazards.append(halted)
    if was.get("protect") and not res.get("protect"):
        hazards.append("`protect` lifted")
    if was.get("retain_on_delete") and not res.get("retain_on_delete"):
        hazards.append("`retain_on_delete` lost: removing it later deletes it")
    return hazards + lost_safeties(change.type, was.get("inputs", {}), res.get("inputs", {}))


def _ignored(path: str, ignore_changes: Iterable[str]) -> bool:
    """Whether `path` (e.g. `a[0].b`) falls under one of the resource's `ignore_changes` paths."""
    return any(path == i or path.startswith((i + ".", i + "[")) for i in ignore_changes)


def diff_plans(stack: str, base: Mapping[str, Any] | None, head: Mapping[str, Any], base_label: str = "base",
               base_note: str = "") -> Diff:
    """Compare two `Plan.as_json()` documents (`base` None: the stack did not exist there)."""
    old = {r["urn"]: r for r in (base or {}).get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    diff = Diff(stack, base_label, base_note)
    changes: dict[str, ResourceChange] = {}
    for urn, res in new.items():
        if urn not in old:
            changes[urn] = ResourceChange("add", urn, res["type"], res["name"], res["parent"],
                                          protect=bool(res.get("protect")))
            continue
        was = old[urn]
        # `ignore_changes` inputs keep their old value in a real `pulumi up`: no change, no replacement
        props = [p for p in compare(was.get("inputs", {}), res.get("inputs", {}))
                 if not _ignored(p.path, res.get("ignore_changes") or ())]
        for option in ("protect", "retain_on_delete"):
            if bool(was.get(option)) != bool(res.get(option)):
                props.append(PropertyChange(f"({option})", bool(was.get(option)), bool(res.get(option))))
        if props:
            paths = direct_replacements(res["type"], was.get("inputs", {}), res.get("inputs", {}),
                                        [p.path for p in props])
            changes[urn] = ResourceChange("change", urn, res["type"], res["name"], res["parent"], props, paths,
                                          protect=bool(res.get("protect")))
    _cascade(new, old, {u: c for u, c in changes.items() if c.replaced}, changes)
    replaced = {u for u, c in changes.items() if c.replaced}
    for urn, change in changes.items():
        if change.kind == "change":
            change.hazards = _hazards(change, old[urn], new[urn], replaced)
    for urn, res in old.items():
        if urn not in new:
            change = ResourceChange("remove", urn, res["type"], res["name"], res["parent"],
                                    protect=bool(res.get("protect")))
            dangerous, change.note = removal(res["type"], res.get("inputs", {}), bool(res.get("retain_on_delete")),
                                             change.protect)
            change.hazards = [change.note] if dangerous else []
            changes[urn] = change
    # by URN: the plans list resources in the order the SDK's threads registered them, which varies run to run
    diff.changes = sorted(changes.values(), key=lambda c: c.urn)
    gone = {c.urn for c in diff.changes if c.replaced or c.kind == "remove"}
    diff.knock_on = _knock_on(new, old, gone, changes)
    _pair_renames(diff)
    diff.outputs = compare((base or {}).get("outputs", {}), head.get("outputs", {}))
    return diff


def _pair_renames(diff: Diff) -> None:
    """One resource of a type removed and one of that type added: most likely a rename (delete + create)."""
    removed: dict[str, list[ResourceChange]] = {}
    added: dict[str, list[ResourceChange]] = {}
    for change in diff.changes:
        if change.kind in ("add", "remove"):
            (added if change.kind == "add" else removed).setdefault(change.type, []).append(change)
    for token, gone in removed.items():
        new = added.get(token, [])
        if len(gone) == 1 and len(new) == 1:
            new[0].renamed_from = gone[0].urn


def head_only(stack: str, head: Mapping[str, Any], base_label: str, error: str) -> Diff:
    """The diff when the base could not be planned: the reason, and what the working tree declares."""
    diff = Diff(stack, base_label, base_error=error)
    diff.head_types = dict(sorted(Counter(r["type"] for r in head.get("resources", []) if r.get("custom")).items()))
    return diff


# --- planning both sides -----------------------------------------------------------------


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


class DiffError(Exception):
    """The base side of the diff could not be planned (bad revision, a plan that fails there)."""


class UnknownRevisionError(DiffError):
    """`--base` names nothing git can resolve: an operator's typo, not a base that fails to plan."""


@contextmanager
def worktree_at(rev: str, repo: Path = ROOT) -> Iterator[Path]:
    """A temporary detached worktree of `rev`; removed afterwards, even on error. Yields the project dir in it."""
    top = _git("rev-parse", "--show-toplevel", cwd=repo)
    if top.returncode != 0:
        raise DiffError(f"{repo} is not inside a git repository: {top.stderr.strip()}")
    toplevel = Path(top.stdout.strip())
    commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=repo)
    if commit.returncode != 0:
        raise UnknownRevisionError(f"unknown git revision '{rev}'")
    with tempfile.TemporaryDirectory(prefix="floyo-diff-") as tmp:
        tree = Path(tmp) / "base"
        added = _git("worktree", "add", "--detach", str(tree), commit.stdout.strip(), cwd=repo)
        if added.returncode != 0:
            raise DiffError(f"git worktree add failed: {added.stderr.strip()}")
        try:
            yield tree / repo.resolve().relative_to(toplevel.resolve())
        finally:
            _git("worktree", "remove", "--force", str(tree), cwd=repo)
            _git("worktree", "prune", cwd=repo)


def _reason(stderr: str) -> str:
    """Why a plan failed, on one line: its `error:` line, else the exception a traceback ends with."""
    lines = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    if errors:
        return errors[0].removeprefix("error:").strip()
    raised = [i for i, line in enumerate(lines) if re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", line)]
    tail = lines[raised[-1]:] if raised else lines[-1:]
    return " ".join(line.strip() for line in tail) or "no output"


def _plan_json(result: subprocess.CompletedProcess[str], stack: str, rev: str) -> dict[str, Any]:
    """The plan a finished `python -m ops plan STACK --json` printed, or why there is none."""
    if result.returncode != 0:
        raise DiffError(f"planning Pulumi.{stack}.yaml at `{rev}` failed: {_reason(result.stderr)}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError as exc:
        raise DiffError(f"planning '{stack}' at `{rev}` printed no plan: {exc}") from exc


BasePlan = tuple[dict[str, Any] | None, str]
"""The base's plan (None: the stack or the planner did not exist there) and a note saying why."""


@contextmanager
def base_planning(stack: str, rev: str, repo: Path = ROOT) -> Iterator[Callable[[], BasePlan]]:
    """Start planning `stack` at `rev` (`python -m ops plan STACK --json` in a worktree of `rev`, in a
    child process: `ops.diff.forked`); yields the function that waits for its plan. The caller plans the
    working tree meanwhile, so the two plans run side by side."""
    with worktree_at(rev, repo) as project:
        if not (project / "ops" / "__main__.py").is_file():
            yield lambda: (None, f"`{rev}` has no offline planner (ops/): the base is treated as empty")
            return
        if not (project / f"Pulumi.{stack}.yaml").is_file():
            yield lambda: (None, f"`{rev}` has no Pulumi.{stack}.yaml: the base is treated as empty (a new stack)")
            return
        with tempfile.TemporaryDirectory(prefix="floyo-base-plan-") as scratch:
            child = start_ops(project, ["plan", stack, "--json"], Path(scratch))
            try:
                yield lambda: (_plan_json(child.wait(), stack, rev), "")
            finally:
                child.kill()  # when the working tree failed to plan; nothing once the child was waited for


def _raise(exc: Exception) -> BasePlan:
    raise exc


def diff_against(stack: str, rev: str, repo: Path = ROOT) -> Diff:
    """The diff of `stack` from git revision `rev` to the working tree of `repo`.

    Raises what planning the working tree raises, and `UnknownRevisionError` when git cannot resolve
    `rev` (nothing to compare with: exit 2); a base that resolves but cannot be planned gives a
    `Diff` with `base_error` set and the working tree's plan summarised. The base is planned in a
    child process while this one plans the working tree. The working tree's stack file is read and
    validated first (`load_stack`, the one loader): a file it refuses is refused before any git work
    or child process."""
    # the SDKs, imported before the base's child starts: it inherits them
    from ops.plan.planner import plan_config, project_name
    from ops.stackfile import load_stack

    project = project_name(repo)
    config, _ = load_stack(stack, repo, project)
    with ExitStack() as scope:
        try:
            result = scope.enter_context(base_planning(stack, rev, repo))
        except DiffError as exc:  # raised again below, once the working tree's own errors had their turn
            result = partial(_raise, exc)
        head = as_written(plan_config(config, repo / "__main__.py", project).as_json())
        try:
            base, note = result()
        except UnknownRevisionError:
            raise
        except DiffError as exc:
            return head_only(stack, head, rev, str(exc))
    diff = diff_plans(stack, base, head, base_label=rev, base_note=note)
    try:
        diff.cost = cost_delta(stack, base, head, repo)
    except PriceTableError as exc:
        diff.cost_note = f"no cost delta: {exc}"
    return diff
