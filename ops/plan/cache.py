"""A content-addressed store of offline plans, shared by one test session's processes.

Only the test suite turns it on: `tests/conftest.py` sets `FLOYO_PLAN_CACHE` to a directory made for
the session (and removes it at the end). No production command sets the variable, and without it
nothing here runs: every plan is made afresh.

A plan is stored under a key made of everything that decides it:

* the stack's config as the engine hands it over (name, values, secret keys, `secure:` paths) and the
  Pulumi project's name;
* the program's path (relative to its code root), the content of every `*.py` file and `Pulumi.yaml`
  beside it, and the content of every file of the packages the program imports (`PROGRAM_PACKAGES`),
  taken from where this process imports them (`importlib.util.find_spec`: the loaded package if it is
  loaded, else the one `sys.path` finds, which is the copy in the directory the command runs in);
* the installed versions of Python and of every installed distribution (the SDKs, and pydantic, botocore,
  ruamel.yaml, which validate and read the settings);
* the `FLOYO_*` and `PULUMI_*` environment variables (a flag such as `FLOYO_PREVIEW_WITHOUT_DB_CREDENTIALS`
  changes the plan), other than this store's own and the plan log's.

So a `python -m ops` child running in a scratch copy of the same code reuses the plan the session made,
and a copy whose code differs in any byte misses (tests/test_plan_cache.py changes one in a scratch
copy). Two limits, both of a test session only: a plan made by code that was changed on disk after this
process imported it is filed under the new code's key (do not edit the project while its tests run),
and the program must import no project code outside `PROGRAM_PACKAGES` (tests/test_plan_cache.py checks
what a plan loads).

Which processes consult it (`serving`): only a `python -m ops` process (its `__main__` is `ops.__main__`:
the CLI, and the tests' forked children, which are clean copies of a process that never ran a test).
A test that calls `ops.plan.planner.plan_config` in its own process, possibly with something patched, always
plans afresh; `tests/planning.py` files the plans it makes for the tests here too, under the same key.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:  # annotations only: the test session's controller imports this module for
    from ops.stackfile import StackConfig  # CACHE_ENV alone, without the settings models (~0.4 s)

CACHE_ENV = "FLOYO_PLAN_CACHE"
"""A directory shared by one test session's processes, holding the plans already made."""
PROGRAM_PACKAGES = ("stacks", "components", "ops")
"""The project packages a Pulumi program of this repository imports (the app's and the baseline's)."""
NOT_PLAN_INPUTS = frozenset({CACHE_ENV, "FLOYO_PLAN_LOG"})
"""Environment variables that do not change a plan: this store's directory and the plan log's path."""

T = TypeVar("T")


def serving() -> bool:
    """Whether this process consults the store: the variable is set, the process is `python -m ops`, and the
    directory is private to this user (`private_directory`)."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    directory = os.environ.get(CACHE_ENV)
    return bool(directory) and getattr(spec, "name", None) == "ops.__main__" and private_directory(directory)


def _open_private(directory: str) -> int | None:
    """`directory` opened (not through a symbolic link), if this user owns it and nobody else can write it;
    else None. The store unpickles what it finds, and unpickling runs code: a store anyone else could write
    to is never used (the test session's is made by `tempfile.mkdtemp`, mode 0700). Its files are then
    opened relative to this descriptor, so the directory checked is the directory used."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return None
    info = os.fstat(fd)
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        os.close(fd)
        return None
    return fd


def private_directory(directory: str) -> bool:
    """Whether `directory` is a real directory (not a link), owned by this user and writable by nobody else."""
    fd = _open_private(directory)
    if fd is None:
        return False
    os.close(fd)
    return True


def _files(directory: Path, recursive: bool) -> Iterable[Path]:
    if recursive:
        return (p for p in directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return (p for p in directory.iterdir() if p.is_file() and (p.suffix == ".py" or p.name == "Pulumi.yaml"))


def _tree_digest(digest: Any, label: str, directory: Path, recursive: bool) -> None:
    for path in sorted(_files(directory, recursive)):
        digest.update(f"{label}/{path.relative_to(directory).as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def source_digest(program: Path) -> str:
    """The digest of the code that plans `program`: the files beside it, and each of `PROGRAM_PACKAGES`
    where this process imports it from."""
    digest = hashlib.sha256()
    digest.update(f"program {program.name}\0".encode())
    _tree_digest(digest, "program", program.parent, recursive=False)
    for package in PROGRAM_PACKAGES:
        spec = importlib.util.find_spec(package)
        locations = list(spec.submodule_search_locations or []) if spec else []
        if not locations:  # not importable here: the program would fail, and so would its key's owner
            digest.update(f"{package} missing\0".encode())
            continue
        _tree_digest(digest, package, Path(locations[0]), recursive=True)
    return digest.hexdigest()


@cache
def installed_versions() -> list[str]:
    """The interpreter and every installed distribution: a plan also depends on pydantic's validation,
    botocore's region data (stacks/aws_facts.py) and ruamel.yaml's reading, not only on the Pulumi SDKs."""
    names = {(d.metadata["Name"] or "").lower(): d.version for d in importlib.metadata.distributions()}
    return [sys.version, *sorted(f"{n}=={v}" for n, v in names.items())]


def plan_key(config: StackConfig, program: Path, project: str, environ: Mapping[str, str] = os.environ) -> str:
    """The store's key for planning `config` with `program` of `project`."""
    env = sorted((k, v) for k, v in environ.items()
                 if k.startswith(("FLOYO_", "PULUMI_")) and k not in NOT_PLAN_INPUTS)
    text = json.dumps([config.stack, config.values, sorted(config.secret_keys), sorted(config.secure_paths),
                       project, source_digest(program), installed_versions(), env], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def stored(key: str, make: Callable[[], T], directory: str | None = None) -> bytes:
    """The pickled result filed under `key` in the session's store, made by `make` (and filed) if absent.

    One process makes a given key; the others wait on its lock, then load it. A `make` that raises files
    nothing. Without a store (`directory` and `$FLOYO_PLAN_CACHE` unset), or with one that is not private to
    this user (`private_directory`), just `make`'s result, pickled: nothing is read from it or filed there."""
    directory = directory or os.environ.get(CACHE_ENV)
    fd = _open_private(directory) if directory else None
    if fd is None:
        return pickle.dumps(make())
    try:
        with os.fdopen(os.open(f"{key}.lock", os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o600, dir_fd=fd), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                with os.fdopen(os.open(f"{key}.pickle", os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd), "rb") as found:
                    return found.read()
            except FileNotFoundError:
                pass
            data = pickle.dumps(make())
            scratch = f"{key}.{os.getpid()}.tmp"
            with os.fdopen(os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600,
                                   dir_fd=fd), "wb") as out:
                out.write(data)
            os.replace(scratch, f"{key}.pickle", src_dir_fd=fd, dst_dir_fd=fd)
            return data
    finally:
        os.close(fd)


def cached_plan(config: StackConfig, program: Path, project: str, make: Callable[[], T]) -> T:
    """`make()`'s plan of `config`, from the session's store when it holds one made by the same code."""
    return pickle.loads(stored(plan_key(config, program, project), make))
