"""Turn a stack's Pulumi config into validated `StackSettings`, or one clear error."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pulumi
from pydantic import BaseModel, SecretStr, ValidationError

from stacks.base import PLACEHOLDER_MARK, PROJECT, Tier
from stacks.checks import CROSS_CHECKS
from stacks.consistency import APP_CHECKS, FLAT_KEY, Context, config_problems, nearest
from stacks.consistency import _render as _render
from stacks.doc_limits import DOCUMENT_CHECKS
from stacks.errors import Problem, SettingsError
from stacks.identity import stack_name_problems, tier_problems
from stacks.profiles import with_profile
from stacks.settings import StackSettings

SECRET_MASK = "[secret]"
PROVIDER_SECRETS = frozenset({
    "cloudflare:apiToken", "cloudflare:apiKey", "aws:accessKey", "aws:secretKey", "aws:token",
    "postgresql:password",
})
"""Provider settings (other namespaces) that are credentials, so may be `secure:` values."""


def parse_value(value: Any) -> Any:
    """Pulumi hands structured config to programs as JSON text; scalars stay strings."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _path(loc: tuple[int | str, ...], project: str = PROJECT, raw: Any = None) -> str:
    """`floyo-infra:backend.cpu`; a list item with a `slug` (a tenant) is named by it: `tenants[acme].x`."""
    text = project + ":"
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


def _model_at(loc: tuple[int | str, ...], root: type[BaseModel] = StackSettings) -> type[BaseModel] | None:
    """The settings model that owns the key at `loc` (used to list valid keys)."""
    model: Any = root
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


def _field_at(loc: tuple[int | str, ...], root: type[BaseModel] = StackSettings) -> Any:
    """The pydantic field declared at `loc`, or None (inside a map or list, or unknown)."""
    owner = _model_at(loc, root) if loc else None
    return owner.model_fields.get(str(loc[-1])) if owner else None


def _is_secret_field(loc: tuple[int | str, ...], root: type[BaseModel] = StackSettings) -> bool:
    """Whether the key at `loc` is declared as a `SecretStr` (its value is never echoed)."""
    field = _field_at(loc, root)
    if field is None:
        return False
    return SecretStr in (field.annotation, *(getattr(field.annotation, "__args__", ()) or ()))


def secret_paths(model: type[BaseModel] = StackSettings, prefix: tuple[str, ...] = ()) -> list[str]:
    """Every key declared as a `SecretStr` (the only keys a `secure:` value may set), e.g. `monitoring.sentry_dsn`."""
    found: list[str] = []
    for name in model.model_fields:
        loc = (*prefix, name)
        if _is_secret_field(loc):
            found.append(".".join(loc))
            continue
        sub = _model_at((*loc, "x"))
        if sub is not None and sub is not model:
            found += secret_paths(sub, loc)
    return found


def config_loc(key: str) -> tuple[int | str, ...] | None:
    """`floyo-infra:monitoring.webhook_url` -> ("monitoring", "webhook_url"); None for other namespaces."""
    prefix = PROJECT + ":"
    if not key.startswith(prefix):
        return None
    loc: list[int | str] = []
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", key[len(prefix):]):
        loc.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(loc)


def offline_placeholder(key: str) -> str:
    """What the offline tools put where `key` holds a `secure:` value: shaped to pass the field's checks."""
    marker = f"offline-placeholder-secret-for-{key}"
    loc = config_loc(key)
    field = _field_at(loc) if loc else None
    extra = field.json_schema_extra if field is not None else None
    template = extra.get(PLACEHOLDER_MARK) if isinstance(extra, dict) else None
    return template.replace("{marker}", marker) if isinstance(template, str) else marker


