"""`python -m ops deploy`: the phases of a first and a later deploy, the exclusion set, the rollout check."""

from __future__ import annotations

import re
import sys

import pytest

import ops.release.deploy
from ops.plan.planner import Plan, PlannedResource
from ops.release.deploy import (
    DeployError,
    database_object_urns,
    dependents,
    deploy,
    deploy_phases,
    service_urns,
    verify_rollout,
)
from tests.fake_runner import FakeRunner
from tests.planning import stack_plan

INSTANCE = "i-0123456789abcdef0"
WRITER = "floyo-dev.cluster-abc.us-east-1.rds.amazonaws.com"
TASK = "arn:aws:ecs:us-east-1:123456789012:task-definition/floyo-dev-backend:7"
OLD_TASK = "arn:aws:ecs:us-east-1:123456789012:task-definition/floyo-dev-backend:6"
DEPLOYED = {"database_access_instance_id": INSTANCE, "database_writer_endpoint": WRITER,
            "ecs_cluster_name": "floyo-dev", "ecs_service_name": "backend", "ecs_task_definition_arn": TASK}
UP = ("pulumi", "up", "--stack", "dev", "--yes", "--non-interactive", "--diff", "--policy-pack", "policy/")
OUTPUTS = ("run", ("pulumi", "stack", "output", "--json", "--stack", "dev"))
MIGRATE = (sys.executable, "-m", "ops", "migrate", "dev")
GATE = (sys.executable, "-m", "ops", "canary-gate", "dev")
VENV = (sys.executable, "-m", "ops", "policy-venv")
PREVIEW = ("run", ("env", "FLOYO_PREVIEW_WITHOUT_DB_CREDENTIALS=1", "pulumi", "preview", "--stack", "dev", "--json",
                   "--non-interactive"))
CLUSTER_URN = "urn:pulumi:dev::floyo-infra::floyo:data:Postgres$aws:rds/cluster:Cluster::db-cluster"


def deployment(task: str, state: str, status: str = "PRIMARY") -> dict:
    return {"status": status, "taskDefinition": task, "rolloutState": state, "runningCount": 1, "desiredCount": 2}


COMPLETED = [[deployment(TASK, "COMPLETED")]]


def expected_database_objects(plan: Plan) -> set[str]:
    """Everything the postgresql provider manages, and the providers themselves."""
    return {r.urn for r in plan.resources if r.type.startswith("postgresql:") or r.type == "pulumi:providers:postgresql"}


def excluded(argv: tuple[str, ...]) -> set[str]:
    return {argv[i + 1] for i, arg in enumerate(argv) if arg == "--exclude"}


@pytest.fixture(scope="module")
def dev() -> Plan:
    return stack_plan("dev")


def test_bootstrap_excludes_exactly_the_database_objects(plan: Plan) -> None:
    urns = database_object_urns(plan)
    assert urns == expected_database_objects(plan)
    assert len(urns) > 20
    assert not [u for u in urns if "aws:" in u.rsplit("::", 2)[-2]]  # the access host and the cluster are built


def test_service_set_is_the_service_and_what_needs_it(plan: Plan) -> None:
    service = service_urns(plan)
    (ecs,) = plan.of_type("aws:ecs/service:Service")
    assert ecs.urn in service
    needs = [r.urn for r in plan.resources if ecs.urn in r.dependencies]
    assert needs and set(needs) <= service  # e.g. its autoscaling target, alarms on it
    for kept in ("aws:ecs/taskDefinition:TaskDefinition", "aws:ecs/cluster:Cluster", "aws:rds/cluster:Cluster"):
        assert not {r.urn for r in plan.of_type(kept)} & service, kept
    assert not service & database_object_urns(plan)


def test_first_deploy_bootstraps_then_runs_everything_through_the_tunnel(dev: Plan) -> None:
    runner = FakeRunner(outputs=[{}, DEPLOYED], deployments=COMPLETED)
    assert deploy("dev", runner, dev) == 0
    commands = runner.commands()
    bootstrap, without_service = commands[3][1], commands[7][1]
    for up in (bootstrap, without_service):
        assert up[:len(UP)] == UP and up[-1] == "--exclude-dependents"
    assert excluded(bootstrap) == expected_database_objects(dev) | service_urns(dev)
    assert excluded(without_service) == service_urns(dev)
    session = next(c for c in commands if c[0] == "start")[1]
    assert session[:3] == ("aws", "ssm", "start-session") and INSTANCE in session and WRITER in session[-1]
    assert commands == [
        OUTPUTS,                      # no access host yet: first deploy
        PREVIEW,                      # preflight: no replacement that would stop halfway
        ("run", VENV),                # phase 0: the policy pack's venv, before any --policy-pack
        ("run", bootstrap),           # phase 1, no tunnel: no database objects, no service
        OUTPUTS,                      # the host and the writer now exist
        ("run", ("aws", "ssm", "describe-instance-information", "--region", "us-east-1", "--filters",
                 f"Key=InstanceIds,Values={INSTANCE}", "--query", "InstanceInformationList[0].PingStatus",
                 "--output", "text")),
        ("start", session),
        ("run", without_service),     # phase 2: the database objects through the tunnel
        ("run", MIGRATE),             # phase 3: the migration task of the new image, before the service
        ("run", UP),                  # phase 4: the whole stack (the service, whose tasks can now log in)
        ("run", GATE),                # phase 5: the synthetic check's next runs pass
        ("stop",),
        OUTPUTS,
        ("run", ("aws", "ecs", "describe-services", "--region", "us-east-1", "--cluster", "floyo-dev",
                 "--services", "backend", "--query", "services[0].deployments", "--output", "json")),
    ]


