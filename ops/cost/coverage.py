"""Resource types that cost nothing by themselves, or only with usage the estimate does not model.

Every custom resource type in the app's and the baseline's plans is in exactly one of: `PRICERS`
(ops/cost/engine.py), `FREE` or `USAGE_ONLY`, each with its reason. tests/test_cost.py fails on a type
that is in none, and says which of the three to add it to.
"""

from __future__ import annotations

FREE: dict[str, str] = {
    **{t: "configuration or wiring; AWS does not bill for it" for t in (
        "aws:acm/certificateValidation:CertificateValidation", "aws:appautoscaling/policy:Policy",
        "aws:appautoscaling/target:Target", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/internetGateway:InternetGateway", "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:ec2/managedPrefixList:ManagedPrefixList", "aws:ec2/route:Route", "aws:ec2/routeTable:RouteTable",
        "aws:ec2/routeTableAssociation:RouteTableAssociation", "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/subnet:Subnet", "aws:ec2/vpc:Vpc", "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:elasticache/parameterGroup:ParameterGroup", "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:iam/instanceProfile:InstanceProfile", "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "aws:iam/serviceLinkedRole:ServiceLinkedRole",
        "aws:kms/alias:Alias", "aws:lb/listener:Listener", "aws:lb/listenerRule:ListenerRule",
        "aws:lb/targetGroup:TargetGroup", "aws:rds/clusterParameterGroup:ClusterParameterGroup",
        "aws:rds/parameterGroup:ParameterGroup", "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
        "aws:rds/proxyTarget:ProxyTarget", "aws:rds/subnetGroup:SubnetGroup",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning", "aws:secretsmanager/secretVersion:SecretVersion",
        "aws:sns/topicPolicy:TopicPolicy", "aws:cloudwatch/eventTarget:EventTarget",
        "aws:cloudwatch/logDataProtectionPolicy:LogDataProtectionPolicy", "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:backup/plan:Plan", "aws:backup/selection:Selection", "aws:backup/vaultLockConfiguration:VaultLockConfiguration",
        "aws:backup/restoreTestingSelection:RestoreTestingSelection", "aws:cfg/deliveryChannel:DeliveryChannel",
        "aws:cfg/recorderStatus:RecorderStatus", "aws:securityhub/standardsControlAssociation:StandardsControlAssociation",
        "aws:guardduty/detectorFeature:DetectorFeature", "aws:costexplorer/costAllocationTag:CostAllocationTag",
        "aws:rds/proxyEndpoint:ProxyEndpoint", "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
        "aws:elasticache/user:User", "aws:elasticache/userGroup:UserGroup",
    )},
    "aws:arczonalshift/zonalAutoshiftConfiguration:ZonalAutoshiftConfiguration": (
        "zonal shift and zonal autoshift carry no charge (ARC pricing: included)"),
    "aws:acm/certificate:Certificate": "public ACM certificates are free (AWS Certificate Manager pricing)",
    "aws:ecs/taskDefinition:TaskDefinition": "free itself; the service running it (or one-off task hours) is priced",
    "aws:budgets/budget:Budget": "budgets without actions are free (AWS Budgets pricing)",
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": "Cost Anomaly Detection is free",
    "aws:costexplorer/anomalySubscription:AnomalySubscription": "Cost Anomaly Detection is free",
    "aws:cloudwatch/eventRule:EventRule": "rules on AWS service events are free (EventBridge pricing)",
    "aws:accessanalyzer/analyzer:Analyzer": "external-access analyzers are free (IAM Access Analyzer pricing)",
    "aws:cloudtrail/trail:Trail": "the first copy of management events is free; this trail logs no data events",
    "cloudflare:index/dnsRecord:DnsRecord": "DNS is included in every Cloudflare plan",
    "cloudflare:index/zoneSetting:ZoneSetting": "a zone setting; the plan line prices the zone",
    "cloudflare:index/ruleset:Ruleset": "rules within the plan's limits are included (the plan line prices the zone)",
    "cloudflare:index/tieredCache:TieredCache": "Smart Tiered Cache is included in every plan",
    "cloudflare:index/argoTieredCaching:ArgoTieredCaching": "tiered caching (not Argo Smart Routing) is free",
    "cloudflare:index/healthcheck:Healthcheck": "standalone health checks are included in Pro and above",
    "pulumi:providers:postgresql": "a Pulumi provider, not a cloud resource",
    **{t: "an object inside the database; the cluster is priced" for t in (
        "postgresql:index/database:Database", "postgresql:index/defaultPrivileges:DefaultPrivileges",
        "postgresql:index/extension:Extension", "postgresql:index/grant:Grant",
        "postgresql:index/grantRole:GrantRole", "postgresql:index/role:Role", "postgresql:index/schema:Schema")},
    **{t: "generated in Pulumi's state; no cloud resource" for t in (
        "random:index/randomId:RandomId", "random:index/randomPassword:RandomPassword",
        "random:index/randomString:RandomString", "tls:index/privateKey:PrivateKey",
        "tls:index/selfSignedCert:SelfSignedCert", "tls:index/certRequest:CertRequest",
        "tls:index/locallySignedCert:LocallySignedCert")},
    **{t: "authenticated origin pulls are included in every Cloudflare plan (the plan line prices the zone)"
       for t in ("cloudflare:index/authenticatedOriginPulls:AuthenticatedOriginPulls",
                 "cloudflare:index/authenticatedOriginPullsHostnameCertificate:AuthenticatedOriginPullsHostnameCertificate",
                 "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings")},
}
"""Type -> why it costs nothing by itself."""

