"""`python -m ops promote --from dev --to prod`: move a tested release to another stack.

Copies exactly the **release keys** (settings declared with `stacks.base.release_field`:
today `backend.image`, `backend.app_version`, `backend.feature_flags`) from
`Pulumi.<from>.yaml` into `Pulumi.<to>.yaml`, editing the target with ruamel.yaml's
round-trip mode so its comments, key order and formatting stay as they were. A key the
source file does not set is removed from the target, so both stacks end up with the
same effective value. Every other key is environment-specific and is never touched.

It prints the config change and the offline diff of the target stack it causes, and
refuses (exit 1, one clear message, nothing written) when:

* the source image is a mutable tag rather than pinned by digest;
* the source stack's settings are invalid (or the target's would become invalid);
* a release key is a `secure:` value (ciphertexts are per stack and cannot be copied);
* the target file has uncommitted edits (or is untracked, or not in a git repository);
* nothing would change;
* with `--check-deployed`: the `pulumi` CLI is missing, or the source stack's deployed
  outputs (`backend_image`, `app_version`) differ from its config.
"""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from ops.stack_outputs import ReleaseError, stack_outputs
from ops.stackfile import ROOT, UnknownStackError, read_stack_config
from stacks.base import PROJECT, RELEASE_MARK
from stacks.errors import SettingsError
from stacks.settings import StackSettings

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")

DEPLOYED_OUTPUTS: dict[str, tuple[str, ...]] = {
    "backend_image": ("backend", "image"),
    "app_version": ("backend", "app_version"),
}
"""Stack output -> the release key it must equal once the stack is deployed."""


