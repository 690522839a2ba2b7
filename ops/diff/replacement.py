"""Which input changes replace a resource, per resource type the program declares.

No provider runs offline, so the diff cannot ask one whether a change is an update or a
replacement. This table answers instead: for every resource type, the inputs whose change
makes the provider delete and re-create the resource (`ForceNew: true` in the SDKv2 schema,
`RequiresReplace()` in the plugin-framework schema of the upstream Terraform provider that
pulumi-aws, pulumi-cloudflare, pulumi-postgresql and pulumi-random bridge), with the source
file read. `pulumi preview --diff` remains the authority.

Adding a type is one line: `"aws:svc/thing:Thing": forces("name", "vpcId", source="..."),`,
`every_input(source=...)` when nothing can be updated in place, or `none(source=...)` when
every input is updated in place. `tests/test_replacement.py` fails, naming the types, when a
plan holds a custom resource type with no entry here.

Paths are Pulumi input names (camelCase); a dotted path (`deploymentController.type`) names
an input nested in a block. `follows` lists inputs that are updated in place when their value
changes, but that AWS cannot move onto a replaced dependency (a DB subnet group cannot take the
subnets of another VPC): when such an input depends on a replaced resource, this resource must
be replaced too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TF_AWS = "hashicorp/terraform-provider-aws internal/service/"
TF_CF = "cloudflare/terraform-provider-cloudflare v5 internal/services/"
TF_PG = "cyrilgdn/terraform-provider-postgresql postgresql/"
TF_TLS = "hashicorp/terraform-provider-tls internal/provider/"

NOT_INPUTS = frozenset({"tags", "tagsAll"})
"""Inputs `every_input` never counts: tags are updated in place on every type."""

Condition = Callable[[Any, Any], bool]
"""(before, after) -> whether this change of a conditional input replaces the resource."""


@dataclass(frozen=True)
class Rule:
    """The replace-forcing inputs of one resource type, and where that was read."""

    source: str
    forces: frozenset[str] = frozenset()
    every_input: bool = False
    except_inputs: frozenset[str] = NOT_INPUTS
    when: Mapping[str, Condition] = field(default_factory=dict)
    follows: Mapping[str, str] = field(default_factory=dict)

    def forcing_inputs(self, inputs: Iterable[str]) -> set[str]:
        """Top-level input names whose value feeding from a replaced resource forces a replacement."""
        if self.every_input:
            return {k for k in inputs if k not in self.except_inputs}
        return {p.split(".")[0] for p in self.forces} | {p.split(".")[0] for p in self.when}


def forces(*paths: str, source: str, when: Mapping[str, Condition] | None = None,
           follows: Mapping[str, str] | None = None) -> Rule:
    """A type replaced when one of `paths` changes (or a `when` condition holds)."""
    return Rule(source, frozenset(paths), when=dict(when or {}), follows=dict(follows or {}))


def every_input(source: str, *, except_inputs: Iterable[str] = ()) -> Rule:
    """A type with no in-place update: any input change (but tags and `except_inputs`) replaces it."""
    return Rule(source, every_input=True, except_inputs=NOT_INPUTS | frozenset(except_inputs))


def none(source: str) -> Rule:
    """A type whose every input is updated in place."""
    return Rule(source)


def _version(value: Any) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", str(value or "")))


def _downgrade(before: Any, after: Any) -> bool:
    return bool(before) and bool(after) and _version(after) < _version(before)


def _valkey_to_redis(before: Any, after: Any) -> bool:
    return str(before).lower() == "valkey" and str(after).lower() == "redis"


SUBNETS_ACROSS_VPCS = ("AWS refuses to move a subnet group onto subnets of another VPC, or to drop a subnet in use "
                       "(hashicorp/terraform-provider-aws#17383, #27459): the group must be replaced")

REPLACEMENT: dict[str, Rule] = {
    # --- network ---------------------------------------------------------------------------
    "aws:ec2/vpc:Vpc": forces("cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength", source=TF_AWS + "ec2/vpc_.go"),
    "aws:ec2/subnet:Subnet": forces(
        "availabilityZone", "availabilityZoneId", "cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength",
        "ipv6IpamPoolId", "ipv6Native", "ipv6NetmaskLength", "outpostArn", "vpcId", source=TF_AWS + "ec2/vpc_subnet.go"),
    "aws:ec2/routeTable:RouteTable": forces("vpcId", source=TF_AWS + "ec2/vpc_route_table.go"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": forces(
        "subnetId", "gatewayId", source=TF_AWS + "ec2/vpc_route_table_association.go (route_table_id updates in place)"),
    "aws:ec2/route:Route": forces(
        "routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId",
        source=TF_AWS + "ec2/vpc_route.go (targets update in place: ReplaceRoute)"),
    "aws:ec2/internetGateway:InternetGateway": none(TF_AWS + "ec2/vpc_internet_gateway.go (vpc_id: detach + attach)"),
    "aws:ec2/natGateway:NatGateway": forces(
        "allocationId", "connectivityType", "privateIp", "secondaryPrivateIpAddressCount", "subnetId",
        source=TF_AWS + "ec2/vpc_nat_gateway.go"),
    "aws:ec2/eip:Eip": forces("address", "domain", "ipamPoolId", "networkBorderGroup", "publicIpv4Pool",
                              source=TF_AWS + "ec2/ec2_eip.go"),
    "aws:ec2/flowLog:FlowLog": every_input(TF_AWS + "ec2/vpc_flow_log.go (Update: tags only)"),
    "aws:ec2/securityGroup:SecurityGroup": forces("description", "name", "namePrefix", "vpcId",
                                                  source=TF_AWS + "ec2/vpc_security_group.go"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": forces(
        "vpcId", source=TF_AWS + "ec2/vpc_default_security_group.go"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": forces(
        "securityGroupId", source=TF_AWS + "ec2/vpc_security_group_ingress_rule.go (RequiresReplace; ModifyPlan: "
        "switching the source attribute also replaces)",
        when={k: lambda b, a: (b is None) != (a is None)
              for k in ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")}),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": forces(
        "securityGroupId", source=TF_AWS + "ec2/vpc_security_group_egress_rule.go (shares the ingress rule's schema)",
        when={k: lambda b, a: (b is None) != (a is None)
              for k in ("cidrIpv4", "cidrIpv6", "prefixListId", "referencedSecurityGroupId")}),
    "aws:ec2/vpcEndpoint:VpcEndpoint": forces(
        "vpcId", "serviceName", "vpcEndpointType", "resourceConfigurationArn", "serviceNetworkArn", "serviceRegion",
        "dnsOptions.privateDnsPreference", "dnsOptions.privateDnsSpecifiedDomains",
        source=TF_AWS + "ec2/vpc_endpoint.go (route_table_ids, subnet_ids, security_group_ids update in place)"),
    "aws:ec2/managedPrefixList:ManagedPrefixList": forces(
        "addressFamily", source=TF_AWS + "ec2/vpc_managed_prefix_list.go"),
    # --- data --------------------------------------------------------------------------------
    "aws:rds/cluster:Cluster": forces(
        "availabilityZones", "clusterIdentifier", "clusterIdentifierPrefix", "clusterScalabilityType", "databaseName",
        "dbSubnetGroupName", "dbSystemId", "engine", "engineMode", "kmsKeyId", "masterUsername",
        "restoreToPointInTime", "s3Import", "snapshotIdentifier", "sourceRegion", "storageEncrypted",
        source=TF_AWS + "rds/cluster.go (storage_type forces a new cluster only for non-Aurora engines)"),
    "aws:rds/clusterInstance:ClusterInstance": forces(
        "availabilityZone", "clusterIdentifier", "customIamInstanceProfile", "dbSubnetGroupName", "engine",
        "identifier", "identifierPrefix", source=TF_AWS + "rds/cluster_instance.go"),
    "aws:rds/subnetGroup:SubnetGroup": forces(
        "name", "namePrefix", follows={"subnetIds": SUBNETS_ACROSS_VPCS}, source=TF_AWS + "rds/subnet_group.go"),
    "aws:rds/proxy:Proxy": forces(
        "endpointNetworkType", "engineFamily", "targetConnectionNetworkType", "vpcSubnetIds",
        source=TF_AWS + "rds/proxy.go (name updates in place: ModifyDBProxy NewDBProxyName)"),
    "aws:rds/proxyEndpoint:ProxyEndpoint": forces(
        "dbProxyEndpointName", "dbProxyName", "targetRole", "vpcSubnetIds", source=TF_AWS + "rds/proxy_endpoint.go"),
    "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup": forces(
        "dbProxyName", source=TF_AWS + "rds/proxy_default_target_group.go"),
    "aws:rds/proxyTarget:ProxyTarget": every_input(TF_AWS + "rds/proxy_target.go (no Update)"),
    "aws:elasticache/replicationGroup:ReplicationGroup": forces(
        "atRestEncryptionEnabled", "dataTieringEnabled", "globalReplicationGroupId", "kmsKeyId", "networkType", "port",
        "replicationGroupId", "securityGroupNames", "snapshotArns", "snapshotName", "subnetGroupName",
        when={"engineVersion": _downgrade, "engine": _valkey_to_redis},
        source=TF_AWS + "elasticache/replication_group.go (CustomizeDiff: engine/engine_version downgrade)"),
    "aws:elasticache/user:User": forces(
        "userId", "userName",
        source=TF_AWS + "elasticache/user.go (user_id, user_name ForceNew; access_string, authentication_mode, "
        "engine, passwords update in place: ModifyUser)"),
    "aws:elasticache/userGroup:UserGroup": forces(
        "userGroupId", "engine",
        source=TF_AWS + "elasticache/user_group.go (engine ForceNew; user_ids update in place: ModifyUserGroup); "
        "user_group_id is the API's identifier, ModifyUserGroup cannot rename it (CloudFormation "
        "AWS::ElastiCache::UserGroup UserGroupId: Update requires Replacement)"),
    "aws:elasticache/subnetGroup:SubnetGroup": forces(
        "name", follows={"subnetIds": SUBNETS_ACROSS_VPCS}, source=TF_AWS + "elasticache/subnet_group.go"),
    "aws:kms/key:Key": forces("customKeyStoreId", "customerMasterKeySpec", "keyUsage", "multiRegion", "xksKeyId",
                              source=TF_AWS + "kms/key.go"),
    "aws:kms/alias:Alias": forces("name", "namePrefix", source=TF_AWS + "kms/alias.go (target_key_id updates in place)"),
    "aws:secretsmanager/secret:Secret": forces("name", "namePrefix", source=TF_AWS + "secretsmanager/secret.go"),
    "aws:secretsmanager/secretVersion:SecretVersion": forces(
        "secretId", "secretBinary", "secretString", "secretStringWoVersion",
        source=TF_AWS + "secretsmanager/secret_version.go"),
    "postgresql:index/database:Database": forces(
        "template", "encoding", "lcCollate", "lcCtype", source=TF_PG + "resource_postgresql_database.go (name: RENAME)"),
    "postgresql:index/schema:Schema": forces("database", source=TF_PG + "resource_postgresql_schema.go (name: RENAME)"),
    "postgresql:index/grantRole:GrantRole": every_input(
        source=TF_PG + "resource_postgresql_grant_role.go (role, grant_role, with_admin_option: ForceNew; no update)"),
    "postgresql:index/role:Role": none(TF_PG + "resource_postgresql_role.go (no ForceNew; name: RENAME)"),
    "postgresql:index/grant:Grant": forces(
        "role", "database", "schema", "objectType", "objects", "columns", "withGrantOption",
        source=TF_PG + "resource_postgresql_grant.go (privileges update in place)"),
    "postgresql:index/extension:Extension": forces("name", "database", source=TF_PG + "resource_postgresql_extension.go"),
    "postgresql:index/defaultPrivileges:DefaultPrivileges": forces(
        "role", "database", "owner", "schema", "objectType", "withGrantOption",
        source=TF_PG + "resource_postgresql_default_privileges.go"),
    "pulumi:providers:postgresql": none(
        "pulumi/pulumi-terraform-bridge pkg/tfbridge/provider.go DiffConfig: a provider is replaced only for "
        "config marked ForcesProviderReplace; pulumi-postgresql marks none"),
    "random:index/randomPassword:RandomPassword": every_input(
        "hashicorp/terraform-provider-random internal/provider/resource_password.go (RequiresReplace on every input)"),
    "random:index/randomId:RandomId": every_input(
        "hashicorp/terraform-provider-random internal/provider/resource_id.go (keepers, byte_length, prefix: "
        "RequiresReplace)"),
    "random:index/randomString:RandomString": every_input(
        "hashicorp/terraform-provider-random internal/provider/resource_string.go (RequiresReplace on every input)"),
    # --- backend -----------------------------------------------------------------------------
    "aws:ecs/service:Service": forces(
        "cluster", "deploymentController.type", "iamRole", "launchType", "name", "schedulingStrategy",
        source=TF_AWS + "ecs/service.go (task_definition, network_configuration, load_balancer update in place)"),
    "aws:ecs/taskDefinition:TaskDefinition": every_input(
        TF_AWS + "ecs/task_definition.go (Update: tags only; a new revision)", except_inputs=("skipDestroy", "trackLatest")),
    "aws:lb/loadBalancer:LoadBalancer": forces(
        "customerOwnedIpv4Pool", "internal", "loadBalancerType", "name", "namePrefix",
        source=TF_AWS + "elbv2/load_balancer.go (an ALB's subnets and security groups update in place)"),
    "aws:lb/listener:Listener": forces("loadBalancerArn", source=TF_AWS + "elbv2/listener.go"),
    "aws:lb/listenerRule:ListenerRule": forces(
        "listenerArn", source=TF_AWS + "elbv2/listener_rule.go (priority ForceNew: false; actions, conditions update)"),
    "aws:synthetics/canary:Canary": forces(
        "name", source=TF_AWS + "synthetics/canary.go (Update: code by zip_file path, runtime, schedule, run_config, "
        "artifacts; name ForceNew, 1-21 characters)"),
    "aws:lb/targetGroup:TargetGroup": forces(
        "ipAddressType", "name", "namePrefix", "port", "protocol", "protocolVersion", "targetType", "vpcId",
        source=TF_AWS + "elbv2/target_group.go"),
    "aws:acm/certificate:Certificate": forces(
        "certificateAuthorityArn", "domainName", "keyAlgorithm", "subjectAlternativeNames", "validationMethod",
        "validationOptions", source=TF_AWS + "acm/certificate.go"),
    "aws:cloudwatch/logGroup:LogGroup": forces("logGroupClass", "name", "namePrefix", source=TF_AWS + "logs/group.go"),
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": forces(
        "policyName", "resourceArn", source=TF_AWS + "logs/resource_policy.go"),
    "aws:fis/experimentTemplate:ExperimentTemplate": forces(
        "tags", source=TF_AWS + "fis/experiment_template.go (tags: TagsSchemaForceNew; no name, so no collision)"),
    "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration": forces(
        "resourceArn", source=TF_AWS + "arczonalshift/zonal_autoshift_configuration.go (resource_arn: RequiresReplace)"),
    "aws:iam/role:Role": forces("name", "namePrefix", "path", source=TF_AWS + "iam/role.go"),
    "aws:budgets/budget:Budget": forces("accountId", "name", "namePrefix", source=TF_AWS + "budgets/budget.go"),
    "aws:cloudwatch/eventRule:EventRule": forces("eventBusName", "name", "namePrefix",
                                                 source=TF_AWS + "events/rule.go"),
    "aws:cloudwatch/eventTarget:EventTarget": forces("eventBusName", "rule", "targetId",
                                                     source=TF_AWS + "events/target.go"),
    "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy": forces(
        "logGroupName", source=TF_AWS + "logs/data_protection_policy.go"),
    "aws:costexplorer/anomalySubscription:AnomalySubscription": forces(
        "name", source=TF_AWS + "ce/anomaly_subscription.go"),
    "aws:iam/instanceProfile:InstanceProfile": forces("name", "namePrefix", "path",
                                                      source=TF_AWS + "iam/instance_profile.go"),
    "aws:ec2/launchTemplate:LaunchTemplate": forces(
        "name", "namePrefix", source=TF_AWS + "ec2/ec2_launch_template.go (other changes add a version)"),
    "aws:ec2/instance:Instance": forces(
        "ami", "associatePublicIpAddress", "availabilityZone", "ipv6Addresses", "keyName", "launchTemplate",
        "placementGroup", "privateIp", "rootBlockDevice.encrypted", "rootBlockDevice.kmsKeyId", "securityGroups",
        "subnetId", "tenancy",
        source=TF_AWS + "ec2/ec2_instance.go (a new launch_template version: CustomizeDiff ForceNew)"),
    "aws:sns/topic:Topic": forces("fifoTopic", "name", "namePrefix", source=TF_AWS + "sns/topic.go"),
    "aws:s3/bucket:Bucket": forces("bucket", "bucketPrefix", "objectLockEnabled",
                                   source=TF_AWS + "s3/bucket.go (force_destroy updates in place)"),
    "aws:ecr/repository:Repository": forces("name", "encryptionConfigurations",
                                            source=TF_AWS + "ecr/repository.go (encryption_configuration: ForceNew block)"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": every_input(
        TF_AWS + "iam/role_policy_attachment.go (no Update: role, policy_arn ForceNew)"),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": every_input(TF_AWS + "ecr/lifecycle_policy.go (no Update)"),
    "aws:sns/topicPolicy:TopicPolicy": forces("arn", source=TF_AWS + "sns/topic_policy.go (policy: upsert)"),
    "aws:acm/certificateValidation:CertificateValidation": every_input(TF_AWS + "acm/certificate_validation.go (no Update)"),
    "aws:cloudwatch/dashboard:Dashboard": forces("dashboardName", source=TF_AWS + "cloudwatch/dashboard.go"),
    "aws:s3/bucketPolicy:BucketPolicy": forces("bucket", source=TF_AWS + "s3/bucket_policy.go"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": forces(
        "bucket", source=TF_AWS + "s3/bucket_public_access_block.go"),
    "aws:ecs/cluster:Cluster": forces("name", source=TF_AWS + "ecs/cluster.go (settings: UpdateCluster)"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": forces(
        "name", source=TF_AWS + "cloudwatch/metric_alarm.go (alarm_name, Pulumi's `name`)"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": forces(
        "bucket", source=TF_AWS + "s3/bucket_ownership_controls.go"),
    "aws:iam/rolePolicy:RolePolicy": forces("name", "namePrefix", "role", source=TF_AWS + "iam/role_policy.go"),
    "aws:sns/topicSubscription:TopicSubscription": forces(
        "endpoint", "protocol", "topic", source=TF_AWS + "sns/topic_subscription.go (topic_arn, Pulumi's `topic`)"),
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": forces(
        "actionsEnabled", "alarmName", source=TF_AWS + "cloudwatch/composite_alarm.go"),
    "aws:appautoscaling/target:Target": forces(
        "resourceId", "scalableDimension", "serviceNamespace", source=TF_AWS + "appautoscaling/target.go"),
    "aws:appautoscaling/policy:Policy": forces(
        "name", "resourceId", "scalableDimension", "serviceNamespace", source=TF_AWS + "appautoscaling/policy.go"),
    "aws:rds/parameterGroup:ParameterGroup": forces(
        "name", "namePrefix", "family", "description", source=TF_AWS + "rds/parameter_group.go (parameters update in place)"),
    "aws:elasticache/parameterGroup:ParameterGroup": forces(
        "name", "family", "description", source=TF_AWS + "elasticache/parameter_group.go (parameters update in place)"),
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": forces(
        "name", "namePrefix", "family", "description",
        source=TF_AWS + "rds/cluster_parameter_group.go (parameters update in place)"),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": forces(
        "bucket", "expectedBucketOwner",
        source=TF_AWS + "s3/bucket_server_side_encryption_configuration.go (rules update in place)"),
    "aws:route53/healthCheck:HealthCheck": forces(
        "type", "referenceName", "requestInterval", "measureLatency", "routingControlArn",
        source=TF_AWS + "route53/health_check.go"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": forces(
        "bucket", "expectedBucketOwner", source=TF_AWS + "s3/bucket_lifecycle_configuration.go (rules update in place)"),
    "cloudflare:index/dnsRecord:DnsRecord": forces("zoneId", "type", source=TF_CF + "dns_record/schema.go"),
    "cloudflare:index/ruleset:Ruleset": forces("accountId", "zoneId", "kind", "name", "phase",
                                               source=TF_CF + "ruleset/schema.go"),
    "cloudflare:index/healthcheck:Healthcheck": forces("zoneId", source=TF_CF + "healthcheck/schema.go"),
    "cloudflare:index/zoneSetting:ZoneSetting": forces("settingId", "zoneId", source=TF_CF + "zone_setting/schema.go"),
    "cloudflare:index/tieredCache:TieredCache": forces("zoneId", source=TF_CF + "tiered_cache/schema.go"),
    "cloudflare:index/argoTieredCaching:ArgoTieredCaching": forces("zoneId",
                                                                   source=TF_CF + "argo_tiered_caching/schema.go"),
    # the origin lock (components/origin_lock.py)
    "aws:lb/trustStore:TrustStore": forces(
        "name", "namePrefix", source=TF_AWS + "elbv2/trust_store.go (bundle bucket/key/version: ModifyTrustStore)"),
    "aws:s3/bucketObjectv2:BucketObjectv2": forces("bucket", "key", source=TF_AWS + "s3/object.go"),
    "aws:s3/bucketVersioning:BucketVersioning": forces(
        "bucket", "expectedBucketOwner", source=TF_AWS + "s3/bucket_versioning.go (status updates in place)"),
    "cloudflare:index/authenticatedOriginPullsHostnameCertificate:AuthenticatedOriginPullsHostnameCertificate": forces(
        "zoneId", "certificate", "privateKey", source=TF_CF + "authenticated_origin_pulls_hostname_certificate/schema.go"),
    "cloudflare:index/authenticatedOriginPulls:AuthenticatedOriginPulls": forces(
        "zoneId", source=TF_CF + "authenticated_origin_pulls/schema.go (configs update in place)"),
    **{token: every_input(TF_TLS + "resource_private_key.go, resource_cert_request.go (every attribute "
                                   "RequiresReplace)") for token in (
        "tls:index/privateKey:PrivateKey", "tls:index/certRequest:CertRequest")},
    # early_renewal_hours has no RequiresReplace (it only moves the moment ready_for_renewal turns true). The real
    # re-issue trigger is time: once a certificate reaches its end minus early_renewal_hours, the provider's
    # ModifyPlan marks ready_for_renewal replace-forcing (common_cert.go modifyPlanIfCertificateReadyForRenewal).
    # An offline diff cannot see the clock; the origin lock's expiry alarms warn of that moment instead.
    **{token: every_input(TF_TLS + "resource_self_signed_cert.go, resource_locally_signed_cert.go (every input "
                                   "RequiresReplace but early_renewal_hours)", except_inputs=("earlyRenewalHours",))
       for token in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert")},
}
"""Resource type -> its replace-forcing inputs. See the module docstring."""


def rule_for(token: str) -> Rule | None:
    return REPLACEMENT.get(token)


def missing(tokens: Iterable[str]) -> list[str]:
    """The custom resource types among `tokens` that have no entry in `REPLACEMENT`, sorted."""
    return sorted({t for t in tokens if t not in REPLACEMENT})


def _normal(path: str) -> str:
    """`a[0].b[name].c` -> `a.b.c`: list positions do not matter to the table."""
    return re.sub(r"\[[^\]]*\]", "", path)


def _dig(value: Any, parts: list[str]) -> Any:
    for part in parts:
        if isinstance(value, list):
            value = [_dig(v, [part]) for v in value]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def direct_replacements(token: str, before: Mapping[str, Any], after: Mapping[str, Any],
                        changed_paths: Iterable[str]) -> list[str]:
    """The table's inputs (in table order) whose change between `before` and `after` replaces a `token`."""
    rule = REPLACEMENT.get(token)
    if rule is None:
        return []
    changed = [_normal(p) for p in changed_paths]
    hits: list[str] = []
    if rule.every_input:
        for path in changed:
            top = path.split(".")[0]
            if top not in rule.except_inputs and top not in hits and top != "(protect)":
                hits.append(top)
        return hits
    for forced in sorted(rule.forces):
        if any(p == forced or p.startswith(forced + ".") or forced.startswith(p + ".") for p in changed):
            parts = forced.split(".")
            if _dig(before, parts) != _dig(after, parts):
                hits.append(forced)
    for path, condition in rule.when.items():
        parts = path.split(".")
        old, new = _dig(before, parts), _dig(after, parts)
        if old != new and condition(old, new):
            hits.append(path)
    return hits
