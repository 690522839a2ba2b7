"""`ops.plan.cache`: a `python -m ops` child reuses a plan the test session made only when the code, the config,
the installed SDKs and the plan-relevant environment are the same; anything else plans afresh."""

from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
import sys
import types
from pathlib import Path

import pytest

import ops.plan.cache
from ops.diff.forked import _installed_prefixes, _project_module
from ops.plan.cache import CACHE_ENV, PROGRAM_PACKAGES, plan_key, private_directory, serving, stored
from ops.stackfile import ROOT, read_stack_config
from tests.ops_cli import planning_env, run_forked, run_ops
from tests.planning import stack_plan

MARK = "served-from-the-store"


def scratch_copy(path: Path) -> Path:
    """What the CLI tests copy into their scratch repositories: the program and the packages it imports."""
    for name in ("__main__.py", "Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, path / name)
    for name in PROGRAM_PACKAGES:
        shutil.copytree(ROOT / name, path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return path


def test_a_child_reuses_a_plan_of_the_same_code_and_plans_changed_code_afresh(tmp_path: Path) -> None:
    store, log = tmp_path / "store", tmp_path / "plans.log"
    store.mkdir()
    (tmp_path / "project").mkdir()
    project = scratch_copy(tmp_path / "project")
    config = read_stack_config("dev")
    marked = dataclasses.replace(stack_plan("dev"), outputs={**stack_plan("dev").outputs, "mark": MARK})
    stored(plan_key(config, ROOT / "__main__.py", "floyo-infra"), lambda: marked, str(store))  # this repository's key
    env = planning_env(**{CACHE_ENV: str(store), "FLOYO_PLAN_LOG": str(log)})

    same = run_ops("plan", "dev", "--json", cwd=project, env=env)
    assert same.returncode == 0, same.stderr
    assert json.loads(same.stdout)["outputs"]["mark"] == MARK  # the same code in another directory: the stored plan
    assert not log.exists()  # and nothing was planned

    module = project / "components" / "kms_key.py"
    module.write_text(module.read_text() + "\n# one more line\n")  # a comment: the plan would not even change
    changed = run_ops("plan", "dev", "--json", cwd=project, env=env)
    assert changed.returncode == 0, changed.stderr
    assert "mark" not in json.loads(changed.stdout)["outputs"]  # planned afresh ...
    assert log.read_text().split() == ["dev"]
    assert len(list(store.glob("*.pickle"))) == 2  # ... and filed under the changed code's own key


def test_the_key_changes_with_config_code_environment_and_sdk_versions(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config, program = read_stack_config("dev"), ROOT / "__main__.py"
    key = plan_key(config, program, "floyo-infra", {})
    assert plan_key(config, program, "floyo-infra", {}) == key
    assert plan_key(config, program, "floyo-infra", {CACHE_ENV: "/x", "FLOYO_PLAN_LOG": "/y", "HOME": "/z"}) == key
    changed_config = dataclasses.replace(config, values={**config.values, "floyo-infra:tier": "prod"})
    assert plan_key(changed_config, program, "floyo-infra", {}) != key
    assert plan_key(dataclasses.replace(config, secret_keys=["floyo-infra:cdn"]), program, "floyo-infra", {}) != key
    assert plan_key(config, program, "floyo-baseline", {}) != key
    assert plan_key(config, program, "floyo-infra", {"FLOYO_PREVIEW_WITHOUT_DB_CREDENTIALS": "1"}) != key
    assert plan_key(config, ROOT / "baseline" / "__main__.py", "floyo-infra", {}) != key
    shutil.copy(program, tmp_path / "__main__.py")
    assert plan_key(config, tmp_path / "__main__.py", "floyo-infra", {}) != key  # no Pulumi.yaml beside it
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    assert plan_key(config, tmp_path / "__main__.py", "floyo-infra", {}) == key  # the same files elsewhere
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text() + "# changed\n")
    assert plan_key(config, tmp_path / "__main__.py", "floyo-infra", {}) != key
    monkeypatch.setattr(ops.plan.cache, "installed_versions", lambda: [sys.version, "pulumi-aws==0.0.1"])
    assert plan_key(config, program, "floyo-infra", {}) != key


def test_only_a_python_m_ops_process_consults_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test that plans in its own process (patched mocks, say) must never be handed a stored plan."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert not serving()  # this process is pytest's
    calls: list[int] = []
    first = pickle.loads(stored("k", lambda: calls.append(1) or {"n": 1}, str(tmp_path)))
    again = pickle.loads(stored("k", lambda: calls.append(2) or {"n": 2}, str(tmp_path)))
    assert first == again == {"n": 1} and calls == [1]
    with pytest.raises(RuntimeError, match="no plan"):
        stored("failing", lambda: (_ for _ in ()).throw(RuntimeError("no plan")), str(tmp_path))
    assert not (tmp_path / "failing.pickle").exists()  # a failure files nothing


def _loaded_outside_the_packages(out: str) -> None:
    """In a fork of the fork server (which planned dev and imported what the commands need): the project
    modules loaded from anywhere but `PROGRAM_PACKAGES` and the tests' own helpers."""
    installed = _installed_prefixes()
    outside = sorted(name for name, module in list(sys.modules.items())
                     if _project_module(module, installed) and name.split(".")[0] not in (*PROGRAM_PACKAGES, "tests"))
    Path(out).write_text(json.dumps(outside))


def test_a_plan_loads_project_code_only_from_the_hashed_packages(tmp_path: Path) -> None:
    """The key hashes `PROGRAM_PACKAGES`: a program importing project code from elsewhere would make it stale."""
    out = tmp_path / "loaded.json"
    assert run_forked(f"{__name__}:_loaded_outside_the_packages", str(out), timeout=120) == 0
    assert json.loads(out.read_text()) == []


def test_the_store_is_used_only_in_a_directory_private_to_this_user(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The store unpickles what it finds, and unpickling runs code: a directory others can write is ignored."""
    store = tmp_path / "store"
    store.mkdir(mode=0o700)
    monkeypatch.setenv(CACHE_ENV, str(store))
    monkeypatch.setitem(sys.modules, "__main__", types.SimpleNamespace(__spec__=types.SimpleNamespace(name="ops.__main__")))
    assert private_directory(str(store)) and serving()  # as `python -m ops` in the session's own store
    for mode in (0o720, 0o702, 0o777):
        store.chmod(mode)
        assert not private_directory(str(store)) and not serving(), oct(mode)
    store.chmod(0o700)
    assert not private_directory(str(tmp_path / "absent"))
    (tmp_path / "file").write_text("")
    assert not private_directory(str(tmp_path / "file"))


def test_the_key_holds_every_installed_distribution_not_only_the_sdks() -> None:
    """pydantic validates the settings, botocore's endpoint data decides the regions, ruamel.yaml reads the file."""
    versions = ops.plan.cache.installed_versions()
    for name in ("pydantic", "botocore", "ruamel.yaml", "pulumi", "pulumi_aws"):
        assert any(v.startswith(f"{name}==") for v in versions), name


def test_a_store_others_can_write_or_a_link_is_never_read_nor_filed(tmp_path: Path) -> None:
    """The test session reads the store through `stored` too: it must refuse the same directories `serving` does."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o700)
    (shared / "k.pickle").write_bytes(pickle.dumps({"planted": True}))
    assert pickle.loads(stored("k", lambda: {"made": 1}, str(shared))) == {"planted": True}  # private: used
    shared.chmod(0o777)
    assert pickle.loads(stored("k", lambda: {"made": 2}, str(shared))) == {"made": 2}  # others can write: not read
    assert not (shared / "j.pickle").exists() and pickle.loads(stored("j", lambda: 3, str(shared))) == 3
    assert not (shared / "j.pickle").exists()  # ... nor filed there
    shared.chmod(0o700)
    link = tmp_path / "link"
    link.symlink_to(shared)
    assert pickle.loads(stored("k", lambda: {"made": 4}, str(link))) == {"made": 4}  # a link: not followed
