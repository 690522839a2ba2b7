"""The documented secret flow end to end (issue 11): every key the README sets with
`pulumi config set --secret` present as a `secure:` value in both stack files, then
`ops diff` (which plans both revisions) and `ops promote` (which plans the target) on both
stacks, in a scratch copy of the project under git."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from ops.stackfile import ROOT
from stacks.loader import secret_paths
from tests.ops_cli import run_ops
from tests.scratch_repos import git, project_repo

CIPHERTEXT = "v1:AAAAbm90LWEtcmVhbC1jaXBoZXJ0ZXh0LW9mLXRoZS1zZWNyZXQ="
DOCUMENTED = re.compile(r"pulumi config set --secret (?:--path )?'?([a-z-]+:[A-Za-z_.]+)'?")


def documented_secret_keys() -> list[str]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    return sorted(set(DOCUMENTED.findall("\n".join(p.read_text() for p in pages))))


def with_secure_values(text: str, keys: list[str]) -> str:
    """Add a `secure:` value for each key, the way `pulumi config set --secret [--path]` writes them."""
    sections: dict[str, list[str]] = {}
    for key in keys:
        top, _, sub = key.partition(".")
        sections.setdefault(top, []).append(sub)
    for top, subs in sections.items():
        if not subs[0]:
            text += f"  {top}:\n    secure: {CIPHERTEXT}\n"
            continue
        block = "".join(f"    {sub}:\n      secure: {CIPHERTEXT}\n" for sub in subs)
        if f"  {top}:\n" in text:
            text = text.replace(f"  {top}:\n", f"  {top}:\n{block}", 1)
        else:
            text += f"  {top}:\n{block}"
    return text


def ops(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_ops(*args, cwd=project, timeout=600)


def test_documented_secrets_plan_diff_and_promote_on_both_stacks(tmp_path: Path) -> None:
    keys = documented_secret_keys()
    assert {f"floyo-infra:{p}" for p in secret_paths()} <= set(keys), keys
    assert "cloudflare:apiToken" in keys
    (tmp_path / "project").mkdir()
    project = project_repo(tmp_path / "project")  # the base: the committed stacks, no secrets
    for stack in ("dev", "prod"):
        path = project / f"Pulumi.{stack}.yaml"
        path.write_text(with_secure_values(path.read_text(), keys))

    for stack in ("dev", "prod"):  # diff plans the base and the working tree, each with its secrets
        result = ops(project, "diff", stack, "--base", "HEAD", "--fail-on-danger")
        assert result.returncode == 0, result.stderr
        assert "sentry-dsn" in result.stdout  # the secret's Secrets Manager resources are added
        assert CIPHERTEXT not in result.stdout and "offline-placeholder" not in result.stdout

    git(project, "commit", "-qam", "set the documented secrets")
    dev = project / "Pulumi.dev.yaml"
    dev.write_text(dev.read_text().replace("app_version: 2026.11.3", "app_version: 2026.11.4"))
    git(project, "commit", "-qam", "dev release")
    to_prod = ops(project, "promote", "--from", "dev", "--to", "prod")
    assert to_prod.returncode == 0, to_prod.stderr
    assert "floyo-infra:backend.app_version" in to_prod.stdout and CIPHERTEXT not in to_prod.stdout
    prod_text = (project / "Pulumi.prod.yaml").read_text()
    assert prod_text.count(f"secure: {CIPHERTEXT}") == len(keys)  # the secrets stay as they were
    git(project, "commit", "-qam", "promoted")
    back = ops(project, "promote", "--from", "prod", "--to", "dev", "--dry-run")
    assert back.returncode == 0, back.stderr
    assert "nothing to promote" in back.stdout
