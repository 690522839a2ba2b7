# pyright: reportUnnecessaryTypeIgnoreComment=error
# ruff: noqa
"""Checked by the pyright stage of `./run test`, never imported or run: the providers' types, as pyright reads
them through the generated stubs (tests/pyright_stubs.py, docs/type-checking.md), are the ones they declare.

The first half uses the providers the way `components/` does and pins each type with `assert_type`: a stub
that lost a type (an `Any`, a missing overload, a wrong field) is an error here. The second half breaks each
use once; each line's `# pyright: ignore[<rule>]` names the one error pyright must report there, and the
file's first line makes an ignore that suppresses nothing an error itself. So a line that stops failing (its
type went missing) fails the stage, and so does one that fails by another rule.

Three ignores are the stubs' own marks: through a stub, a name a module imports for itself (`typing` in the
Cloudflare package's `__init__`, `warnings` in `pulumi_aws.ecs.service`, `pulumi` in Cloudflare's `outputs`)
is absent (reportAttributeAccessIssue), where the `.py` says it is not exported (reportPrivateImportUsage):
the stage fails if pyright reads neither kind of stub.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, assert_type

import pulumi
import pulumi_aws as aws
import pulumi_cloudflare as cloudflare
import pulumi_postgresql as postgresql
import pulumi_random as random
from pulumi_aws.ecs.outputs import ServiceLoadBalancer


def uses() -> None:
    """What the program does with the providers, each type pinned."""
    service = aws.ecs.Service(
        "svc",
        cluster="c",
        desired_count=2,
        load_balancers=[aws.ecs.ServiceLoadBalancerArgs(container_name="api", container_port=8000, target_group_arn="tg")],
    )
    cluster = aws.rds.Cluster("db", engine=aws.rds.EngineType.AURORA_POSTGRESQL)
    record = cloudflare.DnsRecord("rec", zone_id="z", name="api", type="CNAME", ttl=1, proxied=True)
    role = postgresql.Role("tenant", login=False)
    password = random.RandomPassword("pw", length=32)
    shout = role.name.apply(lambda name: name.upper())
    assert_type(service.desired_count, pulumi.Output[int | None])
    assert_type(service.load_balancers, pulumi.Output[Sequence[ServiceLoadBalancer] | None])
    assert_type(cluster.engine, pulumi.Output[str])
    assert_type(record.proxied, pulumi.Output[bool])
    assert_type(role.name, pulumi.Output[str])
    assert_type(password.result, pulumi.Output[str])
    assert_type(shout, pulumi.Output[str])
    assert_type(aws.get_region_output().apply(lambda found: found.region), pulumi.Output[str])
    by_args = aws.ecs.Service("svc2", aws.ecs.ServiceArgs(cluster="c"))  # the resource's second overload
    assert_type(by_args.cluster, pulumi.Output[str])
    assert_type(aws.ecs.Service.get("svc3", "arn").cluster, pulumi.Output[str])
    balancer = aws.ecs.ServiceLoadBalancerArgs(container_name="api", container_port=8000)
    assert_type(balancer.container_port, pulumi.Input[int])
    as_dict: aws.ecs.ServiceLoadBalancerArgsDict = {"container_name": "api", "container_port": 8000}
    ports = service.load_balancers.apply(lambda found: [one.container_port for one in found or []])
    assert_type(ports, pulumi.Output[list[int]])
    assert_type(aws.rds.EngineType.AURORA_POSTGRESQL, Literal[aws.rds.EngineType.AURORA_POSTGRESQL])
    assert_type(cloudflare.RulesetRuleArgs, type[cloudflare.RulesetRuleArgs])
    assert_type(cloudflare.get_zone_output(zone_id="z").apply(lambda found: found.name), pulumi.Output[str])
    del as_dict


def misuses() -> None:
    """The same uses, each broken once: each line must give exactly the error its ignore names."""
    from pulumi_cloudflare import typing as _typing  # pyright: ignore[reportAttributeAccessIssue]
    from pulumi_aws.ecs.service import warnings  # pyright: ignore[reportAttributeAccessIssue]
    from pulumi_cloudflare.outputs import pulumi as _pulumi  # pyright: ignore[reportAttributeAccessIssue]

    aws.ecs.Service("svc", cluster="c", desired_count="two")  # pyright: ignore[reportArgumentType]
    aws.ecs.ServiceLoadBalancerArgs(container_name="api", container_port="8000")  # pyright: ignore[reportArgumentType]
    aws.rds.Cluster("db", engine=aws.rds.EngineType.AURORA_POSTGRES)  # pyright: ignore[reportAttributeAccessIssue]
    cloudflare.DnsRecord("rec", zone_id="z", name="api", type="CNAME", ttl=1, colour="orange")  # pyright: ignore[reportCallIssue]
    role = postgresql.Role("tenant", login=False)
    role.password_hash  # pyright: ignore[reportAttributeAccessIssue]
    count: pulumi.Output[int] = role.name.apply(lambda name: name.upper())  # pyright: ignore[reportAssignmentType]
    aws.ecs.Service("svc2", aws.ecs.ServiceArgs(cluster="c"), desired_count=2)  # pyright: ignore[reportArgumentType]
    as_dict: aws.ecs.ServiceLoadBalancerArgsDict = {"container_name": "api", "container_port": "8000"}  # pyright: ignore[reportAssignmentType]
    aws.ecs.ServiceArgs(cluster="c").desired_count = "two"  # pyright: ignore[reportAttributeAccessIssue]
    cloudflare.RulesetRuleArgs(expression="true", action=1)  # pyright: ignore[reportArgumentType]
    aws.get_region_output().apply(lambda found: found.regoin)  # pyright: ignore[reportAttributeAccessIssue]
    aws.get_region_output(endpoint=1)  # pyright: ignore[reportArgumentType]
    aws.ecs.Service.get("svc3", id=1)  # pyright: ignore[reportArgumentType]
    del _typing, warnings, _pulumi, count, as_dict