USAGE_ONLY: dict[str, str] = {
    "aws:sns/topic:Topic": "$0.50 per million publishes, emails $2 per 100,000 after 1,000 free: alert volume",
    "aws:sns/topicSubscription:TopicSubscription": "billed per delivery on the topic",
    "aws:ec2/flowLog:FlowLog": "billed as log ingestion on its log group (priced there)",
    "aws:guardduty/detector:Detector": "GuardDuty bills per event and GB analysed, and per monitored vCPU",
    "aws:securityhub/account:Account": "Security Hub bills per security check and finding ingested",
    "aws:securityhub/standardsSubscription:StandardsSubscription": "billed per security check run",
    "aws:cfg/conformancePack:ConformancePack": "$0.001 per rule evaluation: depends on configuration changes",
    "aws:cfg/recorder:Recorder": "$0.003 per configuration item recorded: depends on how often resources change",
    "aws:ecr/repository:Repository": "$0.10 per GB-month of images stored (lifecycle policy bounds it)",
    "aws:backup/vault:Vault": "billed on backup storage (Aurora snapshots $0.021/GB-month): grows with the data",
    "aws:backup/framework:Framework": "Backup Audit Manager bills per control evaluation",
    "aws:backup/reportPlan:ReportPlan": "billed per report delivered",
    "aws:backup/restoreTestingPlan:RestoreTestingPlan": "billed as the restored cluster's hours while a test runs",
    "aws:lb/trustStore:TrustStore": ("mutual TLS verify on the load balancer: billed through the ALB's LCUs and any "
                                     "per-trust-store charge on the ELB pricing page (not in the vendored table)"),
    "aws:s3/bucketObjectv2:BucketObjectv2": "a few KB of PEM in its bucket: S3 storage and requests, priced on the bucket",
    "aws:fis/experimentTemplate:ExperimentTemplate": ("a template is free; each experiment run is billed per "
                                                     "action-minute ($0.10, AWS FIS pricing): drills only"),
    "aws:ecs/cluster:Cluster": "free itself, but its Container Insights with enhanced observability "
    "(containerInsights=enhanced, components/backend.py) is billed per metric observation and its "
    "performance log events as CloudWatch Logs ingestion: grows with tasks and containers "
    "(https://aws.amazon.com/cloudwatch/pricing/, Container Insights)",
}
"""Type -> what it is billed on (no fixed monthly part; listed in every estimate, never silently zero)."""
