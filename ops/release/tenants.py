"""`python -m ops tenants STACK list|add|remove|drop`: manage a stack's tenants in `Pulumi.<stack>.yaml`.

Each command edits the file in place with ruamel.yaml's round-trip mode, so comments, key order and
indentation stay as they were and only the tenant's lines change. The file is validated by the one
loader (`ops.stackfile.load_stack`) before any edit starts, and the new file with the same settings
code `pulumi up` runs (`stacks.load_settings`) before anything is written, and the offline diff it
causes is printed: the stack is planned before and after, in-process, with the mock runtime
(`ops.plan.planner.plan_config`) and compared with `ops.diff.plans.diff_plans` (about two plans' time;
`--no-diff` skips it). A large diff is summarized per resource type.

Exit codes: 0 done, 2 bad input (unknown stack or slug, duplicate, invalid value, a stack file already invalid),
nothing written.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from ops.stackfile import ROOT, StackConfig, load_stack, read_stack_config
from stacks import load_settings
from stacks.base import PROJECT
from stacks.errors import SettingsError

if TYPE_CHECKING:
    from ops.diff.model import Diff

KEY = f"{PROJECT}:tenants"
DETAIL_LIMIT = 30
"""Longest diff printed change by change; a larger one is summarized by kind and type."""


class TenantsError(Exception):
    """Bad input: one clear message, exit 2, nothing written."""


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments, order, quoting
    yaml.width = 4096  # never re-wrap a long line (image digests)
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.preserve_quotes = True
    return yaml


@dataclass
class StackFile:
    """A stack file loaded for a round-trip edit."""

    stack: str
    path: Path
    text: str
    document: Any
    config: StackConfig
    """The file's config as read by the one loader, before any edit."""
    settings: Any
    """Its validated settings (`stacks.settings.StackSettings`)."""

    @classmethod
    def load(cls, stack: str, stack_dir: Path) -> StackFile:
        """Validate the file with the one loader before anything reads it for an edit: a missing, malformed or
        invalid file (a `tenants:` mapping included) raises `UnknownStackError`, `StackFileError` or
        `SettingsError`, which `python -m ops` reports naming the file, exit 2; an edit never starts on it, and
        a file already invalid is not blamed on the edit."""
        path = stack_dir / f"Pulumi.{stack}.yaml"
        config, settings = load_stack(stack, stack_dir, PROJECT)
        text = path.read_text()
        document = _yaml().load(text)
        return cls(stack, path, text, document if document is not None else CommentedMap(), config, settings)

    def tenants(self, create: bool = False) -> CommentedSeq:
        config = self.document.setdefault("config", CommentedMap()) if create else self.document.get("config", {})
        found = config.get(KEY) if config else None
        if found is None and create:
            found = config[KEY] = CommentedSeq()
        return found if found is not None else CommentedSeq()

    def render(self) -> str:
        out = io.StringIO()
        _yaml().dump(self.document, out)
        return out.getvalue()

    def config_of(self, text: str) -> StackConfig:
        """The config `text` would give, read exactly as `ops plan` and the tests read a stack file."""
        with tempfile.TemporaryDirectory(prefix="floyo-tenants-") as tmp:
            (Path(tmp) / self.path.name).write_text(text)
            return read_stack_config(self.stack, Path(tmp))


def _index(tenants: CommentedSeq, slug: str, stack: str) -> int:
    for i, entry in enumerate(tenants):
        if isinstance(entry, dict) and entry.get("slug") == slug:
            return i
    known = ", ".join(str(e.get("slug")) for e in tenants if isinstance(e, dict)) or "none"
    raise TenantsError(f"stack '{stack}' has no tenant '{slug}' (tenants: {known})")


def _parse_flags(flags: list[str]) -> dict[str, bool]:
    parsed: dict[str, bool] = {}
    for item in flags:
        name, sep, value = item.partition("=")
        if not sep or value.lower() not in ("true", "false"):
            raise TenantsError(f"--flag {item!r}: expected NAME=true or NAME=false")
        parsed[name] = value.lower() == "true"
    return parsed


def _validate(file: StackFile, text: str) -> StackConfig:
    config = file.config_of(text)
    try:
        load_settings(config.stack, config.values, config.secret_keys, config.secure_paths)
    except SettingsError as exc:
        raise TenantsError(f"the change would make {file.path.name} invalid; nothing written.\n{exc}") from None
    return config


def render(diff: Diff) -> str:
    """The diff in full when it is short; else one line per (kind, type) with its count, dangerous first."""
    from ops.diff.render import render_text

    if len(diff.changes) <= DETAIL_LIMIT:
        return render_text(diff).replace("working tree", "after this change", 1)
    lines = [f"offline diff of stack '{diff.stack}' (summarized: {len(diff.changes)} resources changed)"]
    if diff.dangerous:
        names = ", ".join(c.name for c in diff.dangerous[:10]) + (" ..." if len(diff.dangerous) > 10 else "")
        lines.append(f"DANGEROUS ({len(diff.dangerous)}): stateful resources deleted or replaced: {names}")
    counts = Counter((c.kind, c.type) for c in diff.changes)
    lines += [f"  {n:>5} to {kind:<6} {token}" for (kind, token), n in sorted(counts.items())]
    return "\n".join(lines)


