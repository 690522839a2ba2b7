"""`python -m ops diff STACK --base REV`: what a change does to a stack, offline.

Plans STACK twice with the mock runtime -- at git revision REV (in a temporary,
detached `git worktree`, planned by a subprocess of the same interpreter) and at the
working tree -- and compares the two plans by URN:

* resources **added** and **removed**;
* resources **changed**, property by property (nested paths such as
  `containerDefinitions[backend].healthCheck.command`; JSON documents held in strings
  such as container definitions and IAM policies are compared inside); secrets stay
  "[secret]" since the plans only ever hold the mask;
* **dangerous** changes first: deleting or replacing a stateful resource (database
  cluster or instance, replication group, KMS key, bucket, ECR repository, secrets,
  PostgreSQL databases and schemas).

No provider runs offline, so nothing tells us which property forces a replacement.
`REPLACE_ON` is a small table of those properties per stateful type, taken from the
providers' schemas ("Forces new resource" / ForceNew in the upstream Terraform
providers that pulumi-aws, pulumi-postgresql and pulumi-random bridge). A changed URN
(a rename or a new parent) of a stateful type is a delete plus a create, so it is
dangerous too. The real `pulumi preview --diff` remains the authority; this diff is the
reviewable, credential-free first look (it works for pull requests from forks).

Exit codes: 0 when the diff was computed (whatever it holds), 3 with `--fail-on-danger`
when it holds a dangerous change, 2 when a plan fails (invalid settings, unknown stack).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.stackfile import ROOT

MARKER = "<!-- floyo-diff:{stack} -->"
"""First line of the markdown body: the PR workflow finds a stack's comment by this exact line."""

GITHUB_COMMENT_LIMIT = 65536
"""GitHub's maximum issue/PR comment body, in characters."""

DEFAULT_MAX_CHARS = 60000
"""Default budget of `--format markdown`: below GitHub's limit with room to spare."""

VALUE_CHARS = 240
"""Longest rendering of one before/after value; longer values are shortened with "..."."""

EVERYTHING = "*"

REPLACE_ON: dict[str, frozenset[str]] = {
    "aws:rds/cluster:Cluster": frozenset({
        "engine", "engineMode", "clusterIdentifier", "clusterIdentifierPrefix", "storageEncrypted", "kmsKeyId",
        "databaseName", "masterUsername", "availabilityZones", "dbSubnetGroupName", "snapshotIdentifier",
        "sourceRegion", "restoreToPointInTime", "s3Import",
    }),
    "aws:rds/clusterInstance:ClusterInstance": frozenset({
        "clusterIdentifier", "identifier", "identifierPrefix", "engine", "availabilityZone", "dbSubnetGroupName",
        "performanceInsightsKmsKeyId",
    }),
    "aws:elasticache/replicationGroup:ReplicationGroup": frozenset({
        "replicationGroupId", "atRestEncryptionEnabled", "kmsKeyId", "subnetGroupName", "engine",
        "snapshotArns", "snapshotName", "dataTieringEnabled", "networkType", "globalReplicationGroupId",
        "preferredCacheClusterAzs",
    }),
    "aws:elasticache/serverlessCache:ServerlessCache": frozenset({"name", "engine", "kmsKeyId", "subnetIds"}),
    "aws:kms/key:Key": frozenset({"customerMasterKeySpec", "keyUsage", "customKeyStoreId", "multiRegion", "xksKeyId"}),
    "aws:s3/bucket:Bucket": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    "aws:s3/bucketV2:BucketV2": frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}),
    "aws:ecr/repository:Repository": frozenset({"name", "encryptionConfigurations"}),
    "aws:secretsmanager/secret:Secret": frozenset({"name", "namePrefix"}),
    "aws:secretsmanager/secretVersion:SecretVersion": frozenset({"secretId", "secretString", "secretBinary"}),
    "postgresql:index/database:Database": frozenset({"name", "lcCollate", "lcCtype", "template", "encoding"}),
    "postgresql:index/schema:Schema": frozenset({"database"}),
    "random:index/randomPassword:RandomPassword": frozenset({EVERYTHING}),
    "random:index/randomString:RandomString": frozenset({EVERYTHING}),
}
"""Stateful resource types -> input properties whose change replaces the resource.

Every type listed is stateful: deleting it loses data (or a key that data is encrypted
with, or a credential in use), so its removal or replacement is dangerous. `*` means any
input change replaces it (pulumi-random: every input is ForceNew)."""

STATEFUL = frozenset(REPLACE_ON)


# --- the comparison ----------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyChange:
    """One property that differs: `before`/`after` are None when the key is absent."""

    path: str
    before: Any
    after: Any