def test_later_deploys_skip_the_bootstrap(dev: Plan) -> None:
    runner = FakeRunner(outputs=[DEPLOYED], deployments=COMPLETED)
    assert deploy("dev", runner, dev) == 0
    ups = [c[1] for c in runner.commands() if c[0] == "run" and c[1][:2] == ("pulumi", "up")]
    # every release migrates between an up without the service and the full up
    assert len(ups) == 2 and ups[-1] == UP and excluded(ups[0]) == service_urns(dev)
    start = next(i for i, c in enumerate(runner.commands()) if c[0] == "start")
    order = [runner.commands().index(("run", c)) for c in (ups[0], MIGRATE, UP, GATE)]
    assert start < order[0] and order == sorted(order)


def test_failed_bootstrap_stops_before_any_tunnel(dev: Plan) -> None:
    runner = FakeRunner(outputs=[{}], codes={"pulumi up": 255})
    with pytest.raises(DeployError, match="phase bootstrap failed"):
        deploy("dev", runner, dev)
    assert not any(c[0] == "start" for c in runner.log)
    assert len([c for c in runner.log if c[0] == "run" and c[1][:2] == ("pulumi", "up")]) == 1


def test_failed_up_closes_the_tunnel_and_skips_the_rollout_check(dev: Plan) -> None:
    runner = FakeRunner(outputs=[DEPLOYED], codes={"pulumi up": 1})
    # the first `pulumi up` of a release is the one without the service (then the migration)
    with pytest.raises(DeployError, match="phase up-except-service failed"):
        deploy("dev", runner, dev)
    assert runner.log[-1] == ("stop",)
    assert not any(c[1] == MIGRATE for c in runner.log if c[0] == "run")
    assert not any(c[1][:3] == ("aws", "ecs", "describe-services") for c in runner.log if c[0] == "run")


def test_dry_run_prints_the_phases_and_runs_only_look_ups(dev: Plan, capsys: pytest.CaptureFixture[str]) -> None:
    runner = FakeRunner(outputs=[{}], tools=["pulumi"])
    assert deploy("dev", runner, dev, dry_run=True) == 0
    assert runner.log == [OUTPUTS]
    out = capsys.readouterr().out
    assert "# phase 1/6 policy-venv" in out and "# phase 2/6 bootstrap" in out and "# phase 4/6 migrate" in out
    assert "# phase 5/6 up" in out and "# phase 6/6 canary-gate" in out
    assert "--exclude 'urn:pulumi:dev::floyo-infra::floyo:data:DatabaseObjects$pulumi:providers:postgresql::dbo-admin'" in out
    assert "AWS-StartPortForwardingSessionToRemoteHost" in out and "aws ecs describe-services" in out


