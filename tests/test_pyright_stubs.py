"""The pyright stubs (tests/pyright_stubs.py) save work without hiding the providers' types.

The project's own pyright run checks `tests/typing_probe.py`, which uses the providers the way the program
does: its `assert_type`s must hold and each deliberate misuse must fail by the rule its ignore names (an
unneeded ignore is an error there); a test here holds the probe to that. Pyright-free tests hold each stub
to the names its package really exports at run time, and to the declarations of its module.
"""

from __future__ import annotations

import ast
import importlib
import re
import shutil
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from tests import pyright_module_stubs, pyright_stubs

PROBE = Path(__file__).with_name("typing_probe.py")
"""The providers' uses and misuses that the pyright stage of `./run test` checks through the stubs."""


def test_the_pyright_stage_holds_the_probe_to_every_type_and_error() -> None:
    """`tests/typing_probe.py` is checked by the project's own pyright run (it is in `include`, in no
    `exclude`): its `assert_type`s pin the providers' types, and its first line turns an ignore that
    suppresses nothing into an error, so each misuse must still fail by exactly the rule its ignore names.
    (Run without the stubs, pyright reports 7 errors there: the three names only a stub leaves out, and the
    Cloudflare rule's `action`, which the `.py` leaves untyped; docs/type-checking.md.)"""
    config = tomllib.loads((pyright_stubs.ROOT / "pyproject.toml").read_text())["tool"]["pyright"]
    relative = PROBE.relative_to(pyright_stubs.ROOT)
    assert any(relative.is_relative_to(path) for path in config["include"]), config["include"]
    assert not any(relative.is_relative_to(path) for path in config.get("exclude", [])), config["exclude"]
    assert config.get("stubPath") == pyright_stubs.STUB_DIR.name
    lines = PROBE.read_text().splitlines()
    assert lines[0] == "# pyright: reportUnnecessaryTypeIgnoreComment=error"
    source = ast.parse(PROBE.read_text())
    functions = {node.name: node for node in source.body if isinstance(node, ast.FunctionDef)}
    misuses = functions["misuses"]
    rules = [re.search(r"# pyright: ignore\[(\w+)\]$", lines[node.lineno - 1])
             for node in misuses.body[1:] if not isinstance(node, ast.Delete)]
    marked = [m.group(1) for m in rules if m]
    # every statement of misuses but its docstring, `role = ...` and the closing `del` is one marked misuse
    assert len(marked) == len(rules) - 1 >= 16, [lines[n.lineno - 1] for n in misuses.body]
    assert all("# type: ignore" not in line and ("ignore]" not in line or "ignore[" in line) for line in lines)
    pins = [n for n in ast.walk(functions["uses"]) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "assert_type"]
    assert len(pins) >= 15


def _stub_names(stub: Path) -> set[str]:
    """The public names a generated `__init__.pyi` binds, as pyright reads it."""
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.ImportFrom):
                names.update(alias.asname or alias.name for alias in node.names)
                if node.level == 1 and node.module:  # `from .x import ...` in an `__init__` binds x too
                    names.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                names.update(alias.asname or alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.Assign):
                names.update(target.id for target in node.targets if isinstance(target, ast.Name))

    visit(ast.parse(stub.read_text()).body)
    return {name for name in names if not name.startswith("_")}


def _runtime_names(module: ModuleType) -> set[str]:
    getattr(module, "outputs", None)  # pulumi_aws's subpackages load lazily, on an attribute's first lookup
    return {name for name in vars(module) if not name.startswith("_")}


@pytest.mark.parametrize(
    "module",
    ["pulumi_cloudflare", "pulumi_postgresql", "pulumi_random", "pulumi_tls", "pulumi_aws"]
    + [f"pulumi_aws.{service}" for service in ("ecs", "rds", "ec2", "lb", "s3", "cloudwatch", "iam", "elasticache")],
)
def test_each_stub_binds_the_names_its_package_exports(tmp_path: Path, module: str) -> None:
    """Generated afresh from the installed package, a stub names exactly what the package holds at run time."""
    package, _, sub = module.partition(".")
    source = pyright_stubs.package_dir(package) / sub.replace(".", "/") / "__init__.py"
    stub = tmp_path / "__init__.pyi"
    stub.write_text(pyright_stubs.init_stub(source))
    assert _stub_names(stub) == _runtime_names(importlib.import_module(module))


