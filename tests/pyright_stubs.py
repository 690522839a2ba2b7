"""Partial stub packages that spare pyright the providers' star-imports.

Each provider's package `__init__.py` (pulumi_aws's 241 of them, pulumi_cloudflare's top level) star-imports
every module of its package: `from .dns_record import *`. To bind such an `__init__`, pyright must parse and
bind every module it star-imports, to learn the names each one exports; and it binds the `__init__` as soon
as any resource module's `from . import outputs` is resolved. Checking our code therefore parsed and bound
some 2,500 provider files to resolve the few hundred classes the program uses.

This module writes, from the installed packages, one `<package>-stubs/` directory per provider into
`.pyright-stubs/` (git-ignored; pyproject.toml's `[tool.pyright] stubPath`). Each holds a `__init__.pyi` per
`__init__.py` of the package: the same statements, except that each `from .x import *` becomes
`from .x import (A as A, B as B, ...)`, naming the module's `__all__`, which is what pyright's star-import
would bring in; the `_utilities.register(...)` calls (runtime only) are left out. `py.typed` says `partial`
(PEP 561), so pyright lays the stubs over the installed package (partialStubService.ts,
processPartialStubPackages, maps only the `.pyi` files) and takes every other module from the package itself:
the resource classes, their `*Args` and outputs keep their own annotations, and the package's own
`py.typed` still marks it typed. A name only costs pyright something once it is used.

`./run test` calls `python -m tests.pyright_stubs` before pyright. The stubs are regenerated when the
stamp (each provider's version and location, and this file's own hash) changes. Without them pyright is
slower, and reads a few of Cloudflare's input types' parameters as `Unknown` (docs/type-checking.md,
"Differences"): the stubs check those, the packages' `.py` files do not. tests/test_pyright_stubs.py checks
the stubs against the packages; the pyright stage checks tests/typing_probe.py through them.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import sys
import tempfile
import tomllib
from pathlib import Path

from tests import pyright_module_stubs

ROOT = Path(__file__).resolve().parent.parent
STUB_DIR = ROOT / ".pyright-stubs"  # pyproject.toml: [tool.pyright] stubPath
STAMP = "stamp.json"
EXPORTS = "exports.json"  # {package: {module path: its `__all__`}} for each module a package `__init__` star-imports
MODULES = "modules.json"  # {package/module path: {stub: bool, imports: [...]}} for each module stubbed or read
# The providers whose `__init__.py` star-import their modules (the generated Pulumi SDK layout).
PACKAGES = ("pulumi_aws", "pulumi_cloudflare", "pulumi_postgresql", "pulumi_random", "pulumi_tls")
PARTIAL = "partial\n"  # PEP 561: a stub package that covers only part of its package

_ALL = re.compile(r"^__all__\s*=\s*\[", re.MULTILINE)
_STAR = re.compile(r"^\s*from\s+\S+\s+import\s+\*", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PAIR = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)(?=\.([A-Za-z_][A-Za-z0-9_]*))")  # `ecs.Service`, overlapping


class StubError(Exception):
    """A provider's layout is not the one this generator understands (one clear message, no stubs)."""


