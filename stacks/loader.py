"""Turn a stack's Pulumi config into validated `StackSettings`, or one clear error."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import pulumi
from pydantic import BaseModel, SecretStr, ValidationError

from stacks.base import PROJECT, Tier
from stacks.checks import CROSS_CHECKS
from stacks.errors import Problem, SettingsError
from stacks.profiles import with_profile
from stacks.settings import StackSettings

SECRET_MASK = "[secret]"


def _parse(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text; scalars stay strings."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _path(loc: tuple[int | str, ...], raw: Any = None) -> str:
    """`floyo-infra:backend.cpu`; a list item with a `slug` (a tenant) is named by it: `tenants[acme].x`."""
    text = PROJECT + ":"
    node = raw
    for i, part in enumerate(loc):
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            slug = item.get("slug") if isinstance(item, Mapping) else None
            text += f"[{slug}]" if isinstance(slug, str) and slug else f"[{part}]"
            node = item
        else:
            text += ("." if i else "") + part
            node = node.get(part) if isinstance(node, Mapping) else None
    return text


def _model_at(loc: tuple[int | str, ...]) -> type[BaseModel] | None:
    """The settings model that owns the key at `loc` (used to list valid keys)."""
    model: Any = StackSettings
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if isinstance(model, type) else None
        if field is None:
            return None
        annotation = field.annotation
        args = getattr(annotation, "__args__", ()) or ()
        candidates = [annotation, *args]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            return None
    return model


def _is_secret_field(loc: tuple[int | str, ...]) -> bool:
    """Whether the key at `loc` is declared as a `SecretStr` (its value is never echoed)."""
    owner = _model_at(loc) if loc else None
    field = owner.model_fields.get(str(loc[-1])) if owner else None
    if field is None:
        return False
    return SecretStr in (field.annotation, *(getattr(field.annotation, "__args__", ()) or ()))


def _render(value: Any) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _problems(error: ValidationError, secret_sections: Collection[str], raw: Any = None) -> list[Problem]:
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        secret = bool(loc) and (str(loc[0]) in secret_sections or _is_secret_field(loc))
        if item["type"] == "missing":
            given = "nothing"
            allowed = "this key is required"
        else:
            given = SECRET_MASK if secret else _render(item.get("input"))
            allowed = str(item["msg"]).removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            owner = _model_at(loc)
            known = ", ".join(sorted(owner.model_fields)) if owner else "see README"
            allowed = f"unknown key; valid keys here: {known}"
        elif item["type"] == "literal_error":
            allowed = allowed.replace("Input should be", "allowed:")
        problems.append(Problem(_path(loc, raw), given, allowed))
    return problems


def load_settings(
    stack: str, config: Mapping[str, Any], secret_keys: Collection[str] = ()
) -> StackSettings:
    """Validate a stack's config (`{"floyo-infra:backend": "{...}", ...}`) against the schema.

    Keys of other namespaces (`aws:region`, `cloudflare:apiToken`) are left to their
    providers. Raises `SettingsError` listing every invalid key at once.
    """
    prefix = PROJECT + ":"
    raw = {k[len(prefix):]: _parse(v) for k, v in config.items() if k.startswith(prefix)}
    secret_sections = {k[len(prefix):].split(".")[0] for k in secret_keys if k.startswith(prefix)}
    tier: Tier = "prod" if raw.get("tier") == "prod" else "dev"
    try:
        settings = StackSettings.model_validate(with_profile(tier, raw), context={"tier": tier})
    except ValidationError as exc:
        raise SettingsError(stack, _problems(exc, secret_sections, raw)) from None
    problems = [p for check in CROSS_CHECKS for p in check(settings)]
    if problems:
        raise SettingsError(stack, problems)
    return settings


def settings_from_pulumi() -> StackSettings:
    """Load the current stack's settings from the running Pulumi program's config."""
    cfg = pulumi.runtime.config
    values: dict[str, Any] = dict(cfg.get_config_env())
    values.update(cfg.CONFIG.get())
    secret = {k for k in values if cfg.is_config_secret(k)} | set(cfg.get_config_secret_keys_env())
    return load_settings(pulumi.get_stack(), values, secret)
