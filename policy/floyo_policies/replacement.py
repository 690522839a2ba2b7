"""Replacement safety: what `pulumi up` replaces must not collide, lose data, or happen by accident."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs, StackValidationArgs

from ._core import HIGH, MANDATORY, FloyoResourcePolicy, FloyoStackPolicy, label, pack_config, stack_of, strings

FIXED_NAMES: dict[str, tuple[str, tuple[str, ...]]] = {
    # type -> (physical-name input, replace-forcing inputs), from terraform-provider-aws schemas (ForceNew):
    # internal/service/rds/proxy.go, proxy_endpoint.go, cluster.go, cluster_instance.go,
    # internal/service/elasticache/replication_group.go. A DB proxy's `name` itself updates in place.
    "aws:rds/proxy:Proxy": ("name", ("vpcSubnetIds", "engineFamily", "endpointNetworkType",
                                     "targetConnectionNetworkType")),
    "aws:rds/proxyEndpoint:ProxyEndpoint": ("dbProxyEndpointName", ("dbProxyName", "vpcSubnetIds", "targetRole")),
    "aws:rds/cluster:Cluster": ("clusterIdentifier", ("availabilityZones", "dbSubnetGroupName", "kmsKeyId",
                                                      "storageEncrypted", "engine", "masterUsername")),
    "aws:rds/clusterInstance:ClusterInstance": ("identifier", ("clusterIdentifier", "engine", "availabilityZone")),
    "aws:elasticache/replicationGroup:ReplicationGroup": ("replicationGroupId", (
        "subnetGroupName", "atRestEncryptionEnabled", "kmsKeyId")),
}


def _fixed_name(args: ResourceValidationArgs, report: ReportViolation) -> None:
    spec = FIXED_NAMES.get(args.resource_type)
    if spec is None or not args.props.get(spec[0]) or args.opts.delete_before_replace or args.opts.protect:
        return
    name_key, forcing = spec
    # Any change to one of these (often computed upstream: subnets, key) makes Pulumi create-before-delete.
    driven = [k for k in forcing if args.props.get(k) is not None]
    if driven:
        report(f"{label(args)}: fixed {name_key} {args.props.get(name_key)!r} with replace-forcing inputs "
               f"({', '.join(driven)}); Pulumi creates the replacement first and it would collide on the name. "
               "Set delete_before_replace (and document the outage), use a name that can coexist, or protect it", None)


fixed_name_replacement = FloyoResourcePolicy(
    "fixed-name-replacement",
    "A resource with a fixed physical name and replace-forcing inputs is replaced delete-first, is protected, "
    "or has a name that can coexist with its replacement.",
    _fixed_name, MANDATORY, HIGH, ["Pulumi deleteBeforeReplace", "terraform-provider-aws ForceNew"])

STATEFUL = (
    "aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance", "aws:rds/instance:Instance",
    "aws:elasticache/replicationGroup:ReplicationGroup", "aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2",
    "aws:kms/key:Key", "aws:ecr/repository:Repository", "aws:dynamodb/table:Table", "aws:efs/fileSystem:FileSystem",
    "postgresql:index/database:Database",
)


def _prod_protected(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if args.resource_type not in STATEFUL:
        return
    if not pack_config().is_production(stack_of(args.urn)):
        args.not_applicable("not a production stack (config.yaml production_stacks)")
    if not args.opts.protect:
        report(f"{label(args)} holds data in a production stack but is not `protect`ed: "
               "`pulumi destroy` or a replacement would delete it", None)


prod_stateful_protected = FloyoResourcePolicy(
    "prod-stateful-protected",
    "In production stacks every stateful resource (databases, caches, buckets, keys, repositories) is protected.",
    _prod_protected, MANDATORY, HIGH, ["Pulumi protect"])

REPLACE_FORCING_PLACEMENT: dict[str, tuple[str, ...]] = {
    "aws:ec2/subnet:Subnet": ("availabilityZone", "availabilityZoneId", "cidrBlock", "vpcId"),
    "aws:rds/clusterInstance:ClusterInstance": ("availabilityZone",),
    "aws:rds/cluster:Cluster": ("availabilityZones",),
    "aws:rds/instance:Instance": ("availabilityZone",),
    "aws:ec2/instance:Instance": ("ami", "availabilityZone"),
}
LIVE_VALUES_KEY = "live_lookup_values"
"""Policy config the offline adapter fills: value -> the data source that returned it."""


def _values(value: Any) -> list[str]:
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _values(v)]
    return strings(value) if not isinstance(value, str) else [value]


def _no_live_lookup(args: StackValidationArgs, report: ReportViolation) -> None:
    live = args.get_config().get(LIVE_VALUES_KEY)
    if live is None:
        args.not_applicable("a real preview does not show a policy which data-source call an input came from; "
                            "`python -m ops check` records the program's lookups and runs this policy offline")
        return
    for res in args.resources:
        for key in REPLACE_FORCING_PLACEMENT.get(res.resource_type, ()):
            hits = [v for v in _values(res.props.get(key)) if v in live]
            if hits:
                report(f"{res.name} ({res.resource_type}): replace-forcing input {key} = {', '.join(hits)} comes from "
                       f"the live lookup {live[hits[0]]}; when the lookup's answer shifts, `pulumi up` replaces it. "
                       "Pin the value in settings (AZs by zone ID)", res.urn)


no_live_lookup_replacement = FloyoStackPolicy(
    "no-live-lookup-in-replace-forcing-input",
    "No replace-forcing input (placement: AZ, AMI, CIDR) takes its value from a live data-source lookup.",
    _no_live_lookup, MANDATORY, HIGH, ["terraform-aws-modules: AZs as inputs"])

POLICIES = [fixed_name_replacement, prod_stateful_protected, no_live_lookup_replacement]