def test_phases_leave_room_for_migrations_before_the_service(dev: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    assert [p.name for p in deploy_phases("dev", dev, bootstrap=True)] == [
        "policy-venv", "bootstrap", "up-except-service", "migrate", "up", "canary-gate"]
    phases = deploy_phases("dev", dev, bootstrap=False)[1:]
    assert [p.name for p in phases] == ["up-except-service", "migrate", "up", "canary-gate"]
    assert phases[1].argv == MIGRATE and phases[3].argv == GATE
    assert excluded(phases[0].argv) == service_urns(dev) and all(p.tunnel for p in phases[:3])
    # without a hook (no migrate task declared), no phase excludes the service
    monkeypatch.setattr(ops.release.deploy, "before_service_phases", lambda stack, plan: [])
    assert [p.name for p in deploy_phases("dev", dev, bootstrap=False)] == ["policy-venv", "up", "canary-gate"]


def test_failed_migration_stops_the_deploy_before_the_service_update(dev: Plan) -> None:
    runner = FakeRunner(outputs=[DEPLOYED], codes={" ".join(MIGRATE[:4]): 3})
    with pytest.raises(DeployError, match="phase migrate failed"):
        deploy("dev", runner, dev)
    ran = [c[1] for c in runner.log if c[0] == "run"]
    assert MIGRATE in ran and UP not in ran and GATE not in ran
    assert not any(c[:3] == ("aws", "ecs", "describe-services") for c in ran)


def test_no_canary_no_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.planning import plan_with
    from tests.tier_variants import DEV_RELAXED

    # the shared dev variant (tests/tier_variants.py): synthetics off, beside settings no phase reads
    assert DEV_RELAXED["monitoring"] == {"synthetics": {"enabled": False}}
    plan = plan_with("dev", DEV_RELAXED)
    assert [p.name for p in deploy_phases("dev", plan, bootstrap=False)] == [
        "policy-venv", "up-except-service", "migrate", "up"]


def test_dependents_follow_providers_parents_and_dependencies() -> None:
    def res(urn: str, parent: str = "", deps: tuple[str, ...] = (), provider: str = "") -> PlannedResource:
        return PlannedResource(urn, "id", "t", urn, parent, True, {}, list(deps), False, provider=provider)

    plan = Plan("p", "s", [res("prov"), res("a", provider="prov"), res("comp"), res("b", parent="a"),
                           res("c", deps=("b",)), res("unrelated", deps=("comp",))])
    assert dependents(plan, ["prov"]) == {"prov", "a", "b", "c"}


@pytest.mark.parametrize(
    ("answers", "error"),
    [
        ([[deployment(OLD_TASK, "COMPLETED"), deployment(TASK, "FAILED", "ACTIVE")]], "circuit breaker rolled back"),
        ([[deployment(TASK, "FAILED")]], "FAILED"),
        ([[deployment(TASK, "IN_PROGRESS")]], "still IN_PROGRESS"),
    ],
)
def test_rollout_that_did_not_complete_fails_the_deploy(answers: list, error: str) -> None:
    with pytest.raises(DeployError, match=error):
        verify_rollout(DEPLOYED, "us-east-1", FakeRunner(deployments=answers), timeout=60)


def test_rollout_in_progress_is_waited_for() -> None:
    runner = FakeRunner(deployments=[[deployment(TASK, "IN_PROGRESS"), deployment(OLD_TASK, "COMPLETED", "ACTIVE")],
                                     [deployment(TASK, "COMPLETED")]])
    assert "rollout completed" in verify_rollout(DEPLOYED, "us-east-1", runner)
    assert [e for e in runner.log if e[0] == "sleep"] == [("sleep", 15)]


def _replace(op: str, protected: bool, new_protected: bool | None = None, where: str = "inputs") -> dict:
    """A replacement step: the old cluster's deletionProtection `protected` (in its `where`), the
    replacement's `new_protected` (default: the same)."""
    def state(value: bool, key: str) -> dict:
        return {"urn": CLUSTER_URN, "type": "aws:rds/cluster:Cluster", key: {"deletionProtection": value}}
    return {"op": op, "urn": CLUSTER_URN, "oldState": state(protected, where),
            "newState": state(protected if new_protected is None else new_protected, "inputs")}


def test_a_replacement_that_would_stop_halfway_is_refused_before_any_phase(dev: Plan) -> None:
    preview = {"steps": [_replace("delete-replaced", True), _replace("replace", True),
                         _replace("create-replacement", True)]}
    runner = FakeRunner(outputs=[DEPLOYED], preview=preview)
    with pytest.raises(DeployError, match=r"refused before any phase.*stops at the protected cluster"):
        deploy("dev", runner, dev)
    assert [c for c in runner.commands() if c[0] == "run"] == [OUTPUTS, PREVIEW]  # nothing else ran
    assert not any(c[0] == "start" for c in runner.log)
    # deletion protection off (a deploy before): the replacement goes ahead
    unprotected = FakeRunner(outputs=[DEPLOYED], deployments=COMPLETED,
                             preview={"steps": [_replace("replace", False)]})
    assert deploy("dev", unprotected, dev) == 0


def test_a_failed_preflight_preview_stops_the_deploy(dev: Plan) -> None:
    runner = FakeRunner(outputs=[DEPLOYED], codes={"pulumi preview": 255})
    with pytest.raises(DeployError, match="preflight preview failed"):
        deploy("dev", runner, dev)


@pytest.mark.parametrize(("old", "new", "where", "refused"), [
    (True, False, "inputs", True),    # the head turns it off in the same change: RDS still refuses the delete
    (True, False, "outputs", True),   # the old state's outputs say it too
    (False, True, "inputs", False),   # off before, on for the replacement: the old cluster deletes
])
def test_the_preflight_judges_the_old_cluster_s_deletion_protection(
        dev: Plan, old: bool, new: bool, where: str, refused: bool) -> None:
    runner = FakeRunner(outputs=[DEPLOYED], deployments=COMPLETED,
                        preview={"steps": [_replace("replace", old, new, where)]})
    if refused:
        with pytest.raises(DeployError, match="stops at the protected cluster"):
            deploy("dev", runner, dev)
    else:
        assert deploy("dev", runner, dev) == 0


def test_a_failed_preflight_names_the_preview_s_error_diagnostics(dev: Plan) -> None:
    preview = {"steps": [], "diagnostics": [
        {"urn": CLUSTER_URN, "message": "policy violation: no public bucket\n", "severity": "error"},
        {"message": "a warning only", "severity": "warning"}]}
    runner = FakeRunner(outputs=[DEPLOYED], codes={"pulumi preview": 255}, preview=preview)
    with pytest.raises(DeployError, match=rf"exit 255\): {re.escape(CLUSTER_URN)}: policy violation: no public bucket;") as e:
        deploy("dev", runner, dev)
    assert "a warning only" not in str(e.value)

