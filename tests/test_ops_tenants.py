"""`python -m ops tenants`: minimal in-place edits of the stack file, validated, with the diff they cause."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest

from ops.__main__ import main
from ops.release.tenants import StackFile
from ops.stackfile import ROOT, read_stack_config
from tests.ops_cli import run_ops, run_ops_here
from tests.planning import settings_for


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    for stack in ("dev", "prod"):
        shutil.copy(ROOT / f"Pulumi.{stack}.yaml", tmp_path)
    return tmp_path


def ops_tenants(stack_dir: Path, *args: str) -> int:
    """`ops tenants ARGS --no-diff` in this process (test_add_prints_the_offline_diff_it_causes runs the diff)."""
    return main(["tenants", *args, "--stack-dir", str(stack_dir), "--no-diff"])


def changed_lines(stack_dir: Path, stack: str = "dev") -> list[str]:
    before = (ROOT / f"Pulumi.{stack}.yaml").read_text().splitlines()
    after = (stack_dir / f"Pulumi.{stack}.yaml").read_text().splitlines()
    return [line for line in difflib.unified_diff(before, after, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def tenants_of(stack_dir: Path, stack: str = "dev") -> dict[str, dict]:
    settings = settings_for(read_stack_config(stack, stack_dir))
    return {t.slug: t.model_dump() for t in settings.tenants}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_an_untouched_round_trip_is_byte_identical(stack: str) -> None:
    file = StackFile.load(stack, ROOT)
    assert file.render() == file.text


def test_add_appends_only_the_tenants_lines(stack_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = ops_tenants(stack_dir, "dev", "add", "newco", "--connection-limit", "4", "--statement-timeout-ms",
                       "5000", "--flag", "beta=true", "--flag", "old_ui=false")
    assert code == 0, capsys.readouterr().err
    assert changed_lines(stack_dir) == ["+    - slug: newco", "+      connection_limit: 4",
                                        "+      statement_timeout_ms: 5000", "+      feature_flags:",
                                        "+        beta: true", "+        old_ui: false"]
    added = tenants_of(stack_dir)["newco"]
    assert (added["connection_limit"], added["statement_timeout_ms"]) == (4, 5000)
    assert added["feature_flags"] == {"beta": True, "old_ui": False}
    assert "added tenant 'newco'" in capsys.readouterr().out


def test_add_prints_the_offline_diff_it_causes(stack_dir: Path) -> None:
    # a `python -m ops` child: the diff's base, the committed dev file, comes from the session's plan store
    result = run_ops("tenants", "dev", "add", "newco", "--flag", "beta=true", "--stack-dir", str(stack_dir))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "3 to add, 1 to change, 0 to remove" in out  # role, schema, login; the task definition
    for name in ("tenants-newco", "tenants-newco-login"):
        assert f"  {name}" in out
    assert "TENANT_SETTINGS].value.tenants.newco" in out  # the one env var the flag changes


@pytest.mark.parametrize(("args", "message"), [
    (["add", "acme"], "already has a tenant 'acme'"),
    (["add", "newco", "--connection-limit", "0"], "floyo-infra:tenants[newco].connection_limit: got 0"),
    (["add", "newco", "--connection-limit", "50"], "floyo-infra:tenants[newco].connection_limit: got 50"),
    (["add", "newco", "--statement-timeout-ms", "5"], "floyo-infra:tenants[newco].statement_timeout_ms: got 5"),
    (["add", "newco", "--flag", "beta=yes"], "--flag 'beta=yes': expected NAME=true or NAME=false"),
    (["add", "newco", "--flag", "Beta=true"], "floyo-infra:tenants[newco].feature_flags"),
    (["add", "App"], "floyo-infra:tenants[App].slug"),
    (["add", "app_x"], "is reserved"),
    (["add"], "`add` needs a tenant SLUG"),
    (["remove", "nobody"], "stack 'dev' has no tenant 'nobody' (tenants: acme, globex, initech)"),
    (["drop", "nobody"], "has no tenant 'nobody'"),
    (["remove", "acme", "--flag", "x=true"], "go with `add` only"),
])
def test_bad_input_exits_2_with_one_message_and_writes_nothing(
    stack_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str,
) -> None:
    assert ops_tenants(stack_dir, "dev", *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert "Traceback" not in err
    assert changed_lines(stack_dir) == []


BROKEN = {
    # name: (a line of dev's file, what replaces it, what the refusal names)
    "tenants a mapping": ("  floyo-infra:tenants:\n    - slug: acme\n    - slug: globex\n    - slug: initech\n",
                          "  floyo-infra:tenants:\n    slug: acme\n",
                          'floyo-infra:tenants: got {"slug": "acme"}; must be a list'),
    "another key invalid": ("  floyo-infra:tier: dev\n", "  floyo-infra:tier: staging\n",
                            "floyo-infra:tier: got 'staging'"),
}


@pytest.mark.parametrize("action", [["add", "newco"], ["remove", "acme"], ["drop", "acme"], ["list"]])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_an_invalid_file_is_refused_before_any_edit(stack_dir: Path, case: str, action: list[str]) -> None:
    """Fuzz, session 2: `tenants add` on a file whose tenants were a mapping crashed (`CommentedMap` has no `append`,
    a traceback, exit 1), and `remove`/`drop` said the stack has no such tenant: the file was edited before the one
    loader (`ops.stackfile.load_stack`) had validated it, and one already invalid elsewhere was blamed on the edit."""
    path = stack_dir / "Pulumi.dev.yaml"
    text = path.read_text()
    old, new, names = BROKEN[case]
    assert old in text
    path.write_text(text.replace(old, new))
    before = path.read_text()
    result = run_ops_here("tenants", "dev", *action, "--no-diff", "--stack-dir", str(stack_dir))
    where = f"{case} / {action}: exit {result.returncode}\n{result.stderr}"
    assert result.returncode == 2 and "Traceback" not in result.stderr, where
    assert result.stderr.startswith(f"error: {path}: invalid settings for stack 'dev' (1 problem):\n"), where
    assert names in result.stderr, where
    assert path.read_text() == before
    if action[0] in ("remove", "drop"):  # review: the tool can't be the repair, so it says how to repair
        assert "is invalid before any edit" in result.stderr and "by hand" in result.stderr, where


def test_unknown_stack_exits_2(stack_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ops_tenants(stack_dir, "staging", "add", "newco") == 2
    assert "unknown stack 'staging'" in capsys.readouterr().err


def test_remove_deletes_only_its_line_and_keeps_the_data(stack_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ops_tenants(stack_dir, "prod", "remove", "globex") == 0
    assert changed_lines(stack_dir, "prod") == ["-    - slug: globex"]
    assert set(tenants_of(stack_dir, "prod")) == {"acme", "initech"}
    assert "schema and data are kept" in capsys.readouterr().out


def test_drop_is_two_steps_and_remove_refuses_an_armed_tenant(
    stack_dir: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    assert ops_tenants(stack_dir, "dev", "drop", "globex") == 0
    out = capsys.readouterr().out
    assert "step 1 of 2" in out and "state: ARMED" in out and "drop globex` again" in out
    assert changed_lines(stack_dir) == ["+      drop_schema: true"]
    assert tenants_of(stack_dir)["globex"]["drop_schema"] is True
    assert ops_tenants(stack_dir, "dev", "remove", "globex") == 2
    assert "DROPS its schema and data" in capsys.readouterr().err
    assert ops_tenants(stack_dir, "dev", "drop", "globex") == 0
    out = capsys.readouterr().out
    assert "step 2 of 2" in out and "state: REMOVED" in out and "DROP SCHEMA globex CASCADE" in out
    assert changed_lines(stack_dir) == ["-    - slug: globex"]
    assert "globex" not in tenants_of(stack_dir)


def test_list_shows_each_tenants_effective_settings(stack_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ops_tenants(stack_dir, "dev", "add", "newco", "--connection-limit", "4") == 0
    capsys.readouterr()
    assert ops_tenants(stack_dir, "dev", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    newco = next(line for line in lines if line.startswith("newco "))
    acme = next(line for line in lines if line.startswith("acme "))
    assert "connections 4 " in newco and "connections 2 " in acme  # dev's default is 2
    assert "statement_timeout_ms 30000" in acme
    assert lines[-1] == "4 tenant(s) in Pulumi.dev.yaml"


def test_a_large_diff_is_summarized_dangerous_first() -> None:
    from ops.diff.plans import diff_plans
    from ops.release.tenants import render

    def plan(slugs: list[str]) -> dict:
        resources = []
        for slug in slugs:
            for token in ("postgresql:index/role:Role", "postgresql:index/schema:Schema"):
                resources.append({"urn": f"urn:{token}:{slug}", "type": token, "name": f"tenants-{slug}",
                                  "parent": "", "inputs": {"name": slug}})
        return {"resources": resources}

    many = [f"t{i:04d}" for i in range(40)]
    text = render(diff_plans("dev", plan(["gone"]), plan(many)))
    lines = text.splitlines()
    assert lines[0] == "offline diff of stack 'dev' (summarized: 82 resources changed)"
    assert lines[1].startswith("DANGEROUS (2): ") and "tenants-gone" in lines[1]  # the removed role and schema
    assert "     40 to add    postgresql:index/role:Role" in lines and len(lines) == 6
    few = render(diff_plans("dev", plan(many), plan([*many, "newco"])))  # 40 tenants plus one: in full
    assert "+ postgresql:index/schema:Schema  tenants-newco" in few and "summarized" not in few
