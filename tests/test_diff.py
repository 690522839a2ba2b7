"""`python -m ops diff`: two commits in a temporary repository, compared offline.

The scratch repositories (`tests.scratch_repos`) are made once per process and only read here. The diff whose
base is planned by a fresh interpreter (`FLOYO_NO_FORK=1`) is in tests/test_cli.py: one fresh interpreter
carries that check and the entry point's."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ops.diff.compare import compare
from ops.diff.plans import diff_plans
from ops.diff.render import GITHUB_COMMENT_LIMIT, MARKER, render_markdown, render_text
from tests.scratch_repos import changed_repo, dev_json_diff, git, ops_in, project_history

BUCKET = "aws:s3/bucket:Bucket"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repo with two commits: the project as is, then a change with a cpu bump and a bucket rename."""
    return changed_repo(tmp_path_factory)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project at HEAD; HEAD~1 the same without Pulumi.dev.yaml (`tests.scratch_repos.project_history`)."""
    return project_history(tmp_path_factory)


@pytest.fixture(scope="module")
def text_diff(repo: Path) -> subprocess.CompletedProcess[str]:
    return ops_in(repo, "diff", "dev", "--base", "HEAD~1", "--fail-on-danger")


@pytest.fixture(scope="module")
def json_diff(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return dev_json_diff(tmp_path_factory)


def test_changed_property_has_before_and_after(json_diff: dict) -> None:
    task = [c for c in json_diff["changes"]
            if c["type"] == "aws:ecs/taskDefinition:TaskDefinition" and c["name"] == "backend-task"]
    assert len(task) == 1 and task[0]["kind"] == "change"
    props = {p["path"]: (p["before"], p["after"]) for p in task[0]["properties"]}
    assert props["cpu"] == ("512", "1024")
    assert props["memory"] == ("1024", "2048")


def test_rename_of_a_stateful_resource_is_removed_added_and_dangerous(json_diff: dict) -> None:
    by_kind = {(c["kind"], c["name"]): c for c in json_diff["changes"] if c["type"] == BUCKET}
    assert set(by_kind) == {("remove", "api-access-logs"), ("add", "api-alb-logs")}
    assert by_kind[("remove", "api-access-logs")]["dangerous"] is True
    assert by_kind[("add", "api-alb-logs")]["dangerous"] is False
    outputs = {o["path"]: (o["before"], o["after"]) for o in json_diff["outputs"]}
    assert outputs["diff_probe"] == (None, 1)


def test_text_output_lists_dangerous_first_and_fails_on_danger(text_diff: subprocess.CompletedProcess[str]) -> None:
    assert text_diff.returncode == 3, text_diff.stderr  # exit 3 only with --fail-on-danger (0 otherwise)
    out = text_diff.stdout
    assert "DANGEROUS (1)" in out
    assert out.index("DANGEROUS") < out.index("floyo:backend:BackendService backend:")
    assert f"! {BUCKET}  api-access-logs: deleted" in out
    assert f"+ {BUCKET}  api-alb-logs" in out and "looks like a rename of" in out
    assert 'cpu: "512" -> "1024"' in out


def test_markdown_is_a_marked_comment_with_summary(repo: Path) -> None:
    result = ops_in(repo, "diff", "dev", "--base", "HEAD~1", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    body = result.stdout
    assert body.splitlines()[0] == "<!-- floyo-diff:dev -->"
    assert "dangerous change(s)" in body and "<details>" in body
    assert body.index("to add") < body.index("<details>")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_no_change_and_unchanged_stack(history: Path, stack: str) -> None:
    # the working tree is HEAD, so both sides are one plan: the committed stack's, which the session's store holds
    # (this repository's code is the project's, byte for byte)
    result = ops_in(history, "diff", stack, "--base", "HEAD")
    assert result.returncode == 0, result.stderr
    assert "no changes" in result.stdout


def test_base_without_the_stack_is_empty(history: Path) -> None:
    """A stack that is new since the base: HEAD~1 has no Pulumi.dev.yaml. (This used a new stack `qa`, copied from
    dev with its own zone, against HEAD: the same path of `ops.diff.plans.base_planning`, and one more plan of a
    config nothing else plans; the committed dev stack's plan is the session's.)"""
    assert "Pulumi.dev.yaml" not in git(history, "ls-tree", "--name-only", "HEAD~1")
    result = ops_in(history, "diff", "dev", "--base", "HEAD~1")
    assert result.returncode == 0, result.stderr
    assert "has no Pulumi.dev.yaml" in result.stdout
    assert "0 to change, 0 to remove" in result.stdout


def test_bad_revision_is_one_message_and_leaves_no_worktree(repo: Path) -> None:
    # A revision git cannot resolve is an operator's typo: exit 2 with one message (issue 11, item 4).
    # A revision that resolves but does not plan is reported with the head's summary (test_diff_prod).
    result = ops_in(repo, "diff", "dev", "--base", "no-such-rev")
    assert result.returncode == 2, result.stdout
    assert "unknown git revision 'no-such-rev'" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert git(repo, "worktree", "list").count("\n") == 1


# --- pure comparison and rendering (no planning) ------------------------------------------------


def _plan(*resources: dict) -> dict:
    return {"resources": list(resources), "outputs": {}}


def _res(token: str, name: str, inputs: dict, parent: str = "urn:pulumi:dev::floyo-infra::pulumi:pulumi:Stack::s",
         **options: bool) -> dict:
    return {"urn": f"urn:pulumi:dev::floyo-infra::{token}::{name}", "type": token, "name": name, "parent": parent,
            "inputs": inputs, "protect": options.get("protect", False),
            "retain_on_delete": options.get("retain_on_delete", False)}


def test_replace_triggering_property_flags_a_kms_key_replacement() -> None:
    token = "aws:kms/key:Key"
    before = _plan(_res(token, "data", {"keyUsage": "ENCRYPT_DECRYPT", "description": "a"}))
    after = _plan(_res(token, "data", {"keyUsage": "SIGN_VERIFY", "description": "b"}))
    diff = diff_plans("dev", before, after)
    (change,) = diff.changes
    assert change.replace_paths == ["keyUsage"] and change.dangerous
    only_description = diff_plans("dev", before, _plan(_res(token, "data", {"keyUsage": "ENCRYPT_DECRYPT",
                                                                              "description": "b"})))
    assert not only_description.changes[0].dangerous


def test_nested_json_strings_are_compared_inside_and_secrets_stay_masked() -> None:
    before = {"containerDefinitions": json.dumps([{"name": "app", "healthCheck": {"path": "/health"}}]),
              "password": "[secret]"}
    after = {"containerDefinitions": json.dumps([{"name": "app", "healthCheck": {"path": "/ready"}}]),
             "password": "[secret]"}
    changes = compare(before, after)
    assert [(c.path, c.before, c.after) for c in changes] == [
        ("containerDefinitions[app].healthCheck.path", "/health", "/ready")]


def test_markdown_truncates_under_the_limit_and_keeps_marker_and_summary() -> None:
    parent = "urn:pulumi:dev::floyo-infra::pulumi:pulumi:Stack$floyo:x:Thing::c{}"
    before = _plan(*[_res("aws:s3/bucket:Bucket", f"b{i}", {"bucket": f"old-{i}", "policy": "x" * 200},
                          parent.format(i)) for i in range(400)])
    after = _plan(*[_res("aws:s3/bucket:Bucket", f"b{i}", {"bucket": f"new-{i}", "policy": "y" * 200},
                         parent.format(i)) for i in range(400)])
    diff = diff_plans("dev", before, after)
    assert len(diff.dangerous) == 400
    full = render_markdown(diff, max_chars=10**7)
    assert len(full) > GITHUB_COMMENT_LIMIT
    body = render_markdown(diff)
    assert len(body) <= 60000
    assert body.splitlines()[0] == MARKER.format(stack="dev")
    assert "0 to add, 400 to change, 0 to remove (400 replaced)" in body
    assert "**Truncated:**" in body
    small = render_markdown(diff, max_chars=3000)
    assert len(small) <= 3000 and small.startswith(MARKER.format(stack="dev"))
    assert "400 replaced" in small and "more dangerous change(s)" in small


def test_an_added_iam_resource_is_shown_element_by_element() -> None:
    arns = [f"arn:aws:secretsmanager:us-east-1:123456789012:secret:floyo-dev-{n}-AbCdEf" for n in ("db", "cache")]
    statement = {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": arns}
    added = "arn:aws:secretsmanager:us-east-1:123456789012:secret:floyo-dev-sentry-XyZ123"
    before = {"policy": json.dumps({"Version": "2012-10-17", "Statement": [statement]})}
    after = {"policy": json.dumps({"Version": "2012-10-17", "Statement": [{**statement, "Resource": [*arns, added]}]})}
    assert [(c.path, c.before, c.after) for c in compare(before, after)] == [
        ("policy.Statement[0].Resource[2]", None, added)]
    # one resource that becomes two: the scalar is the first element of the list
    single = {"policy": json.dumps({"Version": "2012-10-17", "Statement": [{**statement, "Resource": arns[0]}]})}
    assert [(c.path, c.after) for c in compare(single, before)] == [("policy.Statement[0].Resource[1]", arns[1])]
    token = "aws:iam/rolePolicy:RolePolicy"
    text = render_text(diff_plans("dev", _plan(_res(token, "p", before)), _plan(_res(token, "p", after))))
    assert f'policy.Statement[0].Resource[2]: (absent) -> "{added}"' in text


def test_numbers_print_as_written() -> None:
    token = "aws:cloudwatch/logGroup:LogGroup"  # the wire format carries numbers as doubles
    diff = diff_plans("dev", _plan(_res(token, "logs", {"retentionInDays": 30.0})),
                      _plan(_res(token, "logs", {"retentionInDays": 90.0})))
    assert "retentionInDays: 30 -> 90" in render_text(diff)
    assert diff.as_json()["changes"][0]["properties"][0]["after"] == 90
    assert "90.0" not in render_markdown(diff)


def test_losing_protection_or_retain_on_delete_is_dangerous() -> None:
    cluster, lb = "aws:rds/cluster:Cluster", "aws:lb/loadBalancer:LoadBalancer"
    before = _plan(_res(cluster, "db", {"deletionProtection": True}, protect=True),
                   _res(lb, "alb", {"enableDeletionProtection": True}),
                   _res("postgresql:index/database:Database", "app", {"name": "floyo"}, retain_on_delete=True))
    after = _plan(_res(cluster, "db", {"deletionProtection": False}),
                  _res(lb, "alb", {"enableDeletionProtection": False}),
                  _res("postgresql:index/database:Database", "app", {"name": "floyo"}))
    reasons = {c.name: c.danger_reason() for c in diff_plans("prod", before, after).dangerous}
    assert "`protect` lifted" in reasons["db"] and "deletion protection turned off" in reasons["db"]
    assert "deletion protection turned off" in reasons["alb"]
    assert "`retain_on_delete` lost" in reasons["app"]


def test_deleting_or_replacing_what_carries_traffic_is_dangerous() -> None:
    dns, cert = "cloudflare:index/dnsRecord:DnsRecord", "aws:acm/certificate:Certificate"
    before = _plan(_res(dns, "api", {"type": "CNAME", "zoneId": "z"}), _res(cert, "tls", {"domainName": "a.floyo.app"}))
    after = _plan(_res(dns, "api", {"type": "A", "zoneId": "z"}))
    reasons = {c.name: c.danger_reason() for c in diff_plans("prod", before, after).dangerous}
    assert "`type` changed" in reasons["api"] and "deleted: the TLS certificate" in reasons["tls"]


def test_markdown_cuts_inside_a_block_and_states_its_budget() -> None:
    parent = "urn:pulumi:dev::floyo-infra::pulumi:pulumi:Stack$floyo:x:Thing::big"
    token = "aws:cloudwatch/dashboard:Dashboard"
    before = _plan(_res(token, "d", {"dashboardBody": json.dumps({f"w{i}": i for i in range(2000)})}, parent))
    after = _plan(_res(token, "d", {"dashboardBody": json.dumps({f"w{i}": i + 1 for i in range(2000)})}, parent))
    diff = diff_plans("dev", before, after)
    body = render_markdown(diff, max_chars=8000)
    assert len(body) <= 8000
    assert "dashboardBody.w0: 0 -> 1" in body  # the one block is cut short, not dropped
    assert "more line(s) cut to fit" in body and "budget of 8000 characters" in body
    assert "`aws:cloudwatch/dashboard:Dashboard: ~1`" in body  # counts per type


def test_a_refused_working_tree_file_starts_no_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ops diff` reads and validates the working tree's stack file before it adds the base's git worktree and
    forks the child that plans it: a file the one loader refuses costs neither."""
    import ops.diff.plans
    from ops.stackfile import ROOT, StackFileError

    def base_planning(*args: object) -> None:
        raise AssertionError(f"the base was prepared for a refused file: {args}")

    monkeypatch.setattr(ops.diff.plans, "base_planning", base_planning)
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "Pulumi.bad.yaml").write_text("config: [not, a, mapping]\n")
    with pytest.raises(StackFileError, match=r"Pulumi\.bad\.yaml"):
        ops.diff.plans.diff_against("bad", "HEAD", tmp_path)