def test_a_star_import_without_a_plain_all_is_refused(tmp_path: Path) -> None:
    """The generator names what `__all__` lists; a module it cannot read that way, or a statement it does not
    know in a package `__init__`, stops it with the file named."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("from .thing import *\n")
    (package / "thing.py").write_text("__all__ = ['A']\n__all__ += ['B']\nA = B = 1\n")
    with pytest.raises(pyright_stubs.StubError, match=r"thing\.py"):
        pyright_stubs.init_stub(package / "__init__.py")
    (package / "thing.py").write_text("__all__ = ['A', 'B']\nA = B = 1\n")
    assert "from .thing import A as A, B as B" in pyright_stubs.init_stub(package / "__init__.py")
    (package / "__init__.py").write_text('"""Doc."""\nfrom .thing import *\nprint("side effect")\nwhile False:\n    pass\n')
    with pytest.raises(pyright_stubs.StubError, match="unexpected While"):
        pyright_stubs.init_stub(package / "__init__.py")


def _declarations(body: list[ast.stmt], scope: str = "") -> list[str]:
    """Everything a module declares, as pyright reads it: each function's decorators, parameters, defaults and
    return annotation, each class's decorators, bases and keywords, and each other statement (imports,
    assignments, `if` tests) whole; no docstrings, no function bodies."""
    found: list[str] = []
    for node in body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            parts = [ast.dump(d) for d in node.decorator_list] + [ast.dump(node.args), ast.dump(node.returns or ast.Pass())]
            found.append(f"{scope}{type(node).__name__} {node.name}: {' '.join(parts)}")
        elif isinstance(node, ast.ClassDef):
            parts = [ast.dump(n) for n in [*node.decorator_list, *node.bases, *node.keywords]]
            found.append(f"{scope}class {node.name}: {' '.join(parts)}")
            found += _declarations(node.body, f"{scope}{node.name}.")
        elif isinstance(node, ast.If):
            found.append(f"{scope}if {ast.dump(node.test)}")
            found += _declarations(node.body, f"{scope}if.")
            found += _declarations(node.orelse, f"{scope}else.")
        else:
            found.append(scope + ast.dump(node))
    return found


@pytest.mark.parametrize(
    "module",
    [
        "pulumi_aws/ecs/service.py",  # a resource: its Args, overloaded __init__, Output properties, get()
        "pulumi_aws/ecs/_inputs.py",  # input types and their TypedDicts, setters
        "pulumi_aws/ecs/outputs.py",  # output types
        "pulumi_aws/rds/_enums.py",  # enums
        "pulumi_cloudflare/dns_record.py",
        "pulumi_postgresql/role.py",
    ],
)
def test_a_module_stub_declares_what_its_module_declares(module: str) -> None:
    """A module's stub holds every declaration of the installed module (tests/pyright_module_stubs.py):
    same functions with the same decorators, parameters, defaults and return annotations (overloads each
    on their own), same classes with the same bases, same imports, `__all__` and assignments; only docstrings
    and function bodies (`...`) differ."""
    package, _, relative = module.partition("/")
    source = pyright_stubs.package_dir(package) / relative
    tree = ast.parse(source.read_text())
    declared = _declarations(tree.body)  # before module_stub changes the tree
    text = pyright_module_stubs.module_stub(source, tree)
    assert text is not None
    stub = ast.parse(text)
    assert _declarations(stub.body) == declared
    functions = [n for n in ast.walk(stub) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
    assert all(len(f.body) == 1 and ast.dump(f.body[0]) == ast.dump(ast.Expr(ast.Constant(...))) for f in functions)


def test_a_module_whose_types_pyright_infers_from_bodies_keeps_its_source(tmp_path: Path) -> None:
    """pyright infers an unannotated function's return type from a `.py` body, never from a stub's: such a
    module gets no stub, as an invoke does (its `__await__`); constructors, setters and name-mangled helpers
    (whose return types no caller reads) do not count."""
    invoke = pyright_stubs.package_dir("pulumi_aws") / "get_region.py"
    assert pyright_module_stubs.module_stub(invoke, ast.parse(invoke.read_text())) is None
    allowed = (
        "class A:\n    def __init__(self): self.x = 1\n    def _internal_init(self): pass\n"
        "    def __helper(self): return 1\n    @property\n    def x(self) -> int: return 1\n"
        "    @x.setter\n    def x(self, value: int): pass\n"
    )
    assert pyright_module_stubs.module_stub(tmp_path / "m.py", ast.parse(allowed)) is not None
    inferred = ("def f():\n    return 1\n", "class A:\n    def g(self):\n        return 1\n")
    for body in (*inferred, "try:\n    x = 1\nexcept E:\n    x = 2\n"):
        assert pyright_module_stubs.module_stub(tmp_path / "m.py", ast.parse(body)) is None, body


def test_the_modules_the_project_uses_are_stubbed() -> None:
    """From the project's own source, the stubs reach the modules that declare what it uses, and the input and
    output types their signatures name (`from . import outputs`, `from ._inputs import *`)."""
    pyright_stubs.ensure()
    stubs = pyright_stubs.STUB_DIR
    for module in (
        "pulumi_aws-stubs/ecs/service.pyi",
        "pulumi_aws-stubs/ecs/_inputs.pyi",
        "pulumi_aws-stubs/ecs/outputs.pyi",
        "pulumi_aws-stubs/rds/_enums.pyi",
        "pulumi_cloudflare-stubs/dns_record.pyi",
        "pulumi_cloudflare-stubs/_inputs.pyi",
        "pulumi_cloudflare-stubs/outputs.pyi",
        "pulumi_postgresql-stubs/role.pyi",
    ):
        assert (stubs / module).is_file(), module
    assert not (stubs / "pulumi_aws-stubs/get_region.pyi").exists()  # an invoke keeps its source


def test_a_lost_module_stub_is_made_again(tmp_path: Path) -> None:
    """`modules.json` records what was stubbed; a stub missing from the directory (a partial restore) is made
    again, never trusted to be there."""
    pyright_stubs.ensure()
    copy = tmp_path / "stubs"
    shutil.copytree(pyright_stubs.STUB_DIR, copy)
    # a module the project names, and one reached only through other modules' imports
    lost = [copy / "pulumi_aws-stubs/ecs/service.pyi", copy / "pulumi_aws-stubs/_inputs.pyi"]
    kept = [stub.read_text() for stub in lost]
    for stub in lost:
        stub.unlink()
    assert pyright_stubs.add_module_stubs(copy, pyright_stubs.project_source()) == 2
    assert [stub.read_text() for stub in lost] == kept
    assert pyright_stubs.add_module_stubs(copy, pyright_stubs.project_source()) == 0  # and then current
