"""The repository ruleset that protects `main`, created by `python -m ops bootstrap` (docs/first-deploy.md, step 3).

Every GitHub environment holding a token admits `main` only (ops/ci/environments.py), which keeps code out only if
`main` itself does: without this ruleset anyone with write access could push to `main` (or merge an unreviewed
pull request) and run that code with the deploy tokens. The ruleset requires a pull request with one approval
that the last pusher did not give (`require_last_push_approval`: "the most recent reviewable push must be approved
by someone other than the person who pushed it"), dismisses approvals on a new push, and refuses force pushes
and the branch's deletion. No bypass actors: repository admins follow it too (they can still edit the ruleset,
which the audit log records).

GitHub REST "Create a repository ruleset" (`POST /repos/{owner}/{repo}/rulesets`) and "Update a repository
ruleset" (`PUT .../rulesets/{ruleset_id}`): <https://docs.github.com/en/rest/repos/rules>. Rulesets exist for
public repositories on every plan and for private ones on GitHub Pro, Team and Enterprise Cloud, not on Free
(<https://docs.github.com/en/repositories/configuring-branches-and-merges-in-your-repository/managing-rulesets/about-rulesets>).
"""

from __future__ import annotations

import json
import shlex
from typing import Any

NAME = "floyo-main"
"""The ruleset's name: the bootstrap finds an existing one by it and updates it instead of adding another."""


def body() -> dict[str, Any]:
    """The ruleset: `main` (the default branch, and `main` by name) through reviewed pull requests only."""
    return {
        "name": NAME, "target": "branch", "enforcement": "active", "bypass_actors": [],
        "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH", "refs/heads/main"], "exclude": []}},
        "rules": [
            {"type": "pull_request", "parameters": {
                "required_approving_review_count": 1, "require_last_push_approval": True,
                "dismiss_stale_reviews_on_push": True, "require_code_owner_review": False,
                "required_review_thread_resolution": False}},
            {"type": "non_fast_forward"},
            {"type": "deletion"},
        ],
    }


def commands(repo: str) -> list[str]:
    """Create the ruleset, or update the one of the same name (a rerun converges, never adds a second)."""
    q = shlex.quote
    path = f"repos/{repo}/rulesets"
    document = q(json.dumps(body()))
    return [
        f"# ruleset `{NAME}` on main: pull requests with an approval not by the last pusher, stale approvals"
        " dismissed, no force push, no deletion (GitHub Pro/Team/Enterprise Cloud for a private repository)",
        f"ruleset_id=$(gh api --paginate {q(path + '?includes_parents=false')} "
        f"--jq '.[] | select(.name == \"{NAME}\") | .id')",
        'if [ -n "$ruleset_id" ]; then',
        f'  gh api -X PUT "{path}/$ruleset_id" --input - <<< {document} >/dev/null',
        "else",
        f"  gh api -X POST {q(path)} --input - <<< {document} >/dev/null",
        "fi",
    ]
