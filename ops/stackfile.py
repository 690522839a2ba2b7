"""Read `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program.

Whatever the file holds, reading it either works or raises one `StackFileError` naming the
file (and the line, where there is one): never a traceback.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from stacks.base import PROJECT
from stacks.errors import Problem, SettingsError
from stacks.loader import offline_placeholder, secure_paths_in

ROOT = Path(__file__).resolve().parent.parent
"""The Pulumi project directory (holds Pulumi.yaml)."""


class UnknownStackError(Exception):
    """No `Pulumi.<stack>.yaml` exists for the requested stack."""


class StackFileError(Exception):
    """A stack file that is not YAML, or not shaped like a Pulumi stack file."""


@dataclass(frozen=True)
class StackConfig:
    """A stack's config as the engine passes it: every value a string, objects as JSON."""

    stack: str
    values: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)
    """Top-level keys holding a `secure:` value (what the engine marks secret)."""
    secure_paths: list[str] = field(default_factory=list)
    """Exact paths of the `secure:` values, e.g. `floyo-infra:monitoring.webhook_url`."""

    @property
    def region(self) -> str:
        return self.values.get("aws:region", "us-east-1")


def known_stacks(root: Path = ROOT) -> list[str]:
    """Stacks that have a settings file in `root`."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _unsecure(value: Any, path: str) -> Any:
    """Swap `secure:` ciphertexts (which need the stack's key) for placeholders shaped for their field."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return offline_placeholder(path)
        return {k: _unsecure(v, f"{path}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecure(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, default=str)  # dates and other YAML scalars become strings


def _line(node: Any, key: Any) -> str:
    """`:<line>` of `key` in a round-trip node, or ''."""
    try:
        return f":{node.lc.key(key)[0] + 1}"
    except (AttributeError, KeyError, TypeError):
        return ""


def shown(path: Path) -> str:
    """How messages name a stack file: relative to the repository when inside it (`baseline/Pulumi.x.yaml`),
    else by its name (a `--stack-dir` elsewhere)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return path.name


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise StackFileError(f"{shown(path)}: cannot read it: {exc.strerror or exc}") from None


def load_document(path: Path) -> dict[str, Any]:
    """The YAML document of a stack file: a mapping (empty when the file is empty)."""
    return _parse(path, _read(path))


def _parse(path: Path, text: str) -> dict[str, Any]:
    yaml = YAML(typ="rt")
    try:
        doc = yaml.load(text)
    except Exception as exc:  # any parser error becomes one message
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise StackFileError(f"{shown(path)}{where}: not valid YAML: {problem}") from None
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise StackFileError(f"{shown(path)}: must be a mapping with a `config:` key, got {type(doc).__name__}")
    return doc


def read_document_config(path: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file as plain data, checked for shape (a copy: the caller may change it).

    A file read again with the same text is not parsed again: the round-trip parser (pure Python, kept for the
    line numbers of its errors) takes ~3 ms per stack file, and reading one stack also reads every other stack
    file for `zone_clash`; the test suite reads the committed files hundreds of times per process. Keyed by the
    path and the whole text, so an edited file is always parsed afresh; a refusal is never remembered."""
    return copy.deepcopy(_document_config(path, _read(path)))


@functools.lru_cache(maxsize=16)
def _document_config(path: Path, text: str) -> dict[str, Any]:
    doc = _parse(path, text)
    config = doc.get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackFileError(f"{shown(path)}{_line(doc, 'config')}: `config:` must be a mapping of "
                             f"`namespace:key: value` lines, got a {_kind(config)}")
    for key in config:
        if not isinstance(key, str) or ":" not in key:
            raise StackFileError(f"{shown(path)}{_line(config, key)}: config key {key!r} must be "
                                 f"`namespace:name`, e.g. `{PROJECT}:backend` or `aws:region`")
    return _plain(config)


def _kind(value: Any) -> str:
    return "list" if isinstance(value, list) else type(value).__name__


def _plain(value: Any) -> Any:
    """Round-trip nodes as plain dicts, lists and scalars."""
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, (str, int, float, bool)) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return value


def _zone(config: dict[str, Any]) -> str | None:
    cdn = config.get(f"{PROJECT}:cdn")
    zone = cdn.get("zone") if isinstance(cdn, dict) else None
    return zone if isinstance(zone, str) else None


def zone_clash(stack: str, root: Path, zone: str | None) -> list[Problem]:
    """Another stack file in `root` naming the same `cdn.zone` (each stack owns its zone's rulesets)."""
    if zone is None:
        return []
    owners = []
    for other in known_stacks(root):
        if other == stack:
            continue
        try:
            theirs = _zone(read_document_config(root / f"Pulumi.{other}.yaml"))
        except StackFileError:
            continue  # reported when that stack is read
        if theirs == zone:
            owners.append(f"Pulumi.{other}.yaml")
    if not owners:
        return []
    return [Problem(f"{PROJECT}:cdn.zone", repr(zone),
                    f"{', '.join(owners)} already uses this zone; the zone-wide configuration (SSL mode, cache, "
                    "WAF and rate limit rulesets, one per zone and phase) belongs to one stack, so give each "
                    "stack its own zone")]


def read_stack_config(stack: str, root: Path = ROOT) -> StackConfig:
    """The config of `stack`, with secrets replaced by placeholders.

    Raises `UnknownStackError` (no such file), `StackFileError` (not YAML, wrong shape) or
    `SettingsError` (its zone is another stack file's).
    """
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(known_stacks(root)) or "none"
        raise UnknownStackError(f"unknown stack '{stack}': no {path.name} (known stacks: {known})")
    config = read_document_config(path)
    clash = zone_clash(stack, root, _zone(config))
    if clash:
        raise SettingsError(stack, clash)
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    secure_paths: list[str] = []
    for key, raw in config.items():
        values[key] = _as_config_string(_unsecure(raw, key))
        found = secure_paths_in({"config": {key: raw}})
        if found:
            secret_keys.append(key)
            secure_paths += found
    return StackConfig(stack, values, secret_keys, secure_paths)


def project_root(project: str) -> Path:
    """Where the stack files of `project` live: the repository root, or the baseline's folder."""
    from stacks.baseline import BASELINE_PROJECT

    return ROOT / "baseline" if project == BASELINE_PROJECT else ROOT


def project_of(root: Path) -> str:
    """The Pulumi project whose stack files `root` holds: its Pulumi.yaml's `name`, or the app's when `root` is
    a stack directory of its own (`--stack-dir`)."""
    manifest = root / "Pulumi.yaml"
    if manifest.is_file():
        name = load_document(manifest).get("name")
        if isinstance(name, str):
            return name
    return PROJECT


def load_stack(stack: str, stack_dir: Path = ROOT, project: str | None = None) -> tuple[StackConfig, Any]:
    """The one loader every command uses: `Pulumi.<stack>.yaml` in `stack_dir`, read and validated with its
    project's settings (the app's `StackSettings`, or the baseline's `BaselineSettings`).

    Raises `UnknownStackError`, `StackFileError` or `SettingsError`; `python -m ops` turns each into one
    message naming the file, and exit code 2.
    """
    from stacks.baseline import BASELINE_PROJECT, load_baseline_settings
    from stacks.loader import load_settings

    config = read_stack_config(stack, stack_dir)
    if (project or project_of(stack_dir)) == BASELINE_PROJECT:
        return config, load_baseline_settings(stack, config.values, config.secret_keys, config.secure_paths)
    return config, load_settings(stack, config.values, config.secret_keys, config.secure_paths)