@dataclass
class ResourceChange:
    """A resource added, removed or changed."""

    kind: str  # "add" | "remove" | "change"
    urn: str
    type: str
    name: str
    parent: str
    properties: list[PropertyChange] = field(default_factory=list)
    replace_paths: list[str] = field(default_factory=list)
    protect: bool = False
    renamed_from: str | None = None

    @property
    def stateful(self) -> bool:
        return self.type in STATEFUL

    @property
    def replaced(self) -> bool:
        return bool(self.replace_paths)

    @property
    def dangerous(self) -> bool:
        return self.stateful and (self.kind == "remove" or self.replaced)

    def danger_reason(self) -> str:
        if self.kind == "remove":
            why = "deleted"
            if self.protect:
                why += " (protected: `pulumi up` will refuse until `protect` is lifted)"
            return why
        return "replaced (delete + create) because " + ", ".join(f"`{p}`" for p in self.replace_paths) + " changed"


@dataclass
class Diff:
    """Two plans of one stack, compared."""

    stack: str
    base: str
    base_note: str = ""
    changes: list[ResourceChange] = field(default_factory=list)
    outputs: list[PropertyChange] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[ResourceChange]:
        return [c for c in self.changes if c.kind == kind]

    @property
    def dangerous(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.dangerous]

    @property
    def empty(self) -> bool:
        return not self.changes and not self.outputs

    def as_json(self) -> dict[str, Any]:
        def change(c: ResourceChange) -> dict[str, Any]:
            return {"kind": c.kind, "urn": c.urn, "type": c.type, "name": c.name, "parent": c.parent,
                    "dangerous": c.dangerous, "replace": c.replaced, "replace_paths": c.replace_paths,
                    "properties": [{"path": p.path, "before": p.before, "after": p.after} for p in c.properties]}

        return {"stack": self.stack, "base": self.base, "base_note": self.base_note,
                "changes": [change(c) for c in self.changes],
                "outputs": [{"path": p.path, "before": p.before, "after": p.after} for p in self.outputs]}


def _maybe_json(value: Any) -> Any:
    """JSON documents held in strings (policies, container definitions) -> their structure."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _named(items: list[Any]) -> dict[str, Any] | None:
    """A list of objects that each have a unique `name` (env vars, containers) -> keyed by name."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get("name"), str) for i in items):
        return None
    keyed = {i["name"]: i for i in items}
    return keyed if len(keyed) == len(items) else None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def compare(before: Any, after: Any, path: str = "") -> list[PropertyChange]:
    """Every leaf that differs between two JSON values, with its path."""
    before, after = _maybe_json(before), _maybe_json(after)
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[PropertyChange] = []
        for key in sorted(set(before) | set(after), key=str):
            found += compare(before.get(key), after.get(key), _join(path, str(key)))
        return found
    if isinstance(before, list) and isinstance(after, list):
        b_named, a_named = _named(before), _named(after)
        if b_named is not None and a_named is not None:
            found = []
            for key in [*b_named, *[k for k in a_named if k not in b_named]]:
                found += compare(b_named.get(key), a_named.get(key), f"{path}[{key}]")
            return found
        if len(before) == len(after):
            found = []
            for i, (b, a) in enumerate(zip(before, after, strict=True)):
                found += compare(b, a, f"{path}[{i}]")
            return found
    return [PropertyChange(path or "(value)", before, after)]


def _replace_paths(token: str, properties: list[PropertyChange]) -> list[str]:
    triggers = REPLACE_ON.get(token)
    if not triggers:
        return []
    hits: list[str] = []
    for prop in properties:
        top = prop.path.split(".")[0].split("[")[0]
        if (EVERYTHING in triggers or top in triggers) and top not in hits:
            hits.append(top)
    return hits


