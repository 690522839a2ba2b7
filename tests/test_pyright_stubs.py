"""The pyright stubs (tests/pyright_stubs.py) save work without hiding the providers' types.

One pyright run (the project's configuration, stubs in place) checks two small probes that use the
providers the way the program does: the clean one must give no error and the exact types the providers
declare; the broken one must give each deliberate error, and nothing else. A second, pyright-free test
holds each stub to the names its package really exports at run time.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests import pyright_module_stubs, pyright_stubs

PYRIGHT = Path(sys.executable).parent / "pyright"

# How the program uses the providers (components/*.py): typed resources, their Args, outputs and apply.
CLEAN = """\
import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_postgresql as postgresql
import pulumi_random as random

service = aws.ecs.Service(
    "svc",
    cluster="c",
    desired_count=2,
    load_balancers=[aws.ecs.ServiceLoadBalancerArgs(container_name="api", container_port=8000, target_group_arn="tg")],
)
cluster = aws.rds.Cluster("db", engine=aws.rds.EngineType.AURORA_POSTGRESQL)
record = cloudflare.DnsRecord("rec", zone_id="z", name="api", type="CNAME", ttl=1, proxied=True)
role = postgresql.Role("tenant", login=False)
password = random.RandomPassword("pw", length=32)
shout: pulumi.Output[str] = role.name.apply(lambda name: name.upper())
reveal_type(service.desired_count)  # reveal: Output[int | None]
reveal_type(service.load_balancers)  # reveal: Output[Sequence[ServiceLoadBalancer] | None]
reveal_type(cluster.engine)  # reveal: Output[str]
reveal_type(record.proxied)  # reveal: Output[bool]
reveal_type(role.name)  # reveal: Output[str]
reveal_type(password.result)  # reveal: Output[str]
reveal_type(shout)  # reveal: Output[str]
reveal_type(aws.get_region_output)  # reveal-start: (endpoint: str | Awaitable[str | None]
reveal_type(aws.get_region_output().apply(lambda found: found.region))  # reveal: Output[str]
by_args = aws.ecs.Service("svc2", aws.ecs.ServiceArgs(cluster="c"))  # the resource's second overload
reveal_type(by_args.cluster)  # reveal: Output[str]
reveal_type(aws.ecs.Service.get)  # reveal-start: (resource_name: str, id: str | Awaitable[str] | Output[str]
balancer = aws.ecs.ServiceLoadBalancerArgs(container_name="api", container_port=8000)
reveal_type(balancer.container_port)  # reveal: int | Awaitable[int] | Output[int]
as_dict: aws.ecs.ServiceLoadBalancerArgsDict = {"container_name": "api", "container_port": 8000}
ports = service.load_balancers.apply(lambda found: [one.container_port for one in found or []])
reveal_type(ports)  # reveal: Output[list[int]]
reveal_type(aws.rds.EngineType.AURORA_POSTGRESQL)  # reveal: Literal[EngineType.AURORA_POSTGRESQL]
reveal_type(cloudflare.RulesetRuleArgs)  # reveal: type[RulesetRuleArgs]
reveal_type(cloudflare.get_zone_output(zone_id="z").apply(lambda found: found.name))  # reveal: Output[str]
"""

# The same uses, each broken once; `# expect: <rule>` names the error pyright must report on that line.
BROKEN = """\
import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_postgresql as postgresql
from pulumi_cloudflare import typing as _typing  # expect: reportAttributeAccessIssue

aws.ecs.Service("svc", cluster="c", desired_count="two")  # expect: reportArgumentType
aws.ecs.ServiceLoadBalancerArgs(container_name="api", container_port="8000")  # expect: reportArgumentType
aws.rds.Cluster("db", engine=aws.rds.EngineType.AURORA_POSTGRES)  # expect: reportAttributeAccessIssue
cloudflare.DnsRecord("rec", zone_id="z", name="api", type="CNAME", ttl=1, colour="orange")  # expect: reportCallIssue
role = postgresql.Role("tenant", login=False)
role.password_hash  # expect: reportAttributeAccessIssue
count: pulumi.Output[int] = role.name.apply(lambda name: name.upper())  # expect: reportAssignmentType
from pulumi_aws.ecs.service import warnings  # expect: reportAttributeAccessIssue
from pulumi_cloudflare.outputs import pulumi as _pulumi  # expect: reportAttributeAccessIssue
aws.ecs.Service("svc2", aws.ecs.ServiceArgs(cluster="c"), desired_count=2)  # expect: reportArgumentType
as_dict: aws.ecs.ServiceLoadBalancerArgsDict = {"container_name": "api", "container_port": "8000"}  # expect: reportAssignmentType
aws.ecs.ServiceArgs(cluster="c").desired_count = "two"  # expect: reportAttributeAccessIssue
cloudflare.RulesetRuleArgs(expression="true", action=1)  # expect: reportArgumentType
aws.get_region_output().apply(lambda found: found.regoin)  # expect: reportAttributeAccessIssue
"""
# Three expectations are the stubs' own marks: through a stub, a name a module imports for itself (`typing` in
# a package `__init__`, `warnings` in a resource module, `pulumi` in Cloudflare's outputs) is simply absent
# (reportAttributeAccessIssue); read from the `.py` it would be reportPrivateImportUsage. So these lines fail if
# pyright is not reading the package stubs, or the module stubs, at all.


def _pyright(*files: Path) -> list[dict]:
    result = subprocess.run(
        [str(PYRIGHT), "--outputjson", "-p", str(pyright_stubs.ROOT), *map(str, files)],
        capture_output=True,
        text=True,
        cwd=pyright_stubs.ROOT,
        timeout=600,
    )
    assert result.stdout, result.stderr
    return json.loads(result.stdout)["generalDiagnostics"]


def _marks(source: str, tag: str) -> dict[int, str]:
    """{0-based line: text after `# <tag>: `} for the probe's marked lines."""
    marks = {}
    for number, line in enumerate(source.splitlines()):
        found = re.search(rf"# {tag}: (.+)$", line)
        if found:
            marks[number] = found.group(1)
    return marks


def test_pyright_reports_the_providers_types_through_the_stubs(tmp_path: Path) -> None:
    pyright_stubs.ensure()
    assert pyright_stubs.is_current(pyright_stubs.STUB_DIR)
    clean, broken = tmp_path / "clean.py", tmp_path / "broken.py"
    clean.write_text(CLEAN)
    broken.write_text(BROKEN)

    diagnostics = _pyright(clean, broken)
    by_file: dict[str, list[dict]] = {str(clean): [], str(broken): []}
    for diagnostic in diagnostics:
        by_file[diagnostic["file"]].append(diagnostic)

    errors = [d for d in by_file[str(clean)] if d["severity"] != "information"]
    assert errors == [], errors
    revealed = {d["range"]["start"]["line"]: d["message"] for d in by_file[str(clean)] if d["severity"] == "information"}
    for line, want in _marks(CLEAN, "reveal").items():
        assert revealed.get(line, "").endswith(f'is "{want}"'), (line + 1, want, revealed.get(line))
    for line, want in _marks(CLEAN, "reveal-start").items():
        assert f'is "{want}' in revealed.get(line, ""), (line + 1, want, revealed.get(line))

    reported = sorted((d["range"]["start"]["line"], d.get("rule", "")) for d in by_file[str(broken)])
    expected = sorted(_marks(BROKEN, "expect").items())
    assert reported == expected, "\n".join(
        f"{d['range']['start']['line'] + 1}: {d.get('rule')}: {d['message']}" for d in by_file[str(broken)]
    )


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
