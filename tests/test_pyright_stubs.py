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

from tests import pyright_stubs

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
"""
# The first expectation is the stubs' own mark: through a stub, a name the package's `__init__` imports
# for itself (`typing`) is simply absent (reportAttributeAccessIssue); read from the `.py` it would be
# reportPrivateImportUsage. So this line fails if pyright is not reading the stubs at all.


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