def diff_plans(stack: str, base: Mapping[str, Any] | None, head: Mapping[str, Any], base_label: str = "base",
               base_note: str = "") -> Diff:
    """Compare two `Plan.as_json()` documents (`base` None: the stack did not exist there)."""
    old = {r["urn"]: r for r in (base or {}).get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    diff = Diff(stack, base_label, base_note)
    for urn, res in new.items():
        if urn not in old:
            diff.changes.append(ResourceChange("add", urn, res["type"], res["name"], res["parent"],
                                               protect=bool(res.get("protect"))))
            continue
        was = old[urn]
        props = compare(was.get("inputs", {}), res.get("inputs", {}))
        if bool(was.get("protect")) != bool(res.get("protect")):
            props.append(PropertyChange("(protect)", bool(was.get("protect")), bool(res.get("protect"))))
        if props:
            diff.changes.append(ResourceChange("change", urn, res["type"], res["name"], res["parent"], props,
                                               _replace_paths(res["type"], props), bool(res.get("protect"))))
    for urn, res in old.items():
        if urn not in new:
            diff.changes.append(ResourceChange("remove", urn, res["type"], res["name"], res["parent"],
                                               protect=bool(res.get("protect"))))
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


# --- planning both sides -----------------------------------------------------------------


def _git(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)


class DiffError(Exception):
    """The diff could not be computed (bad revision, a plan that fails)."""


@contextmanager
def worktree_at(rev: str, repo: Path = ROOT) -> Iterator[Path]:
    """A temporary detached worktree of `rev`; removed afterwards, even on error. Yields the project dir in it."""
    top = _git("rev-parse", "--show-toplevel", cwd=repo)
    if top.returncode != 0:
        raise DiffError(f"{repo} is not inside a git repository: {top.stderr.strip()}")
    toplevel = Path(top.stdout.strip())
    commit = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", cwd=repo)
    if commit.returncode != 0:
        raise DiffError(f"unknown git revision '{rev}'")
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


def plan_json_in(project: Path, stack: str) -> dict[str, Any]:
    """`python -m ops plan STACK --json` run in `project` by this interpreter."""
    result = subprocess.run([sys.executable, "-m", "ops", "plan", stack, "--json"], cwd=project,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DiffError(f"planning '{stack}' in {project} failed:\n{result.stderr.strip()}")
    return json.loads(result.stdout)


def base_plan(stack: str, rev: str, repo: Path = ROOT) -> tuple[dict[str, Any] | None, str]:
    """The plan of `stack` at `rev`, or (None, why) when the stack or the planner did not exist there."""
    with worktree_at(rev, repo) as project:
        if not (project / "ops" / "__main__.py").is_file():
            return None, f"`{rev}` has no offline planner (ops/): the base is treated as empty"
        if not (project / f"Pulumi.{stack}.yaml").is_file():
            return None, f"`{rev}` has no Pulumi.{stack}.yaml: the base is treated as empty (a new stack)"
        return plan_json_in(project, stack), ""


def diff_against(stack: str, rev: str, repo: Path = ROOT) -> Diff:
    """The diff of `stack` from git revision `rev` to the working tree of `repo`."""
    from ops.plan import plan_stack

    base, note = base_plan(stack, rev, repo)
    head = plan_stack(stack, root=repo).as_json()
    return diff_plans(stack, base, head, base_label=rev, base_note=note)


# --- rendering ---------------------------------------------------------------------------


def _value(value: Any) -> str:
    if value is None:
        return "(absent)"
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 3] + "..."


def _component(parent: str) -> str:
    """`urn:...$floyo:backend:BackendService::backend` -> `floyo:backend:BackendService backend`."""
    if "::" not in parent:
        return "(stack)"
    head, _, name = parent.rpartition("::")
    token = head.rpartition("$")[2].rpartition("::")[2]
    return "(stack)" if token == "pulumi:pulumi:Stack" else f"{token} {name}"


SYMBOL = {"add": "+", "remove": "-", "change": "~"}


def _counts(diff: Diff) -> str:
    replaced = sum(1 for c in diff.of_kind("change") if c.replaced)
    text = (f"{len(diff.of_kind('add'))} to add, {len(diff.of_kind('change'))} to change, "
            f"{len(diff.of_kind('remove'))} to remove")
    return text + (f" ({replaced} replaced)" if replaced else "")


def _resource_lines(change: ResourceChange) -> list[str]:
    flag = "  [DANGEROUS: " + change.danger_reason() + "]" if change.dangerous else ""
    if not change.dangerous and change.replaced:
        flag = "  [replaced]"
    lines = [f"{SYMBOL[change.kind]} {change.type}  {change.name}{flag}"]
    if change.renamed_from:
        lines.append(f"    (looks like a rename of {change.renamed_from}: delete + create, not a move)")
    for prop in change.properties:
        lines.append(f"    {prop.path}: {_value(prop.before)} -> {_value(prop.after)}")
    return lines


def _grouped(diff: Diff) -> dict[str, list[ResourceChange]]:
    groups: dict[str, list[ResourceChange]] = {}
    for change in sorted(diff.changes, key=lambda c: (not c.dangerous, c.kind != "remove", c.kind != "change")):
        groups.setdefault(_component(change.parent), []).append(change)
    return groups


def render_text(diff: Diff) -> str:
    """The diff for a terminal: dangerous changes first, then each component's changes."""
    lines = [f"offline diff of stack '{diff.stack}': {diff.base} -> working tree"]
    if diff.base_note:
        lines.append(f"note: {diff.base_note}")
    if diff.empty:
        lines.append("no changes")
        return "\n".join(lines)
    lines.append(_counts(diff))
    if diff.dangerous:
        lines.append("")
        lines.append(f"DANGEROUS ({len(diff.dangerous)}): stateful resources deleted or replaced")
        lines += [f"  ! {c.type}  {c.name}: {c.danger_reason()}" for c in diff.dangerous]
    for component, changes in _grouped(diff).items():
        lines.append("")
        lines.append(f"{component}:")
        for change in changes:
            lines += ["  " + line for line in _resource_lines(change)]
    if diff.outputs:
        lines.append("")
        lines.append("outputs:")
        lines += [f"  ~ {p.path}: {_value(p.before)} -> {_value(p.after)}" for p in diff.outputs]
    return "\n".join(lines)


def _fence(lines: list[str]) -> str:
    body = "\n".join(lines).replace("```", "`\u200b``")
    return f"```diff\n{body}\n```"


def render_markdown(diff: Diff, max_chars: int = DEFAULT_MAX_CHARS, command: str = "") -> str:
    """A PR comment body: marker line, summary, dangerous list, then a folded block per component.

    Never longer than `max_chars`: whole component blocks are dropped from the end (and
    the dangerous list shortened if it alone is too long), with a note saying what was cut.
    """
    marker = MARKER.format(stack=diff.stack)
    head = [marker, f"### Offline diff: `{diff.stack}`", "",
            f"Desired state at `{diff.base}` -> this change, planned offline (no cloud calls)."]
    if diff.base_note:
        head.append(f"_Note: {diff.base_note}_")
    head.append("")
    if diff.empty:
        return "\n".join([*head, "**No changes.**"])[:max_chars]
    head.append(f"**{_counts(diff)}**" + (f", {len(diff.outputs)} output(s) changed" if diff.outputs else ""))
    danger = diff.dangerous
    danger_lines: list[str] = []
    if danger:
        danger_lines = ["", f"> [!CAUTION]\n> **{len(danger)} dangerous change(s)**: stateful resources deleted "
                            "or replaced. Data may be lost; check before merging.", ""]
        danger_lines += [f"- :warning: `{c.type}` **{c.name}**: {c.danger_reason()}" for c in danger]
    else:
        danger_lines = ["", "No stateful resource is deleted or replaced."]
    blocks: list[str] = []
    for component, changes in _grouped(diff).items():
        lines: list[str] = []
        for change in changes:
            lines += _resource_lines(change)
        mark = " :warning:" if any(c.dangerous for c in changes) else ""
        blocks.append(f"<details><summary><code>{component}</code>: {len(changes)} resource(s){mark}</summary>\n\n"
                      f"{_fence(lines)}\n\n</details>")
    if diff.outputs:
        lines = [f"~ {p.path}: {_value(p.before)} -> {_value(p.after)}" for p in diff.outputs]
        blocks.append(f"<details><summary>Stack outputs: {len(diff.outputs)}</summary>\n\n{_fence(lines)}\n\n</details>")
    footer = ("", "<sub>Replacement is inferred from a table of replace-triggering properties (`ops/diff.py`); "
                  "`pulumi preview --diff` is the authority." + (f" Full diff: `{command}`." if command else "") + "</sub>")

    def assemble(d_lines: list[str], kept: list[str], cut_note: str) -> str:
        parts = [*head, *d_lines, ""]
        parts += kept
        if cut_note:
            parts += ["", cut_note]
        return "\n".join([*parts, *footer])

    def cut_note(cut: int) -> str:
        if not cut:
            return ""
        return (f"**Truncated:** {cut} of {len(blocks)} detail block(s) not shown to fit GitHub's comment limit "
                f"({GITHUB_COMMENT_LIMIT} characters)." + (f" Run `{command}` for everything." if command else ""))

    kept: list[str] = []
    for block in blocks:
        if len(assemble(danger_lines, [*kept, block], cut_note(len(blocks) - len(kept) - 1))) > max_chars:
            break
        kept.append(block)
    body = assemble(danger_lines, kept, cut_note(len(blocks) - len(kept)))
    shown = len(danger)
    while len(body) > max_chars and shown > 0:
        shown = shown // 2
        listed = danger_lines[:3 + shown]
        listed = [*listed, f"- ... and {len(danger) - shown} more dangerous change(s), not listed to fit the limit"]
        body = assemble(listed, kept, cut_note(len(blocks) - len(kept)))
    return body[:max_chars]
