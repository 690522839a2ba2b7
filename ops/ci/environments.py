"""The GitHub environments the workflows run in: their protection and what each token may reach.

One table, read by `python -m ops bootstrap` (which creates the environments with exactly this protection)
and by the tests that hold the docs (docs/ci.md, docs/first-deploy.md) and the plan's StackReferences to it.

Pulumi Cloud scopes are `(permission, "<project>/<stack>")` patterns (fnmatch), inside the one organization:
`read` is Pulumi Cloud's "Stack Read" permission set, `write` its "Stack Write". A stack's program reads every
stack it names in a `StackReference` with the token of the job that runs it, so each such stack must be in the
scopes of every environment that runs the program (deploy, preview, drift): `tests/test_environments.py`
checks that against the plan.

Protection (GitHub REST "Create or update an environment",
<https://docs.github.com/en/rest/deployments/environments#create-or-update-an-environment>):
* `main_only`: `deployment_branch_policy` with custom branch policies and one policy, branch `main`. A job
  whose ref is anything else (a pull request's merge ref, a pushed branch) cannot enter the environment,
  whatever its workflow file says. That keeps code out only because `main` is protected: the bootstrap's
  ruleset (ops/ci/main_ruleset.py) admits reviewed pull requests only.
* `reviewers`: required reviewers (ids given to the bootstrap), with `prevent_self_review`. GitHub offers
  required reviewers on Free, Pro and Team only for public repositories; a private repository needs
  Enterprise. Secrecy does not rest on them alone, but `main_only` is not enough for `preview`: any write
  user may dispatch preview.yml (from main) for their own pull request, so preview.yml itself refuses
  unless the commit carries an APPROVED review by someone other than the PR's author and the dispatcher.
  `preview` holds Stack Read on every stack (`*/*`), so such a preview can decrypt every stack's secrets:
  docs/ci.md, "What a preview can show", says why that is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from stacks.account import BASELINE_PROJECT

APP_PROJECT = "floyo-infra"
"""The app's Pulumi project (Pulumi.yaml `name`)."""


@dataclass(frozen=True)
class Environment:
    """One GitHub environment: its rules and its tokens' reach."""

    name: str
    reviewers: bool
    """Required reviewers (and prevent self-review) before a job enters it."""
    pulumi: tuple[tuple[str, str], ...]
    """`PULUMI_ACCESS_TOKEN`'s scopes: (`read`|`write`, `<project>/<stack>` pattern)."""
    cloudflare: str
    """`CLOUDFLARE_API_TOKEN`: what it may do ('' when the environment holds none)."""
    main_only: bool = True
    """Deployment branches: `main` only."""


BASELINE_STACKS = f"{BASELINE_PROJECT}/*"

ENVIRONMENTS: tuple[Environment, ...] = (
    Environment("dev", False, (("write", f"{APP_PROJECT}/dev"), ("read", BASELINE_STACKS)),
                "edit, dev's zone only"),
    Environment("production", True, (("write", f"{APP_PROJECT}/prod"), ("read", BASELINE_STACKS)),
                "edit, prod's zone only"),
    # no reviewers: main-only already keeps branch code out, and a reviewer here would hold every merge's
    # dev deploy (deploy.yml: dev needs baseline) until someone approves
    Environment("baseline", False, (("write", BASELINE_STACKS),), ""),
    # every stack: one environment serves every stack's preview job, and each reads the baseline too; the
    # code it runs is a commit approved by a third person (preview.yml). Accepted: docs/ci.md
    Environment("preview", True, (("read", "*/*"),), "read permissions only, both zones"),
    Environment("drift", False, (("read", "*/*"),), "read permissions only, both zones"),
    Environment("promote", False, (("read", f"{APP_PROJECT}/dev"),), ""),
)


def environment(name: str) -> Environment:
    """The environment called `name` (an app stack not in the table deploys like `dev`)."""
    found = {e.name: e for e in ENVIRONMENTS}
    if name in found:
        return found[name]
    return Environment(name, False, (("write", f"{APP_PROJECT}/{name}"), ("read", BASELINE_STACKS)),
                       f"edit, {name}'s zone only")


def may(env: Environment, permission: str, project_stack: str) -> bool:
    """Whether the environment's Pulumi token may `permission` (`read` or `write`) `<project>/<stack>`."""
    allowed = {"read": {"read", "write"}, "write": {"write"}}[permission]
    return any(p in allowed and fnmatchcase(project_stack, pattern) for p, pattern in env.pulumi)


def describe(env: Environment) -> str:
    """The Pulumi token's scopes as the docs write them: `Stack Write on floyo-infra/dev, Stack Read on ...`."""
    words = {"read": "Stack Read", "write": "Stack Write"}
    return ", ".join(f"{words[p]} on {'every stack' if s == '*/*' else s}" for p, s in env.pulumi)
