"""The order AWS needs, declared: what each resource waits for, read from the plan's dependencies."""

from __future__ import annotations

from ops.plan.planner import Plan
from tests.planning import container_definitions, one


def test_load_balancer_after_its_access_log_bucket_policy(plan: Plan) -> None:
    lb = one(plan, "aws:lb/loadBalancer:LoadBalancer")
    policy = one(plan, "aws:s3/bucketPolicy:BucketPolicy", "api-access-logs")
    assert lb.inputs["accessLogs"]["enabled"] is True
    assert policy.urn in lb.dependencies


def test_service_after_the_https_listener_and_the_execution_policy(plan: Plan) -> None:
    service = one(plan, "aws:ecs/service:Service")
    listener = one(plan, "aws:lb/listener:Listener", "api-https")
    execution_policy = one(plan, "aws:iam/rolePolicy:RolePolicy", "backend-execution")
    assert listener.urn in service.dependencies
    assert execution_policy.urn in service.dependencies


def test_service_waits_for_steady_state(plan: Plan) -> None:
    service = one(plan, "aws:ecs/service:Service").inputs
    assert service["waitForSteadyState"] is True
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}


def test_app_starts_after_the_collector(plan: Plan) -> None:
    containers = {c["name"]: c for c in container_definitions(plan)}
    collector = containers["otel-collector"]
    assert collector["essential"] is False  # so START, not HEALTHY: a broken collector must not stop the app
    assert containers["backend"]["dependsOn"] == [{"containerName": "otel-collector", "condition": "START"}]