class RefusalError(Exception):
    """Promotion refused; the message says why and what to do."""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *(getattr(annotation, "__args__", ()) or ())):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def release_keys(model: type[BaseModel] = StackSettings, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of every release field in the settings schema, found by walking it."""
    found: list[tuple[str, ...]] = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get(RELEASE_MARK):
            found.append((*prefix, name))
            continue
        sub = _model_of(info.annotation)
        if sub is not None and getattr(info.annotation, "__origin__", None) is None:
            found += release_keys(sub, (*prefix, name))
    return found


def dotted(path: tuple[str, ...]) -> str:
    return f"{PROJECT}:{'.'.join(path)}"


_MISSING = object()


def _get(config: Any, path: tuple[str, ...]) -> Any:
    node = config.get(f"{PROJECT}:{path[0]}", _MISSING) if config is not None else _MISSING
    for part in path[1:]:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


def _set(config: CommentedMap, path: tuple[str, ...], value: Any) -> None:
    key = f"{PROJECT}:{path[0]}"
    if len(path) == 1:
        config[key] = value
        return
    node = config.setdefault(key, CommentedMap())
    for part in path[1:-1]:
        node = node.setdefault(part, CommentedMap())
    node[path[-1]] = value


def _delete(config: CommentedMap, path: tuple[str, ...]) -> None:
    node: Any = config
    keys = [f"{PROJECT}:{path[0]}", *path[1:]]
    for part in keys[:-1]:
        node = node.get(part)
        if not isinstance(node, dict):
            return
    if isinstance(node, dict):
        node.pop(keys[-1], None)


def _plain(value: Any) -> Any:
    """A ruamel node as plain JSON data (for comparing and printing)."""
    return json.loads(json.dumps(value, default=str)) if value is not _MISSING else None


def _is_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_is_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_is_secure(v) for v in value)
    return False


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments, order, quoting
    yaml.preserve_quotes = True
    yaml.width = 4096
    return yaml


def _git_state(path: Path) -> str:
    """'' when `path` is committed as is, else why it is not."""
    result = subprocess.run(["git", "status", "--porcelain", "--", path.name], cwd=path.parent,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return f"cannot tell whether {path.name} is committed ({result.stderr.strip() or 'git status failed'})"
    status = result.stdout.strip()
    if not status:
        return ""
    if status.startswith("??"):
        return f"{path.name} is not committed (untracked)"
    return f"{path.name} has uncommitted edits"


def _check_source(stack: str, stack_dir: Path, config: Any) -> None:
    image = _get(config, ("backend", "image"))
    if isinstance(image, str) and not DIGEST.search(image):
        raise RefusalError(f"{dotted(('backend', 'image'))} of '{stack}' is {image!r}, a mutable tag: only an image "
                      "pinned by digest (<registry>/<repository>@sha256:<64 hex>) can be promoted, since a tag "
                      "can point at different code by the time the target deploys it")
    from stacks import load_settings

    cfg = read_stack_config(stack, stack_dir)
    try:
        load_settings(stack, cfg.values, cfg.secret_keys)
    except SettingsError as exc:
        raise RefusalError(f"the source stack '{stack}' has invalid settings, fix them first:\n{exc}") from None


def _check_result(stack: str, text: str) -> None:
    from stacks import load_settings

    with tempfile.TemporaryDirectory(prefix="floyo-promote-") as tmp:
        Path(tmp, f"Pulumi.{stack}.yaml").write_text(text)
        cfg = read_stack_config(stack, Path(tmp))
    try:
        load_settings(stack, cfg.values, cfg.secret_keys)
    except SettingsError as exc:
        raise RefusalError(f"after promotion the settings of '{stack}' would be invalid:\n{exc}") from None


def verify_deployed(stack: str, config: Any, cwd: Path = ROOT) -> str:
    """Compare `stack`'s deployed outputs with its config; returns a line to print, raises `RefusalError`."""
    try:
        outputs = stack_outputs(stack, (), cwd)
    except ReleaseError as exc:
        raise RefusalError(f"--check-deployed: cannot check what is deployed: {exc}") from None
    problems: list[str] = []
    for output, path in DEPLOYED_OUTPUTS.items():
        want = _get(config, path)
        want = None if want is _MISSING else str(want)
        have = outputs.get(output)
        if have is None:
            problems.append(f"output `{output}` is missing: deploy '{stack}' with this program first")
        elif want is not None and str(have) != want:
            problems.append(f"deployed {output} is {have!r} but {dotted(path)} is {want!r}")
    if problems:
        raise RefusalError(f"--check-deployed: '{stack}' is not running what its config says "
                      "(deploy it, or wait for the deploy to finish):\n  - " + "\n  - ".join(problems))
    return f"deployed outputs of '{stack}' match its config ({', '.join(DEPLOYED_OUTPUTS)})"


def promote(source: str, target: str, stack_dir: Path | None = None, dry_run: bool = False,
            check_deployed: bool = False) -> int:
    """The CLI command; returns the exit code (0 done, 1 refused, 2 unknown stack)."""
    try:
        for line in _promote(source, target, stack_dir or ROOT, dry_run, check_deployed):
            print(line)
    except RefusalError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except UnknownStackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _promote(source: str, target: str, stack_dir: Path, dry_run: bool, deployed: bool) -> Iterator[str]:
    if source == target:
        raise RefusalError("--from and --to name the same stack")
    paths = {s: stack_dir / f"Pulumi.{s}.yaml" for s in (source, target)}
    for stack, path in paths.items():
        if not path.is_file():
            read_stack_config(stack, stack_dir)  # raises UnknownStackError with the known stacks
    yaml = _yaml()
    src_doc = yaml.load(paths[source].read_text()) or CommentedMap()
    src = src_doc.get("config") or CommentedMap()
    _check_source(source, stack_dir, src)
    dirty = _git_state(paths[target])
    if dirty:
        raise RefusalError(f"{dirty}: commit or revert them first, so the promotion is reviewed on its own")
    if deployed:
        yield verify_deployed(source, src, stack_dir)

    original = paths[target].read_text()
    doc = yaml.load(original)
    if doc is None or not isinstance(doc.get("config"), dict):
        raise RefusalError(f"{paths[target].name} has no `config:` mapping")
    dst = doc["config"]
    changes: list[str] = []
    for path in release_keys():
        new, old = _get(src, path), _get(dst, path)
        if _is_secure(new) or _is_secure(old):
            raise RefusalError(f"{dotted(path)} is a secret (`secure:`); secrets are encrypted per stack and "
                          "cannot be copied: set it on the target with `pulumi config set --secret`")
        if _plain(new) == _plain(old):
            continue
        if new is _MISSING:
            _delete(dst, path)
        else:
            _set(dst, path, copy.deepcopy(new))
        changes.append(f"  {dotted(path)}: {json.dumps(_plain(old))} -> {json.dumps(_plain(new))}")
    if not changes:
        raise RefusalError(f"nothing to promote: the release keys of '{target}' already equal '{source}'s "
                      f"({', '.join('.'.join(p) for p in release_keys())})")
    out = io.StringIO()
    yaml.dump(doc, out)
    text = out.getvalue()
    _check_result(target, text)

    yield f"promote {source} -> {target}: {len(changes)} release key(s) in {paths[target].name}"
    yield from changes
    yield ""
    yield from _offline_diff(target, stack_dir, text)
    if dry_run:
        yield ""
        yield f"dry run: {paths[target].name} not written"
        return
    paths[target].write_text(text)
    yield ""
    yield f"wrote {paths[target]}; review and commit it (a pull request), then deploy '{target}'"


def _offline_diff(stack: str, stack_dir: Path, new_text: str) -> Iterator[str]:
    from ops.diff import diff_plans, render_text
    from ops.plan import plan_config

    before = plan_config(read_stack_config(stack, stack_dir)).as_json()
    with tempfile.TemporaryDirectory(prefix="floyo-promote-") as tmp:
        Path(tmp, f"Pulumi.{stack}.yaml").write_text(new_text)
        after = plan_config(read_stack_config(stack, Path(tmp))).as_json()
    diff = diff_plans(stack, before, after, base_label=f"Pulumi.{stack}.yaml as committed")
    yield from render_text(diff).replace("-> working tree", "-> promoted").splitlines()