def package_dir(package: str) -> Path:
    """Where `package` is installed, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise StubError(f"{package} is not installed (requirements.txt pins it)")
    return Path(next(iter(spec.submodule_search_locations)))


def exported_names(module: Path) -> list[str]:
    """The names `from <module> import *` brings in: its `__all__`, one literal list, never changed later.

    Read from the text rather than parsed (the providers' `_inputs.py` run to megabytes); anything but
    exactly one `__all__ = [...]` is refused rather than guessed.
    """
    text = module.read_text(encoding="utf-8")
    found = list(_ALL.finditer(text))
    if len(found) != 1 or text.count("__all__") != 1:
        raise StubError(f"{module}: expected one `__all__ = [...]` for its star-import, found {text.count('__all__')}")
    start = found[0].end() - 1
    names = ast.literal_eval(text[start : text.index("]", start) + 1])
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise StubError(f"{module}: `__all__` is not a list of strings")
    return names


def _star_source(init: Path, node: ast.ImportFrom) -> Path:
    """The module file a relative `from .x import *` in `init` names."""
    base = init.parent
    for _ in range(node.level - 1):
        base = base.parent
    target = base.joinpath(*(node.module or "").split("."))
    for candidate in (target.with_suffix(".py"), target / "__init__.py"):
        if candidate.is_file():
            return candidate
    raise StubError(f"{init}: `from {'.' * node.level}{node.module} import *` names no module")


def _is_runtime_call(statement: ast.stmt) -> bool:
    """`_utilities.register(...)` and other bare calls: they declare nothing pyright reads."""
    return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)


def _rewrite(init: Path, body: list[ast.stmt], exports: dict[Path, list[str]]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for statement in body:
        if _is_runtime_call(statement):
            continue
        if isinstance(statement, ast.ImportFrom) and any(alias.name == "*" for alias in statement.names):
            if not statement.level:
                raise StubError(f"{init}: absolute star-import `from {statement.module} import *` is not expected")
            source = _star_source(init, statement)
            names = exports[source] = exported_names(source)
            # `A as A` is the re-export form in a stub; the relative module keeps pyright's rule that
            # `from .x import ...` in an `__init__` also makes the submodule `x` an attribute of the package.
            statement = ast.ImportFrom(statement.module, [ast.alias(name, name) for name in names], statement.level)
        elif isinstance(statement, ast.If):
            statement.body = _rewrite(init, statement.body, exports) or [ast.Pass()]
            statement.orelse = _rewrite(init, statement.orelse, exports)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            pass  # a docstring
        elif not isinstance(statement, ast.Import | ast.ImportFrom | ast.Assign | ast.AnnAssign):
            raise StubError(f"{init}:{statement.lineno}: unexpected {type(statement).__name__} in a package __init__")
        out.append(statement)
    return out


def init_stub(init: Path, exports: dict[Path, list[str]] | None = None) -> str:
    """The text of the `__init__.pyi` that stands for the package `__init__.py` at `init`.

    `exports`, when given, receives each star-imported module's file and the names it exports."""
    tree = ast.parse(init.read_text(encoding="utf-8"), filename=str(init))
    tree.body = _rewrite(init, tree.body, {} if exports is None else exports)
    header = f"# Generated by tests/pyright_stubs.py from {init.name} of the installed package. Do not edit.\n"
    return header + ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def stamp() -> dict[str, str]:
    """What the stubs depend on: each provider's version and location, and this generator."""
    generator = b"".join(path.read_bytes() for path in (Path(__file__), Path(pyright_module_stubs.__file__)))
    info = {"generator": hashlib.sha256(generator).hexdigest()}
    for package in PACKAGES:
        info[package] = f"{importlib.metadata.version(package)} {package_dir(package)}"
    return info


def generate(dest: Path) -> None:
    """Write the stubs of the package `__init__`s into `dest`, replacing what was there (built aside, then
    moved in), with the index of the names each star-imported module exports (`exports.json`); no module
    stubs yet (`add_module_stubs`)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f"{dest.name}.", dir=dest.parent))
    try:
        index: dict[str, dict[str, list[str]]] = {}
        for package in PACKAGES:
            source = package_dir(package)
            stubs = build / f"{package}-stubs"
            exports: dict[Path, list[str]] = {}
            # The package's own stubs first: pyright's overlay hides every `.pyi` of the package that the
            # stub package lacks (fileSystemMapping.ts maps each `.pyi` path to the stub package), so
            # they are copied as they are (pulumi_aws/config/__init__.pyi, for one).
            for own in sorted(source.rglob("*.pyi")):
                target = stubs / own.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(own, target)
            for init in sorted(source.rglob("__init__.py")):
                target = stubs / init.parent.relative_to(source) / "__init__.pyi"
                if target.exists() or not _STAR.search(init.read_text(encoding="utf-8")):
                    continue  # pyright reads the package's own stub, or this `__init__` as it is
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(init_stub(init, exports), encoding="utf-8")
            (stubs / "py.typed").write_text(PARTIAL, encoding="utf-8")
            index[package] = {module.relative_to(source).as_posix(): names for module, names in exports.items()}
        (build / EXPORTS).write_text(json.dumps(index, sort_keys=True) + "\n", encoding="utf-8")
        (build / MODULES).write_text("{}\n", encoding="utf-8")
        (build / STAMP).write_text(json.dumps(stamp(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        old = dest.with_name(f"{build.name}.old")
        if dest.exists():
            dest.rename(old)
        build.rename(dest)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(build, ignore_errors=True)


def project_source(root: Path = ROOT) -> str:
    """The text of the files pyright checks (pyproject.toml's `[tool.pyright] include`, less its `exclude`)."""
    config = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pyright"]
    excluded = [root / path for path in config.get("exclude", [])]
    texts: list[str] = []
    for entry in config["include"]:
        path = root / entry
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            if not any(file.is_relative_to(skip) for skip in excluded):
                texts.append(file.read_text(encoding="utf-8"))
    return "\n".join(texts)


def _stub_path(dest: Path, key: str) -> Path:
    """Where the stub of module `key` (`pulumi_aws/ecs/service.py`) goes in `dest`."""
    package, _, module = key.partition("/")
    return (dest / f"{package}-stubs" / module).with_suffix(".pyi")


def add_module_stubs(dest: Path, source_text: str) -> int:
    """Stub each provider module reached from the names `source_text` uses (pyright_module_stubs.py) that
    `dest` lacks; how many modules it read. `modules.json` records, per module read, whether it has a stub and what it imports,
    so a later run reads only modules it has not seen."""
    index = json.loads((dest / EXPORTS).read_text(encoding="utf-8"))
    seen: dict[str, dict] = json.loads((dest / MODULES).read_text(encoding="utf-8"))
    words = set(_WORD.findall(source_text))
    pairs: set[tuple[str, str]] = set(_PAIR.findall(source_text))
    read = 0
    # never trust a lost stub (a partial restore): a module recorded as stubbed whose `.pyi` is missing is read
    # again, wherever the walk would have reached it from
    lost = [key for key, entry in seen.items() if entry["stub"] and not _stub_path(dest, key).is_file()]
    for key in lost:
        del seen[key]
    for package in PACKAGES:
        source = package_dir(package)
        queue = list(pyright_module_stubs.seeds(index[package], words, pairs, source))
        queue += [source / key.partition("/")[2] for key in lost if key.partition("/")[0] == package]
        while queue:
            module = queue.pop()
            key = f"{package}/{module.relative_to(source).as_posix()}"
            target = _stub_path(dest, key)
            if key not in seen:
                read += 1
                tree = ast.parse(module.read_text(encoding="utf-8"), filename=str(module))
                imports = pyright_module_stubs.relative_imports(module, tree, source)
                text = pyright_module_stubs.module_stub(module, tree)
                if text is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(text, encoding="utf-8")
                seen[key] = {"stub": text is not None, "imports": sorted(str(p.relative_to(source)) for p in imports)}
            queue.extend(source / name for name in seen[key]["imports"] if f"{package}/{name}" not in seen)
    if read:
        (dest / MODULES).write_text(json.dumps(seen, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    return read


def is_current(dest: Path) -> bool:
    """Whether `dest` holds stubs of the installed providers made by this generator."""
    try:
        return json.loads((dest / STAMP).read_text(encoding="utf-8")) == stamp()
    except (OSError, ValueError):
        return False


def ensure(dest: Path = STUB_DIR) -> bool:
    """Regenerate the stubs when they are missing or stale, and stub the modules the project newly reaches;
    True when it wrote any."""
    fresh = not is_current(dest)
    if fresh:
        generate(dest)
    return add_module_stubs(dest, project_source()) > 0 or fresh


def main() -> int:
    try:
        if ensure():
            print(f"pyright stubs regenerated in {os.path.relpath(STUB_DIR)}", file=sys.stderr)
    except StubError as error:
        print(f"error: pyright stubs: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
