"""The requests-per-task signal the backend scales on, over one target group or both.

With ROLLING the service registers in one target group and Application Auto Scaling's predefined
`ALBRequestCountPerTarget` (label `<lb arn suffix>/<target group arn suffix>`) is right. With
CANARY/LINEAR/BLUE_GREEN ECS alternates two target groups: after a release the new revision serves
from the other one and the predefined metric, bound to one label, reads an idle group (0 requests
per target, so the policy scales in to `min_tasks` under full load). The gradual signal is
therefore metric math, the same quantity over both groups:

    (RequestCount(primary) + RequestCount(alternate)) / RunningTaskCount(service)

Target tracking accepts metric math with any CloudWatch function, returning one time series
(https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-target-tracking-metric-math.html,
whose own example divides by `ECS/ContainerInsights` `RunningTaskCount`; the cluster has Container
Insights on). Each `RequestCount` is `FILL(x, 0)`-ed: the idle group publishes no `RequestCount`
(ALB publishes it only for periods with requests), which must count as zero, not blank the sum.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

_aas = aws.appautoscaling
_Spec = _aas.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationArgs
_Query = _aas.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricArgs
_Stat = _aas.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatArgs
_Metric = _aas.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatMetricArgs
_Dim = _aas.PolicyTargetTrackingScalingPolicyConfigurationCustomizedMetricSpecificationMetricMetricStatMetricDimensionArgs

RESULT_ID = "perTask"
"""Id of the expression the policy tracks (the only query with `return_data`)."""


def requests_per_task(
    *, load_balancer: pulumi.Input[str], target_groups: Sequence[pulumi.Input[str]],
    cluster_name: pulumi.Input[str], service_name: pulumi.Input[str],
) -> _Spec:
    """Requests per minute per running task over all `target_groups` (ARN suffixes) of `load_balancer`.

    Same unit as `ALBRequestCountPerTarget` (a 1-minute `Sum` of requests divided by the number of
    tasks), so `backend.requests_per_target` keeps its meaning.
    """
    if not target_groups:
        raise ValueError("requests_per_task needs at least one target group")
    queries: list[_Query] = []
    for i, group in enumerate(target_groups):
        queries.append(_Query(id=f"requests{i}", return_data=False, metric_stat=_Stat(stat="Sum", metric=_Metric(
            namespace="AWS/ApplicationELB", metric_name="RequestCount",
            dimensions=[_Dim(name="LoadBalancer", value=load_balancer), _Dim(name="TargetGroup", value=group)]))))
    queries.append(_Query(id="tasks", return_data=False, metric_stat=_Stat(stat="Average", metric=_Metric(
        namespace="ECS/ContainerInsights", metric_name="RunningTaskCount",
        dimensions=[_Dim(name="ClusterName", value=cluster_name), _Dim(name="ServiceName", value=service_name)]))))
    total = " + ".join(f"FILL(requests{i}, 0)" for i in range(len(target_groups)))
    queries.append(_Query(id=RESULT_ID, label="Requests per task", return_data=True,
                          expression=f"({total}) / tasks"))
    return _Spec(metrics=queries)
