"""The backend service: what on-call relies on, asserted per stack."""

from __future__ import annotations

import json

from ops.plan.planner import Plan
from tests.planning import container_definitions, one, plan_with, settings_for, with_changes
from tests.tier_variants import DEV_RELAXED, STRIPE_SECRET


def test_prod_runs_at_least_two_tasks_over_azs(plan: Plan, stack: str) -> None:
    target = one(plan, "aws:appautoscaling/target:Target", "backend-scaling")
    service = one(plan, "aws:ecs/service:Service")
    subnets = service.inputs["networkConfiguration"]["subnets"]
    if stack == "prod":
        assert target.inputs["minCapacity"] >= 2 and service.inputs["desiredCount"] >= 2
        assert len(subnets) >= 2
    assert target.inputs["maxCapacity"] >= target.inputs["minCapacity"]
    private = {r.id for r in plan.of_type("aws:ec2/subnet:Subnet") if r.inputs["tags"]["floyo:tier"] == "private"}
    assert set(subnets) == private
    assert service.inputs["networkConfiguration"]["assignPublicIp"] is False


def test_target_group_checks_health_path(plan: Plan) -> None:
    groups = plan.of_type("aws:lb/targetGroup:TargetGroup")  # two with a gradual deployment strategy
    assert groups
    for group in groups:
        hc = group.inputs["healthCheck"]
        assert hc["path"] == "/health" and hc["matcher"] == "200"
        assert hc["healthyThreshold"] >= 2 and hc["unhealthyThreshold"] >= 2
        assert hc["timeout"] < hc["interval"]


def test_circuit_breaker_rolls_back(plan: Plan) -> None:
    service = one(plan, "aws:ecs/service:Service").inputs
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    assert service["healthCheckGracePeriodSeconds"] > 0
    assert service["deploymentMinimumHealthyPercent"] == 100


def test_image_pinned_by_digest(plan: Plan, stack: str) -> None:
    app = container_definitions(plan)[0]
    assert app["image"] == settings_for(with_changes(stack)).backend.image
    assert "@sha256:" in app["image"]


def test_secrets_come_from_references_never_values(plan: Plan) -> None:
    app = container_definitions(plan)[0]
    for secret in app.get("secrets", []):
        assert secret["valueFrom"].startswith("arn:aws:"), secret
    assert all(not any(w in e["name"] for w in ("PASSWORD", "TOKEN", "SECRET")) for e in app["environment"])


def test_named_secret_is_injected_and_readable_only_by_name() -> None:
    arn = STRIPE_SECRET
    plan = plan_with("dev", DEV_RELAXED)  # backend.secrets STRIPE_KEY
    app = container_definitions(plan)[0]
    assert {"name": "STRIPE_KEY", "valueFrom": arn + ":api_key::"} in app["secrets"]
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-execution").inputs["policy"])
    reads = [s for s in policy["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"]
    assert reads and arn in reads[0]["Resource"] and "*" not in reads[0]["Resource"]


def test_container_hardening_and_logs(plan: Plan, stack: str) -> None:
    app = container_definitions(plan)[0]
    assert app["readonlyRootFilesystem"] is True
    assert "/health" in " ".join(app["healthCheck"]["command"])
    logs = one(plan, "aws:cloudwatch/logGroup:LogGroup", "backend-logs").inputs
    assert app["logConfiguration"]["options"]["awslogs-group"] == logs["name"]
    assert logs["retentionInDays"] == {"dev": 14, "prod": 90}[stack] and logs["kmsKeyId"]


def test_fargate_size_from_settings(plan: Plan, stack: str) -> None:
    task = one(plan, "aws:ecs/taskDefinition:TaskDefinition", "backend-task").inputs
    backend = settings_for(with_changes(stack)).backend
    assert (task["cpu"], task["memory"]) == (str(backend.cpu), str(backend.memory))
    assert task["requiresCompatibilities"] == ["FARGATE"] and task["networkMode"] == "awsvpc"


def test_https_listener_modern_tls_and_redirect(plan: Plan) -> None:
    listeners = {r.inputs["port"]: r.inputs for r in plan.of_type("aws:lb/listener:Listener")}
    assert listeners[443]["protocol"] == "HTTPS" and listeners[443]["sslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    assert listeners[443]["certificateArn"].startswith("arn:aws:acm:")
    redirect = listeners[80]["defaultActions"][0]
    assert redirect["type"] == "redirect" and redirect["redirect"]["protocol"] == "HTTPS"


def test_load_balancer_suits_websockets_and_logs(plan: Plan, stack: str) -> None:
    lb = one(plan, "aws:lb/loadBalancer:LoadBalancer").inputs
    assert lb["idleTimeout"] >= 300 and lb["dropInvalidHeaderFields"] is True
    assert lb["accessLogs"]["enabled"] is True
    assert lb["enableDeletionProtection"] is (stack == "prod")
    for tg in plan.of_type("aws:lb/targetGroup:TargetGroup"):
        assert tg.inputs["deregistrationDelay"] >= 60
    block = one(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "api-access-logs").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))


def test_autoscaling_on_cpu_and_requests(plan: Plan, stack: str) -> None:
    configs = {p.name: p.inputs["targetTrackingScalingPolicyConfiguration"]
               for p in plan.of_type("aws:appautoscaling/policy:Policy") if p.name.startswith("backend-")}
    cpu = next(c for name, c in configs.items() if name.endswith("cpu"))
    assert cpu["predefinedMetricSpecification"]["predefinedMetricType"] == "ECSServiceAverageCPUUtilization"
    requests = next(c for name, c in configs.items() if name.endswith("requests"))
    if stack == "dev":  # ROLLING: one target group, the predefined metric of it
        spec = requests["predefinedMetricSpecification"]
        assert spec["predefinedMetricType"] == "ALBRequestCountPerTarget"
        assert spec["resourceLabel"].startswith("app/") and "/targetgroup/" in spec["resourceLabel"]
    else:  # gradual: metric math over both groups (tests/test_target_groups.py evaluates it)
        assert "predefinedMetricSpecification" not in requests
        (result,) = [q for q in requests["customizedMetricSpecification"]["metrics"] if q.get("returnData")]
        assert "/ tasks" in result["expression"]


def test_repository_is_not_the_stacks_but_the_accounts(plan: Plan) -> None:
    # The repository moved to the account-level component (tests/test_image_pull.py checks it is
    # immutable, scanned, KMS-encrypted, protected and has a lifecycle); a stack declares none.
    assert not plan.of_type("aws:ecr/repository:Repository")
    assert not plan.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")


def test_execution_role_is_least_privilege(plan: Plan) -> None:
    policy = json.loads(one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-execution").inputs["policy"])
    for statement in policy["Statement"]:
        if statement["Resource"] == "*":
            assert statement["Action"] == "ecr:GetAuthorizationToken", statement
        assert "*" not in str(statement["Action"]).replace("ecr:GetAuthorizationToken", "")


def test_container_insights_on(plan: Plan) -> None:
    cluster = one(plan, "aws:ecs/cluster:Cluster").inputs
    assert {"name": "containerInsights", "value": "enhanced"} in cluster["settings"]


def test_operator_outputs(plan: Plan) -> None:
    for key in ("service_url", "load_balancer_dns_name", "ecs_cluster_name", "ecs_service_name", "backend_log_group"):
        assert plan.outputs[key], key
    assert plan.outputs["service_url"].startswith("https://")