def _diff(before: StackConfig, after: StackConfig) -> str:
    from ops.diff.plans import diff_plans
    from ops.plan.planner import plan_config

    return render(diff_plans(before.stack, plan_config(before).as_json(), plan_config(after).as_json(),
                             base_label="before"))


def _write(file: StackFile, before: StackConfig, show_diff: bool) -> list[str]:
    text = file.render()
    after = _validate(file, text)
    file.path.write_text(text)
    return [_diff(before, after)] if show_diff else ["(offline diff skipped: --no-diff)"]


def _entry(tenant: Any, defaults: dict[str, Any]) -> str:
    limit = tenant.get("connection_limit") or defaults["connection_limit"]
    timeout = tenant.get("statement_timeout_ms") or defaults["statement_timeout_ms"]
    flags = {**defaults["feature_flags"], **dict(tenant.get("feature_flags") or {})}
    armed = "  DROP ARMED (drop_schema: true)" if tenant.get("drop_schema") else ""
    return (f"{tenant['slug']:<24} connections {limit:<5} statement_timeout_ms {timeout:<8} "
            f"flags {json.dumps(flags, sort_keys=True)}{armed}")


def run(stack: str, action: str, slug: str | None = None, *, connection_limit: int | None = None,
        statement_timeout_ms: int | None = None, flags: list[str] | None = None, stack_dir: Path | None = None,
        show_diff: bool = True) -> list[str]:
    """Carry out one command; returns the lines to print. Raises TenantsError, or what `load_stack` raises for a
    missing, malformed or invalid file (UnknownStackError, StackFileError, SettingsError)."""
    try:
        file = StackFile.load(stack, stack_dir or ROOT)
    except SettingsError as exc:
        if action not in ("remove", "drop"):
            raise
        # The file is invalid before any edit (a code change tightened a limit, say), and the deploy refuses it
        # too: the tool starts only from a valid file, so say how to repair it by hand.
        path = (stack_dir or ROOT) / f"Pulumi.{stack}.yaml"
        raise TenantsError(f"{path}: {exc}\n{path.name} is invalid before any edit, so `tenants {action}` does not "
                           f"start on it: fix the value named above by hand (or delete tenant {slug!r}'s entry "
                           "yourself), then run the command again") from None
    before = file.config
    tenants = file.tenants(create=action == "add")
    if action == "list":
        defaults = file.settings.tenant_defaults.model_dump()
        lines = [_entry(t.model_dump(), defaults) for t in file.settings.tenants]
        return [*lines, f"{len(lines)} tenant(s) in {file.path.name}"]
    if slug is None:
        raise TenantsError(f"`{action}` needs a tenant SLUG")
    if action != "add" and (connection_limit is not None or statement_timeout_ms is not None or flags):
        raise TenantsError("--connection-limit, --statement-timeout-ms and --flag go with `add` only")
    if action == "add":
        if any(isinstance(e, dict) and e.get("slug") == slug for e in tenants):
            raise TenantsError(f"stack '{stack}' already has a tenant '{slug}'")
        entry = CommentedMap(slug=slug)
        if connection_limit is not None:
            entry["connection_limit"] = connection_limit
        if statement_timeout_ms is not None:
            entry["statement_timeout_ms"] = statement_timeout_ms
        if flags:
            entry["feature_flags"] = CommentedMap(_parse_flags(flags))
        tenants.append(entry)
        return [f"added tenant '{slug}' to {file.path.name}", *_write(file, before, show_diff),
                f"next: `pulumi up -s {stack}` creates its role, schema and login tenant_{slug}"]
    index = _index(tenants, slug, stack)
    armed = bool(tenants[index].get("drop_schema"))
    if action == "remove":
        if armed:
            raise TenantsError(f"tenant '{slug}' has drop_schema: true, so removing it DROPS its schema and data; "
                               f"run `python -m ops tenants {stack} drop {slug}` to confirm that, or set "
                               "drop_schema: false to keep the data")
        del tenants[index]
        return [f"removed tenant '{slug}' from {file.path.name} (its schema and data are kept)",
                *_write(file, before, show_diff),
                f"next: `pulumi up -s {stack}` drops its role and login; schema '{slug}' stays, "
                "owned by the admin"]
    if action == "drop":
        if not armed:
            tenants[index]["drop_schema"] = True
            return [f"step 1 of 2: armed drop_schema: true on tenant '{slug}' in {file.path.name}",
                    *_write(file, before, show_diff),
                    f"state: ARMED (schema '{slug}' will be dropped with every table in it once the entry is removed)",
                    f"next: take a snapshot, run `pulumi up -s {stack}` to apply the flag, then run "
                    f"`python -m ops tenants {stack} drop {slug}` again to remove the entry"]
        del tenants[index]
        return [f"step 2 of 2: removed armed tenant '{slug}' from {file.path.name}", *_write(file, before, show_diff),
                f"state: REMOVED; next: `pulumi up -s {stack}` runs DROP SCHEMA {slug} CASCADE (its data is gone "
                "after that). Only if step 1's `pulumi up` ran first: otherwise the schema is kept"]
    raise TenantsError(f"unknown action {action!r}")