def _overlaps(a: tuple[int | str, ...], b: tuple[int | str, ...]) -> bool:
    """One path is the other or lies inside it."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


class _Secrets:
    """Which config paths hold secret values.

    `secret_keys` are the top-level keys the Pulumi engine marks secret (`floyo-infra:monitoring`: all it
    tells a program); `secure_paths` the exact paths of the `secure:` values in the stack file
    (`floyo-infra:monitoring.webhook_url`). Only the exact paths (and `SecretStr` fields) are masked; a
    secret top-level key with no known path under it is masked entirely, since nothing says which of its
    values is the secret.
    """

    def __init__(self, secret_keys: Collection[str], secure_paths: Collection[str]) -> None:
        self.exact = [loc for loc in (config_loc(k) for k in secure_paths) if loc]
        self.foreign = [k for k in secure_paths if config_loc(k) is None]
        tops = {str(loc[0]) for loc in (config_loc(k) for k in secret_keys) if loc}
        self.whole = {top for top in tops if not any(str(e[0]) == top for e in self.exact)}

    def masks(self, loc: tuple[int | str, ...]) -> bool:
        if not loc:
            return bool(self.exact or self.whole)
        if str(loc[0]) in self.whole or any(_overlaps(loc, e) for e in self.exact):
            return True
        return any(_is_secret_field(loc[:i]) for i in range(1, len(loc) + 1))

    def is_secure(self, loc: tuple[int | str, ...]) -> bool:
        """Whether the value at `loc` came from a `secure:` value (or may have: a secret key with no known paths)."""
        return str(loc[0]) in self.whole or any(_overlaps(loc, e) for e in self.exact)

    def plain_in_secret_fields(self, raw: Mapping[str, Any], allowed: bool) -> list[Problem]:
        """A `SecretStr` field given in plain text would sit in git: refuse it unless dev allows it by name."""
        if allowed:
            return []
        problems: list[Problem] = []
        for path in secret_paths():
            loc = tuple(path.split("."))
            node: Any = raw
            for part in loc:
                node = node.get(part) if isinstance(node, Mapping) else None
            if node is None or self.is_secure(loc):
                continue
            key = f"{PROJECT}:{path}"
            problems.append(Problem(
                key, "a plain-text value",
                f"a secret field takes only an encrypted `secure:` value, so the secret never sits in git: "
                f"pulumi config set --secret --path '{key}' '<value>'  (dev may allow plain text for a local test "
                f"with {PROJECT}:{PLAIN_SECRETS_SETTING}: true)"))
        return problems

    def in_plain_fields(self) -> list[Problem]:
        """A `secure:` value outside a `SecretStr` field would land in plain text: refuse it by name."""
        problems: list[Problem] = []
        for loc in self.exact:
            if not any(_is_secret_field(loc[:i]) for i in range(1, len(loc) + 1)):
                problems.append(Problem(
                    _path(loc), "a secret (`secure:`) value",
                    "this key is not a secret field, so the value would be stored and shown in plain text; "
                    f"only these keys take `pulumi config set --secret`: {', '.join(secret_paths())}",
                ))
        for key in self.foreign:
            if key not in PROVIDER_SECRETS:
                problems.append(Problem(
                    key, "a secret (`secure:`) value",
                    "this provider setting is not a credential, so the value would land in plain text (e.g. "
                    f"as a tag); secret provider settings: {', '.join(sorted(PROVIDER_SECRETS))}",
                ))
        return problems


_MESSAGES = (
    (re.compile(r" or instance of \w+"), ""),
    (re.compile(r"^Input should be a valid dictionary$"), "must be a mapping (indented `key: value` lines)"),
    (re.compile(r"^Input should be a valid list$"), "must be a list (`- item` lines)"),
)


def _message(text: str) -> str:
    text = text.removeprefix("Value error, ")
    for pattern, replacement in _MESSAGES:
        text = pattern.sub(replacement, text)
    return text


def problems_of(
    error: ValidationError, masks: Callable[[tuple[int | str, ...]], bool] | Collection[str],
    root: type[BaseModel] = StackSettings, project: str = PROJECT, raw: Any = None,
) -> list[Problem]:
    """One `Problem` per pydantic error of validating `root` (a project's settings model). `masks` says which
    paths hold secrets: a predicate, or the names of secret top-level sections (plus `SecretStr` fields); `raw` the
    given settings, so a tenant is named by its slug."""
    if not callable(masks):
        sections = set(masks)
        masks = lambda loc: bool(loc) and (str(loc[0]) in sections or _is_secret_field(loc, root))  # noqa: E731
    problems: list[Problem] = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        if item["type"] == "missing":
            given = "nothing"
            allowed = "this key is required"
        else:
            given = SECRET_MASK if masks(loc) else _render(item.get("input"))
            allowed = _message(str(item["msg"]))
        if item["type"] == "extra_forbidden":
            owner = _model_at(loc, root)
            known = ", ".join(sorted(owner.model_fields)) if owner else "see README"
            guess = nearest(str(loc[-1]), list(owner.model_fields)) if owner else None
            hint = f"did you mean `{guess}`? " if guess else ""
            allowed = f"unknown key, which nothing reads; {hint}valid keys here: {known}"
        elif item["type"] == "literal_error":
            allowed = allowed.replace("Input should be", "allowed:")
        problems.append(Problem(_path(loc, project, raw), given, allowed))
    return problems


def load_settings(
    stack: str, config: Mapping[str, Any], secret_keys: Collection[str] = (), secure_paths: Collection[str] = ()
) -> StackSettings:
    """Validate a stack's config (`{"floyo-infra:backend": "{...}", ...}`) against the schema.

    Keys of other namespaces (`cloudflare:apiToken`) are left to their providers, except
    `aws:region`, which the program needs. `secret_keys`: the top-level keys that are secret;
    `secure_paths`: the exact paths of `secure:` values, when the stack file is at hand.
    Raises `SettingsError` listing every invalid key at once.
    """
    prefix = PROJECT + ":"
    raw = {str(k)[len(prefix):]: parse_value(v) for k, v in config.items()
           if str(k).startswith(prefix) and not FLAT_KEY.search(str(k)[len(prefix):])}  # flat keys: below
    secrets = _Secrets(secret_keys, secure_paths)
    given_tier = raw.get("tier") if raw.get("tier") in ("dev", "prod") else None
    override = raw.get("tier_override")
    problems = [
        *stack_name_problems(stack),
        *config_problems(config, PROJECT, StackSettings.model_fields, stack),
        *secrets.in_plain_fields(),
        *secrets.plain_in_secret_fields(raw, plain_secrets_allowed(raw, given_tier)),
        *tier_problems(stack, given_tier, override if isinstance(override, str) else None),
    ]
    tier: Tier = "prod" if given_tier == "prod" else "dev"
    try:
        settings = StackSettings.model_validate(with_profile(tier, raw), context={"tier": tier})
    except ValidationError as exc:
        refused = {p.path for p in problems}  # a refused `secure:` value needs no second message
        found = problems_of(exc, secrets.masks, raw=raw)
        raise SettingsError(stack, problems + [p for p in found if p.path not in refused]) from None
    problems += [p for check in CROSS_CHECKS for p in check(settings)]
    context = Context(stack, config, raw)
    problems += [p for check in (*APP_CHECKS, *DOCUMENT_CHECKS) for p in check(settings, context)]
    if problems:
        raise SettingsError(stack, problems)
    return settings


PLAIN_SECRETS_SETTING = "allow_plain_secrets"
"""The top-level setting by which a dev stack accepts plain-text values in secret fields (a local test)."""


def plain_secrets_allowed(raw: Mapping[str, Any], tier: str | None) -> bool:
    """Whether this stack accepts plain secrets: dev only, by `allow_plain_secrets: true` (validated by the
    schema, which refuses it in prod)."""
    return tier == "dev" and raw.get(PLAIN_SECRETS_SETTING) in (True, "true")


_offline_secure_paths: list[str] | None = None


@contextmanager
def offline_secure_paths(paths: Collection[str]) -> Iterator[None]:
    """While planning offline: the exact `secure:` paths of the stack (instead of reading the stack file)."""
    global _offline_secure_paths
    previous, _offline_secure_paths = _offline_secure_paths, list(paths)
    try:
        yield
    finally:
        _offline_secure_paths = previous


def secure_paths_in(document: Any) -> list[str]:
    """Exact paths (`floyo-infra:monitoring.webhook_url`) of the `secure:` values in a stack file's document."""
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            if set(value) == {"secure"}:
                found.append(path)
                return
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(item, f"{path}[{i}]")

    config = document.get("config") if isinstance(document, dict) else None
    for key, value in (config or {}).items() if isinstance(config, dict) else ():
        walk(value, str(key))
    return found


def _stack_file_secure_paths(stack: str) -> list[str]:
    """The `secure:` paths of `Pulumi.<stack>.yaml` in the working directory (where the Pulumi CLI runs the
    program); empty when it can't be read (then secret keys are masked whole)."""
    from ruamel.yaml import YAML

    try:
        return secure_paths_in(YAML(typ="safe").load(Path(f"Pulumi.{stack}.yaml").read_text()))
    except Exception:  # an unreadable file only costs finer masking
        return []


def settings_from_pulumi() -> StackSettings:
    """Load the current stack's settings from the running Pulumi program's config."""
    cfg = pulumi.runtime.config
    values: dict[str, Any] = dict(cfg.get_config_env())
    values.update(cfg.CONFIG.get())
    secret = {k for k in values if cfg.is_config_secret(k)} | set(cfg.get_config_secret_keys_env())
    stack = pulumi.get_stack()
    paths = _offline_secure_paths if _offline_secure_paths is not None else _stack_file_secure_paths(stack)
    return load_settings(stack, values, secret, paths)
