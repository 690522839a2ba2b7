"""Issue 22: every command refuses a malformed stack file the same way: one message naming the file (and the line
or the key), exit 2, never a traceback. A corpus of malformed files, each through every command."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.stackfile import ROOT
from tests.bad_input import DIFF, STACK, commands, stack_dir_with_dev
from tests.ops_cli import run_ops, run_ops_here
from tests.scratch_repos import project_history

DEV = (ROOT / "Pulumi.dev.yaml").read_text().replace("stack: dev", f"stack: {STACK}").replace(
    "zone: floyo.dev", "zone: bad.floyo.dev")
"""The dev stack file as a stack of its own (its own tag and zone): valid, until a case breaks it."""

CORPUS: dict[str, tuple[str, str]] = {
    # One case per way a reader can fail, plus one settings-level refusal (every settings refusal takes the same
    # path; each has its own in-process test in tests/test_consistency.py and tests/test_settings.py).
    # name: (file text, what the app's message must say besides the file)
    "yaml syntax": ("config:\n  aws:region: us-east-1\n  floyo-infra:tier: [dev\n", "not valid YAML"),
    "duplicate key": (DEV.replace("  floyo-infra:tier: dev\n", "  floyo-infra:tier: dev\n  floyo-infra:tier: prod\n"),
                      "not valid YAML"),
    "tab": (DEV.replace("    plan: pro\n", "\tplan: pro\n"), "not valid YAML"),
    "binary junk": ("\x00\x01config: \x7f\n", "not valid YAML"),
    "empty": ("", "floyo-infra:tier: got nothing; this key is required"),
    "config a list": ("config:\n  - aws:region: us-east-1\n", "`config:` must be a mapping"),
    "top-level list": ("- config\n", "must be a mapping with a `config:` key"),
    "key without namespace": (DEV.replace("  aws:region: us-east-1\n", "  region: us-east-1\n"),
                              "must be `namespace:name`"),
    "flat key": (DEV + "  floyo-infra:backend.cpu: '1024'\n", "pulumi config set --path 'floyo-infra:backend.cpu'"),
}
SHAPE = {"yaml syntax", "duplicate key", "tab", "binary junk", "config a list", "top-level list", "key without namespace"}
"""Cases refused by the reader itself, whatever the project: the same message for the baseline."""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository of the project, shared with tests/test_diff.py (each case adds its file, then removes it)."""
    return project_history(tmp_path_factory)


def assert_refused(result: object, where: str, expected: str | None) -> None:
    returncode, stdout, stderr = (getattr(result, k) for k in ("returncode", "stdout", "stderr"))
    where = f"{where}: exit {returncode}\n{stderr[-2000:]}"
    assert returncode == 2, where
    assert "Traceback" not in stderr and "Traceback" not in stdout, where
    first = stderr.strip().splitlines()[0]
    assert first.startswith("error: ") and f"Pulumi.{STACK}.yaml" in first, where
    if expected is not None:
        assert expected in stderr, where


IN_A_CHILD = {"binary junk", "flat key"}
"""Cases each command also runs in a real child process (`run_ops`), which must give exactly what the in-process
run gave: one the reader refuses, one the settings refuse. Every case runs `ops.__main__.main` in this process
(`run_ops_here`: the same exit code and output, without a fork per command); `ops diff` always runs in a child,
in its scratch repository."""


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_every_command_refuses_a_malformed_file_the_same_way(tmp_path: Path, repo: Path, case: str) -> None:
    text, expected = CORPUS[case]
    stack_dir = stack_dir_with_dev(tmp_path)
    (stack_dir / f"Pulumi.{STACK}.yaml").write_text(text)
    for command, args in commands(stack_dir).items():
        baseline = "baseline" in command
        wanted = expected if case in SHAPE or not baseline else None  # baseline keys: see the baseline test below
        here = run_ops_here(*args)
        assert_refused(here, f"{case} / {command}", wanted)
        if case in IN_A_CHILD:  # the evidence that the in-process run stands in for the child
            child = run_ops(*args)
            assert (child.returncode, child.stdout, child.stderr) == (here.returncode, here.stdout, here.stderr)
    (repo / f"Pulumi.{STACK}.yaml").write_text(text)
    try:
        assert_refused(run_ops(*DIFF, cwd=repo), f"{case} / diff", expected)
    finally:
        (repo / f"Pulumi.{STACK}.yaml").unlink()


def test_the_baseline_refuses_the_app_s_namespace_and_cites_its_own_file() -> None:
    """`plan --project baseline` of a bad baseline file cited a path that does not exist (the app's folder)."""
    path = ROOT / "baseline" / "Pulumi.main-use1.yaml"
    text = path.read_text()
    probe = ROOT / "baseline" / f"Pulumi.{STACK}-probe.yaml"
    assert not probe.exists()
    probe.write_text(text.replace("stack: baseline-main-use1", f"stack: baseline-{STACK}-probe")
                     + "  floyo-infra:tier: prod\n")
    try:
        result = run_ops("plan", "--project", "baseline", f"{STACK}-probe")
    finally:
        probe.unlink()
    assert result.returncode == 2, result.stderr
    assert f"error: {ROOT / 'baseline' / probe.name}: invalid settings for stack '{STACK}-probe'" in result.stderr
    assert "floyo-infra:tier: got 'prod'; belongs to the floyo-infra project" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_documented_baseline_plan_works() -> None:
    """`python -m ops plan --project baseline main-use1` printed the plan, then "unknown stack", exit 2."""
    result = run_ops("plan", "--project", "baseline", "main-use1")
    assert result.returncode == 0, result.stderr
    assert "policy: " in result.stdout and "unknown stack" not in result.stderr


def test_an_exception_escaping_an_in_process_run_shows_as_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run_ops_here` must not hide what a child would show: an uncaught exception is a traceback and exit 1."""
    import ops.__main__

    def boom(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(ops.__main__, "_tenants", boom)
    result = run_ops_here("tenants", "dev", "list")
    assert result.returncode == 1 and "Traceback" in result.stderr and "RuntimeError: boom" in result.stderr
    assert run_ops_here("no-such-command").returncode == 2  # argparse's exit, as the interpreter gives it
