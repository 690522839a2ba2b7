"""`python -m ops policy-venv`: create the policy pack's virtualenv, the one `PulumiPolicy.yaml` names.

`pulumi preview/up --policy-pack policy/` starts the pack with `<pack>/<virtualenv>/bin/python` and
installs nothing for a local pack:

* pulumi/pulumi `pkg/resource/plugin/analyzer_plugin.go` (`NewPolicyAnalyzer`): a local pack is run through
  the language host's `RunPlugin`, with the pack folder as root;
* `sdk/python/cmd/pulumi-language-python/main.go` (`RunPlugin`): resolves the toolchain from the
  `runtime.options` and runs it; unlike `Run` for a program, there is no dependency installation;
* `sdk/python/toolchain/pip.go` (`resolveVirtualEnvironmentPath`, `Command`): `virtualenv` is joined to
  the pack folder, and the command is `<that>/bin/python`.

(Only `pulumi install` run inside the pack folder installs a pack's dependencies,
`pkg/cmd/pulumi/install/install.go`.) So every place that runs `--policy-pack` (the workflows' tools
action, `ops deploy`, the runbook) creates it with this one command, which reads the name from
`PulumiPolicy.yaml`: the name cannot diverge. Idempotent: a stamp of `requirements.txt`'s hash skips a
venv that is up to date.

The venv is made without pip of its own (`venv --without-pip`), and the pack's requirements are installed
into it by the pip of the interpreter running this command (`pip --python <venv>/bin/python install`,
pip >= 22.3: https://pip.pypa.io/en/stable/topics/python-option/, "Managing a different Python
interpreter"): `ensurepip` was ~3 s of CPU per venv, and nothing runs pip inside the pack's venv. When that
pip is older than 22.3 (an operator's `.venv` made by an old system `venv`, say: `python -m pip --version` is
asked first), the venv gets a pip of its own and installs with it, as before. Pulumi
runs `<venv>/bin/python -c "import pulumi.run.plugin"` and `<venv>/bin/python -u -m pulumi.policy ...`
(`RunPlugin`, the `AnalyzerPlugin` branch), both through `sdk/python/toolchain/pip.go` `Command`
(`<venv>/bin/python`), and `IsVirtualEnv` there looks for that interpreter only.
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import yaml

from ops.deployed.shell import Runner
from ops.stackfile import ROOT

POLICY_DIR = ROOT / "policy"
STAMP = ".requirements.sha"


class PolicyVenvError(Exception):
    """The pack names no virtualenv, or creating it failed."""


def virtualenv_dir(policy_dir: Path = POLICY_DIR) -> Path:
    """`<pack>/<runtime.options.virtualenv>`, as the Python toolchain resolves it."""
    path = policy_dir / "PulumiPolicy.yaml"
    doc = yaml.safe_load(path.read_text()) or {}
    runtime = doc.get("runtime") if isinstance(doc, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    name = options.get("virtualenv") if isinstance(options, dict) else None
    if not isinstance(name, str) or not name:
        raise PolicyVenvError(f"{path}: runtime.options.virtualenv is not set; Pulumi would run the pack with "
                              "whatever `python` is on PATH")
    return policy_dir / name


PIP_PYTHON_OPTION = (22, 3)
"""The first pip with `--python` (https://pip.pypa.io/en/stable/topics/python-option/: "Added in version 22.3")."""


def install_commands(policy_dir: Path = POLICY_DIR, python: str = sys.executable,
                     pip_takes_python: bool = True) -> list[tuple[str, ...]]:
    """The commands that create the venv and install `<pack>/requirements.txt` into it: without pip of its own,
    with `python`'s pip (`pip_takes_python`, the default), else with the venv's own pip (`python`'s is older
    than 22.3)."""
    venv = virtualenv_dir(policy_dir)
    install = ("install", "--quiet", "--disable-pip-version-check", "-r", str(policy_dir / "requirements.txt"))
    if not pip_takes_python:
        return [(python, "-m", "venv", str(venv)), (str(venv / "bin" / "python"), "-m", "pip", *install)]
    return [(python, "-m", "venv", "--without-pip", str(venv)),
            (python, "-m", "pip", "--python", str(venv / "bin" / "python"), *install)]


def pip_takes_python(runner: Runner, python: str = sys.executable) -> bool:
    """Whether `python -m pip` has `--python` (pip 22.3 or later), from what `pip --version` prints; False when
    it has no pip, or prints no version."""
    probe = runner.run((python, "-m", "pip", "--version", "--disable-pip-version-check"), capture=True)
    found = re.match(r"pip (\d+)\.(\d+)", probe.stdout)
    return probe.returncode == 0 and found is not None and (int(found[1]), int(found[2])) >= PIP_PYTHON_OPTION


def ensure(runner: Runner, policy_dir: Path = POLICY_DIR, python: str = sys.executable) -> Path:
    """Create or update the venv unless its stamp matches `requirements.txt`; returns its folder."""
    venv = virtualenv_dir(policy_dir)
    want = hashlib.sha256((policy_dir / "requirements.txt").read_bytes()).hexdigest()
    stamp = venv / STAMP
    if (venv / "bin" / "python").exists() and stamp.exists() and stamp.read_text().strip() == want:
        runner.say(f"policy pack venv {venv} is up to date")
        return venv
    for argv in install_commands(policy_dir, python, pip_takes_python(runner, python)):
        result = runner.run(argv, capture=False)
        if result.returncode != 0:
            raise PolicyVenvError(f"`{' '.join(argv[:4])} ...` failed (exit {result.returncode})")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(want + "\n")
    runner.say(f"policy pack venv {venv} created from {policy_dir / 'requirements.txt'}")
    return venv
