"""`python -m ops promote --from dev --to prod`: move a tested release to another stack.

Copies the **release keys** (settings declared with `stacks.base.release_field`: today
`backend.image`, `backend.app_version`, `backend.feature_flags`) from `Pulumi.<from>.yaml`
into `Pulumi.<to>.yaml`. A map release key (`feature_flags`) is promoted entry by entry: a
flag the source adds, changes or drops is added, changed or dropped in the target, unless the
target holds it (`floyo-infra:promote.hold: [backend.feature_flags.<name>]`), which keeps the
target's own value. A key the source does not set is removed from the target, so both stacks
end up with the same effective value. Every other key is environment-specific and is never
touched.

The target file is edited in place as text (`ops/release/yaml_edit.py`): only the promoted lines
change; comments, key order, quoting and indentation stay as they were.

It prints the config change and the offline diff of the target stack it causes. `--no-diff` skips planning
the diff, for a quicker local check: `promote.yml` must not pass it, because the pull request it opens (with
the workflow's `GITHUB_TOKEN`, which starts no `pr.yml` run) carries promote's own output as its only diff. When
the release keys already match, it prints "nothing to promote" and exits 0.

Bad input (exit 2, one message naming the file(s), nothing written), as in every command: a missing,
malformed or invalid stack file, source or target (both go through the one loader,
`ops.stackfile.load_stack`, before anything else: a source image that is a tag rather than a digest is
refused there), or stack files git cannot vouch for (not in a git work tree, or no `git` on PATH).

It refuses (exit 1, one clear message, nothing written) a valid input when:

* the target's settings would become invalid after the promotion;
* a release key is a `secure:` value (ciphertexts are per stack and cannot be copied);
* the source or the target file has uncommitted edits (or is untracked): a promotion copies what
  was reviewed, and is reviewed on its own;
* with `--check-deployed`: the `pulumi` CLI is missing, or the source stack's deployed
  outputs (`backend_image`, `app_version`) differ from its config.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ops.deployed.stack_outputs import ReleaseError, stack_outputs
from ops.release.yaml_edit import YamlEditError, YamlText
from ops.stackfile import ROOT, StackFileError, UnknownStackError, load_stack, read_document_config, read_stack_config
from stacks.base import PROJECT
from stacks.errors import SettingsError
from stacks.settings import is_map_key, release_keys

DEPLOYED_OUTPUTS: dict[str, tuple[str, ...]] = {
    "backend_image": ("backend", "image"),
    "app_version": ("backend", "app_version"),
}
"""Stack output -> the release key it must equal once the stack is deployed."""


class RefusalError(Exception):
    """Promotion refused; the message says why and what to do."""


class UncheckableError(Exception):
    """Bad input of the operator's environment: git cannot tell whether the stack files are committed (not in a
    git work tree, or no `git`). Still a refusal, reported as bad input: one message, exit 2."""


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


def _plain(value: Any) -> Any:
    """A ruamel node as plain JSON data (for comparing and printing)."""
    return json.loads(json.dumps(value, default=str)) if value is not _MISSING else None


def _shown(value: Any) -> str:
    return "(not set)" if value is _MISSING else json.dumps(_plain(value))


def _is_secure(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"secure"} or any(_is_secure(v) for v in value.values())
    if isinstance(value, list):
        return any(_is_secure(v) for v in value)
    return False


def _git_state(path: Path) -> str:
    """'' when `path` is committed as is, else why it is not; raises `UncheckableError` (its reason) when git
    cannot tell."""
    try:
        # --ignored: an ignored file prints nothing without it, and would pass as committed
        result = subprocess.run(["git", "status", "--porcelain", "--ignored", "--", path.name], cwd=path.parent,
                                capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise UncheckableError("`git` is not on PATH: install git") from None
    if result.returncode != 0:
        raise UncheckableError(f"git status: {result.stderr.strip() or f'exit {result.returncode}'}")
    status = result.stdout.strip()
    if not status:
        return ""
    if status.startswith("??"):
        return f"{path.name} is not committed (untracked)"
    if status.startswith("!!"):
        return f"{path.name} is not committed (ignored by .gitignore)"
    return f"{path.name} has uncommitted edits"


def _check_committed(paths: list[Path]) -> None:
    """Refuse unless every file in `paths` is committed as is: `UncheckableError` (exit 2) when git cannot tell
    for any of them, naming each; else `RefusalError` (exit 1) for the first with edits, or untracked."""
    states: list[str] = []
    unknown: list[tuple[Path, str]] = []
    for path in paths:
        try:
            states.append(_git_state(path))
        except UncheckableError as exc:
            unknown.append((path, str(exc)))
    if unknown:
        raise UncheckableError(
            f"{', '.join(str(p) for p, _ in unknown)}: cannot tell whether "
            f"{'they are' if len(unknown) > 1 else 'it is'} committed; promote copies only "
            "committed, reviewed stack files:\n" + "\n".join(f"  - {p.name}: {why}" for p, why in unknown)
            + "\nrun it on stack files in a clone of the repository (`--stack-dir` inside its work tree), with git "
            "on PATH")
    dirty = next(filter(None, states), "")
    if dirty:
        raise RefusalError(f"{dirty}: commit or revert them first, so the promotion copies what was reviewed "
                           "and is reviewed on its own")


def _check_source(stack: str, stack_dir: Path) -> None:
    """The one loader: invalid source settings are exit 2, as everywhere. It also refuses an image given by a
    mutable tag (stacks/backend.py, `ECR_IMAGE`: only `@sha256:<64 hex>` digests), which promote must never copy."""
    load_stack(stack, stack_dir, PROJECT)


def _check_result(stack: str, text: str) -> None:
    with tempfile.TemporaryDirectory(prefix="floyo-promote-") as tmp:
        Path(tmp, f"Pulumi.{stack}.yaml").write_text(text)
        try:
            load_stack(stack, Path(tmp), PROJECT)
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
            check_deployed: bool = False, show_diff: bool = True) -> int:
    """The CLI command; returns the exit code (0 done, 1 refused, 2 bad input: a missing or invalid stack file, or
    stack files git cannot vouch for). `show_diff` (default True; `--no-diff` turns it off) plans and prints the
    target's offline diff."""
    try:
        for line in _promote(source, target, stack_dir or ROOT, dry_run, check_deployed, show_diff):
            print(line)
    except RefusalError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    except (UnknownStackError, StackFileError, UncheckableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


Edit = tuple[tuple[str, ...], Any]
"""A release key path and its new value (`_MISSING`: remove it)."""


def _release_edits(src: Any, dst: Any, hold: list[str]) -> tuple[list[Edit], list[str]]:
    """What the target must change to run the source's release, and a note per held key that differs."""
    edits: list[Edit] = []
    held: list[str] = []
    for path in release_keys():
        new, old = _get(src, path), _get(dst, path)
        if _is_secure(new) or _is_secure(old):
            raise RefusalError(f"{dotted(path)} is a secret (`secure:`); secrets are encrypted per stack and "
                               "cannot be copied: set it on the target with `pulumi config set --secret`")
        pairs = [(path, new, old)]
        if is_map_key(path) and all(v is _MISSING or isinstance(v, dict) for v in (new, old)):
            new_map = new if isinstance(new, dict) else {}
            old_map = old if isinstance(old, dict) else {}
            pairs = [((*path, str(k)), new_map.get(k, _MISSING), old_map.get(k, _MISSING))
                     for k in sorted({*new_map, *old_map}, key=str)]
        for key, want, have in pairs:
            if _plain(want) == _plain(have):
                continue
            if ".".join(key) in hold:
                held.append(f"  held: {dotted(key)} stays {_shown(have)} (source: {_shown(want)}; "
                            f"listed in {PROJECT}:promote.hold)")
                continue
            edits.append((key, want))
    return edits, held


def _apply(text: str, edits: list[Edit], name: str) -> str:
    """The target file's text with `edits` made as minimal line edits."""
    doc = YamlText(text)
    try:
        for path, value in edits:
            full = ("config", f"{PROJECT}:{path[0]}", *path[1:])
            if value is _MISSING:
                doc.delete(full)
            else:
                doc.set(full, _plain(value))
    except YamlEditError as exc:
        raise RefusalError(f"cannot edit {name} in place: {exc}") from None
    return doc.text


def _promote(source: str, target: str, stack_dir: Path, dry_run: bool, deployed: bool,
             show_diff: bool) -> Iterator[str]:
    if source == target:
        raise RefusalError("--from and --to name the same stack")
    paths = {s: stack_dir / f"Pulumi.{s}.yaml" for s in (source, target)}
    for stack, path in paths.items():
        if not path.is_file():
            read_stack_config(stack, stack_dir)  # raises UnknownStackError with the known stacks
    src = read_document_config(paths[source])
    _check_source(source, stack_dir)
    load_stack(target, stack_dir, PROJECT)  # the one loader: an invalid target file is exit 2, as everywhere
    _check_committed(list(paths.values()))
    if deployed:
        yield verify_deployed(source, src, stack_dir)

    dst = read_document_config(paths[target])
    hold = _get(dst, ("promote", "hold"))
    edits, held = _release_edits(src, dst, hold if isinstance(hold, list) else [])
    if not edits:
        yield (f"nothing to promote: the release keys of '{target}' already equal '{source}'s "
               f"({', '.join('.'.join(p) for p in release_keys())})")
        yield from held
        return
    original = paths[target].read_text()
    text = _apply(original, edits, paths[target].name)
    _check_result(target, text)

    yield f"promote {source} -> {target}: {len(edits)} release key(s) in {paths[target].name}"
    for path, value in edits:
        yield f"  {dotted(path)}: {_shown(_get(dst, path))} -> {_shown(value)}"
    yield from held
    yield ""
    if show_diff:
        yield from _offline_diff(target, stack_dir, text)
    else:
        yield "(offline diff skipped: --no-diff)"
    if dry_run:
        yield ""
        yield f"dry run: {paths[target].name} not written"
        return
    paths[target].write_text(text)
    yield ""
    yield f"wrote {paths[target]}; review and commit it (a pull request), then deploy '{target}'"


def _offline_diff(stack: str, stack_dir: Path, new_text: str) -> Iterator[str]:
    from ops.diff.plans import diff_plans
    from ops.diff.render import render_text
    from ops.plan.planner import plan_config

    before = plan_config(read_stack_config(stack, stack_dir)).as_json()
    with tempfile.TemporaryDirectory(prefix="floyo-promote-") as tmp:
        Path(tmp, f"Pulumi.{stack}.yaml").write_text(new_text)
        after = plan_config(read_stack_config(stack, Path(tmp))).as_json()
    diff = diff_plans(stack, before, after, base_label=f"Pulumi.{stack}.yaml as committed")
    yield from render_text(diff).replace("-> working tree", "-> promoted").splitlines()
