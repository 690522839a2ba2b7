"""Read `Pulumi.<stack>.yaml` the way the Pulumi CLI hands config to a program."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
"""The Pulumi project directory (holds Pulumi.yaml)."""


class UnknownStackError(Exception):
    """No `Pulumi.<stack>.yaml` exists for the requested stack."""


@dataclass(frozen=True)
class StackConfig:
    """A stack's config as the engine passes it: every value a string, objects as JSON."""

    stack: str
    values: dict[str, str]
    secret_keys: list[str] = field(default_factory=list)

    @property
    def region(self) -> str:
        return self.values.get("aws:region", "us-east-1")


def known_stacks(root: Path = ROOT) -> list[str]:
    """Stacks that have a settings file in `root`."""
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in root.glob("Pulumi.*.yaml"))


def _placeholder(path: str) -> str:
    return f"offline-placeholder-secret-for-{path}"


def _unsecure(value: Any, path: str, found: list[str]) -> Any:
    """Swap `secure:` ciphertexts (which need the stack's key) for marked placeholders."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            found.append(path)
            return _placeholder(path)
        return {k: _unsecure(v, f"{path}.{k}", found) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecure(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def _as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def load_document(path: Path) -> dict[str, Any]:
    """The plain YAML document of a stack file."""
    yaml = YAML(typ="safe")
    return yaml.load(path.read_text()) or {}


def read_stack_config(stack: str, root: Path = ROOT) -> StackConfig:
    """The config of `stack`, with secrets replaced by placeholders."""
    path = root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = ", ".join(known_stacks(root)) or "none"
        raise UnknownStackError(f"unknown stack '{stack}': no {path.name} (known stacks: {known})")
    config = load_document(path).get("config") or {}
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, raw in config.items():
        found: list[str] = []
        plain = _unsecure(raw, key, found)
        values[key] = _as_config_string(plain)
        if found:
            secret_keys.append(key)
    return StackConfig(stack, values, secret_keys)
