"""Ordering AWS needs: dependencies the engine cannot infer from inputs, declared with `depends_on`."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import PolicyResource, ReportViolation, StackValidationArgs

from ._core import HIGH, MANDATORY, FloyoStackPolicy, of_type, parse_json, referenced, role_by_arn


def _depends_on(resource: PolicyResource, target: PolicyResource) -> bool:
    """`target` is among `resource`'s dependencies, directly or through other dependencies."""
    seen: set[str] = set()
    todo = list(resource.dependencies)
    while todo:
        r = todo.pop()
        if r.urn == target.urn:
            return True
        if r.urn not in seen:
            seen.add(r.urn)
            todo.extend(r.dependencies)
    return False


def _ordering(args: StackValidationArgs, report: ReportViolation) -> None:
    res = list(args.resources)
    buckets = of_type(res, "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
    bucket_policies = of_type(res, "aws:s3/bucketPolicy:BucketPolicy")
    for lb in of_type(res, "aws:lb/loadBalancer:LoadBalancer"):
        logs = lb.props.get("accessLogs")
        if not isinstance(logs, Mapping) or not logs.get("enabled"):
            continue
        bucket = referenced(lb, "accessLogs", buckets)
        policies = [p for p in bucket_policies if set(referenced(p, "bucket", buckets)) & set(bucket)]
        if not any(_depends_on(lb, p) for p in policies):
            report(f"load balancer {lb.name} enables access logs before its bucket's policy exists: ELB checks it "
                   "can write there at create time (Access Denied for bucket); depend on the bucket policy", lb.urn)
    listeners = of_type(res, "aws:lb/listener:Listener", "aws:alb/listener:Listener")
    role_policies = of_type(res, "aws:iam/rolePolicy:RolePolicy", "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    tasks = of_type(res, "aws:ecs/taskDefinition:TaskDefinition")
    for service in of_type(res, "aws:ecs/service:Service"):
        target_groups = [str(lb.get("targetGroupArn")) for lb in service.props.get("loadBalancers") or []
                         if isinstance(lb, Mapping)]
        forwarding = [li for li in listeners if any(tg in str(li.props.get("defaultActions")) for tg in target_groups)]
        if forwarding and not any(_depends_on(service, li) for li in forwarding):
            report(f"ECS service {service.name} registers with a target group before a listener forwards to it "
                   "(InvalidParameterException: target group has no associated load balancer); depend on the "
                   "listener", service.urn)
        for task in referenced(service, "taskDefinition", tasks):
            role = role_by_arn(task, "executionRoleArn", res)
            grants = [p for p in role_policies if role is not None and role in referenced(p, "role", [role])]
            if grants and not any(_depends_on(service, g) for g in grants):
                report(f"ECS service {service.name} can start tasks before execution role {role.name if role else ''} "
                       "has its policy (and lose it first on delete); depend on the role policy", service.urn)
            _sidecars_first(task, report)
    targets = of_type(res, "aws:rds/proxyTarget:ProxyTarget")
    for endpoint in of_type(res, "aws:rds/proxyEndpoint:ProxyEndpoint"):
        proxy_name = endpoint.props.get("dbProxyName")
        mine = [t for t in targets if t.props.get("dbProxyName") == proxy_name]
        if mine and not any(_depends_on(endpoint, t) for t in mine):
            report(f"proxy endpoint {endpoint.name} is created before the proxy has a target; depend on the proxy "
                   "target", endpoint.urn)


def _sidecars_first(task: PolicyResource, report: ReportViolation) -> None:
    """The application container (the one with port mappings) waits for every sidecar to start."""
    parsed = parse_json(task.props.get("containerDefinitions"))
    containers = [c for c in parsed if isinstance(c, Mapping)] if isinstance(parsed, list) else []
    apps = [c for c in containers if c.get("portMappings")]
    sidecars = {str(c.get("name")) for c in containers if c not in apps}
    for app in apps:
        waits = {str(d.get("containerName")) for d in app.get("dependsOn") or [] if isinstance(d, Mapping)}
        if sidecars - waits:
            report(f"task definition {task.name}: container {app.get('name')} starts without waiting for "
                   f"{', '.join(sorted(sidecars - waits))} (dependsOn START or HEALTHY)", task.urn)


aws_ordering = FloyoStackPolicy(
    "ordering-aws-needs",
    "Resources AWS checks at create time come after what they check: the load balancer after its log bucket's "
    "policy, the ECS service after its listener and execution-role policy, the proxy endpoint after the proxy "
    "target, the app container after its sidecars.",
    _ordering, MANDATORY, HIGH, ["CDK and Copilot ordering", "terraform-provider-aws aws_ecs_service docs"])

POLICIES = [aws_ordering]
