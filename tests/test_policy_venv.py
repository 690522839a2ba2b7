"""The policy pack's virtualenv: the name Pulumi runs is the one every path creates (ops/release/policy_venv.py)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from ops.deployed.shell import Completed, SubprocessRunner
from ops.plan.planner import Plan
from ops.release.deploy import deploy_phases
from ops.release.policy_venv import POLICY_DIR, PolicyVenvError, ensure, install_commands, pip_takes_python, virtualenv_dir
from ops.stackfile import ROOT
from tests.fake_runner import FakeRunner
from tests.planning import stack_plan

ACTION = ROOT / ".github" / "actions" / "pulumi-tools" / "action.yml"
WORKFLOWS = ROOT / ".github" / "workflows"


def test_the_pack_names_the_venv_the_commands_create() -> None:
    named = yaml.safe_load((POLICY_DIR / "PulumiPolicy.yaml").read_text())["runtime"]["options"]["virtualenv"]
    venv = POLICY_DIR / named
    create, install = install_commands()
    assert create[-2:] == ("--without-pip", str(venv)) and install[3:5] == ("--python", str(venv / "bin" / "python"))
    assert install[-1] == str(POLICY_DIR / "requirements.txt")
    create, install = install_commands(pip_takes_python=False)  # an older pip: the venv's own installs
    assert create == (sys.executable, "-m", "venv", str(venv))
    assert install[:3] == (str(venv / "bin" / "python"), "-m", "pip") and "--python" not in install
    assert install[-1] == str(POLICY_DIR / "requirements.txt")


class _Pip(FakeRunner):
    """A FakeRunner whose `python -m pip --version` prints `version`'s line."""

    def __init__(self, version: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.version = version

    def run(self, argv: Sequence[str], capture: bool = True) -> Completed:
        if tuple(argv[1:4]) == ("-m", "pip", "--version"):
            self.log.append(("run", tuple(argv)))
            return Completed(0, f"pip {self.version} from /somewhere/pip (python 3.11)\n")
        return super().run(argv, capture)


@pytest.mark.parametrize(("version", "takes"), [("23.2.1", True), ("22.3", True), ("22.2.2", False),
                                                ("9.0.1", False)])
def test_the_pack_is_installed_by_our_pip_only_when_it_has_the_python_option(tmp_path: Path, version: str,
                                                                            takes: bool) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: .venv\n")
    (tmp_path / "requirements.txt").write_text("# nothing\n")
    runner = _Pip(version)
    assert pip_takes_python(runner) is takes
    ensure(runner, tmp_path)
    commands = [entry[1] for entry in runner.log]
    assert commands[2:] == install_commands(tmp_path, sys.executable, takes)


def test_no_pip_or_no_version_means_the_venv_s_own_pip() -> None:
    assert pip_takes_python(FakeRunner(codes={f"{sys.executable} -m pip --version": 1})) is False
    assert pip_takes_python(FakeRunner()) is False  # exit 0, but no `pip X.Y` printed


def test_the_tools_action_creates_it_with_the_one_command() -> None:
    steps = yaml.safe_load(ACTION.read_text())["runs"]["steps"]
    step = next(s for s in steps if "policy pack" in s["name"])
    assert step["run"].strip() == ".venv/bin/python -m ops policy-venv"
    assert "policy-pack == 'true'" in step["if"]
    # no second, hand-written venv of the pack anywhere in the workflows or the action
    for path in [ACTION, *WORKFLOWS.glob("*.yml")]:
        assert "venv policy/" not in path.read_text(), path


def test_every_job_that_runs_the_pack_installs_its_venv() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for name, job in (yaml.safe_load(path.read_text())["jobs"] or {}).items():
            steps = job.get("steps", [])
            if not any("--policy-pack" in str(s.get("run", "")) for s in steps):
                continue
            tools = [s for s in steps if str(s.get("uses", "")).endswith("actions/pulumi-tools")]
            assert tools, f"{path.name}: job {name} runs --policy-pack without the pulumi-tools action"
            assert all(str((s.get("with") or {}).get("policy-pack", "true")) == "true" for s in tools), name


def test_deploy_creates_it_before_any_policy_pack_run() -> None:
    plan: Plan = stack_plan("dev")
    phases = deploy_phases("dev", plan, bootstrap=True)
    assert phases[0].argv == (sys.executable, "-m", "ops", "policy-venv")
    assert all("--policy-pack" in p.argv for p in phases if p.argv[:2] == ("pulumi", "up"))


def test_a_pack_without_a_virtualenv_is_refused(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\n")
    with pytest.raises(PolicyVenvError, match=r"runtime\.options\.virtualenv"):
        virtualenv_dir(tmp_path)


def test_an_up_to_date_venv_is_kept_and_a_failed_install_stops(tmp_path: Path) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: .venv\n")
    (tmp_path / "requirements.txt").write_text("# nothing\n")
    runner = _Pip("23.2.1", codes={f"{sys.executable} -m pip --python": 1})
    with pytest.raises(PolicyVenvError, match="failed"):
        ensure(runner, tmp_path)
    assert not (tmp_path / ".venv" / ".requirements.sha").exists()


def _probe_wheel(folder: Path) -> Path:
    """A one-module wheel, `floyo_probe`, made here: a requirement pip installs with no network."""
    files = {"floyo_probe.py": b"WHERE = __file__\n",
             "floyo_probe-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: floyo-probe\nVersion: 1.0\n",
             "floyo_probe-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: floyo-tests\nRoot-Is-Purelib: true\n"
                                                b"Tag: py3-none-any\n"}
    record = "".join(f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
                     f"{len(data)}\n" for name, data in files.items()) + "floyo_probe-1.0.dist-info/RECORD,,\n"
    wheel = folder / "floyo_probe-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("floyo_probe-1.0.dist-info/RECORD", record)
    return wheel


def test_the_created_venv_is_the_python_pulumi_runs(tmp_path: Path) -> None:
    """For real (no network needed: the one requirement is a wheel made here): the interpreter exists where the
    Python toolchain looks for it, `<pack>/<virtualenv>/bin/python`, the requirements are installed into that venv
    (and not into the one running the command), and a second run only checks the stamp."""
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime:\n  name: python\n  options:\n    virtualenv: .venv\n")
    (tmp_path / "requirements.txt").write_text(f"{_probe_wheel(tmp_path)}\n")
    venv = ensure(SubprocessRunner(tmp_path), tmp_path)
    assert venv == tmp_path / ".venv"
    out = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import sys, floyo_probe; print(sys.prefix); print(floyo_probe.WHERE)"],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    assert Path(out[0]) == venv and Path(out[1]).is_relative_to(venv), out
    assert importlib.util.find_spec("floyo_probe") is None  # not in the venv that ran the command
    runner = FakeRunner()
    ensure(runner, tmp_path)
    assert runner.log == [] and "up to date" in runner.said[0]
