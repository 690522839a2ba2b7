"""GuardDuty, Security Hub and IAM Access Analyzer: one of each per account and region."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from stacks.baseline import DetectionSettings

GUARDDUTY_FEATURES: dict[str, dict[str, str]] = {
    "RDS_LOGIN_EVENTS": {},  # Aurora PostgreSQL login activity
    "RUNTIME_MONITORING": {  # in the order GetDetector returns them (see below)
        "EKS_ADDON_MANAGEMENT": "DISABLED",  # no EKS here
        "ECS_FARGATE_AGENT_MANAGEMENT": "ENABLED",  # GuardDuty injects its agent sidecar into tasks
        "EC2_AGENT_MANAGEMENT": "DISABLED",  # no EC2 instances here
    },
    "S3_DATA_EVENTS": {},
}
"""GuardDuty protection plans this platform uses -> their additional configurations -> status.

GetDetector returns every additional configuration of RUNTIME_MONITORING (the API's
`FeatureAdditionalConfiguration` enum), and the provider's Read stores all of them
(terraform-provider-aws internal/service/guardduty/detector_feature.go, resourceDetectorFeatureRead):
declaring only one made every preview show an update. So all three are declared, the two this platform
does not use as DISABLED, in the order the API returns them: EKS_ADDON_MANAGEMENT,
ECS_FARGATE_AGENT_MANAGEMENT, EC2_AGENT_MANAGEMENT (the provider's acceptance test
member_detector_feature_test.go, testAccMemberDetectorFeature_additionalConfiguration, checks
`additional_configuration.0/1/2` in that order after a read). The order matters to providers that keep
`additional_configuration` as a list whose `name` is ForceNew (terraform-provider-aws before PR #44627,
2025-10: a different order replaces the feature on every up); since that PR the attribute is a set and
the order is irrelevant. Declaring the API's order is right under both."""

FSBP = "aws-foundational-security-best-practices/v/1.0.0"
CIS = "cis-aws-foundations-benchmark/v/3.0.0"
STANDARDS = (FSBP, CIS)
"""Security Hub standards subscribed (`arn:<partition>:securityhub:<region>::standards/<this>`)."""


@dataclass(frozen=True)
class DisabledControl:
    """A control the platform fails on purpose: disabled in each standard that contains it, with the reason."""

    control_id: str
    standards: tuple[str, ...]
    reason: str


DISABLED_CONTROLS = (
    DisabledControl("RDS.13", (FSBP, CIS),
                    "Aurora instances pin their engine version (auto_minor_version_upgrade off); upgrades are "
                    "reviewed and rolled out through database.engine_version, dev first"),
    DisabledControl("RDS.35", (FSBP,),
                    "Aurora clusters pin their engine version; minor upgrades go through database.engine_version"),
    DisabledControl("ElastiCache.2", (FSBP,),
                    "ElastiCache pins its engine version (auto_minor_version_upgrade off); upgrades go through "
                    "cache.engine_version, dev first"),
)
"""Controls deliberately failed. ELB.16 (ALB without AWS WAF; Cloudflare is the WAF) belongs only to
NIST SP 800-53, which is not subscribed, so there is nothing to disable for it."""


@dataclass(frozen=True)
class ThreatDetectionArgs:
    """Arguments of `ThreatDetection`."""

    settings: DetectionSettings
    """The baseline's `detection` settings."""
    context: AwsContext
    """Account/region/partition."""


class ThreatDetection(pulumi.ComponentResource):
    """Threat detection and posture for the account in this region.

    * a GuardDuty detector with the features in `GUARDDUTY_FEATURES` (Fargate runtime monitoring: the
      app's task execution role must be able to pull GuardDuty's agent image, components/backend.py);
    * Security Hub with FSBP and CIS v3.0.0 subscribed (after the account is enabled) and each control in
      `DISABLED_CONTROLS` disabled with its reason;
    * an account-zone IAM Access Analyzer.

    Each exists once per account and region: two stacks in one account would collide, hence this project.
    """

    detector: aws.guardduty.Detector

    def __init__(self, name: str, args: ThreatDetectionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:security:ThreatDetection", name, None, opts)
        ctx = args.context
        child = pulumi.ResourceOptions(parent=self)
        self.detector = aws.guardduty.Detector(
            f"{name}-guardduty", enable=True,
            finding_publishing_frequency=args.settings.guardduty_publishing_frequency, opts=child)
        for feature, agents in GUARDDUTY_FEATURES.items():
            aws.guardduty.DetectorFeature(
                f"{name}-{feature.lower().replace('_', '-')}", detector_id=self.detector.id, name=feature,
                status="ENABLED",
                additional_configurations=[aws.guardduty.DetectorFeatureAdditionalConfigurationArgs(
                    name=agent, status=status) for agent, status in agents.items()] or None,
                opts=child)
        hub = aws.securityhub.Account(
            f"{name}-securityhub", enable_default_standards=False, auto_enable_controls=True,
            control_finding_generator="SECURITY_CONTROL", opts=child)
        subscriptions: dict[str, aws.securityhub.StandardsSubscription] = {}
        for standard in STANDARDS:
            subscriptions[standard] = aws.securityhub.StandardsSubscription(
                f"{name}-{standard.split('/')[0]}",
                standards_arn=self.standard_arn(ctx, standard),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[hub]))
        for control in DISABLED_CONTROLS:
            for standard in control.standards:
                aws.securityhub.StandardsControlAssociation(
                    f"{name}-{control.control_id.lower().replace('.', '-')}-{standard.split('/')[0][:3]}",
                    security_control_id=control.control_id, standards_arn=self.standard_arn(ctx, standard),
                    association_status="DISABLED", updated_reason=control.reason,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[subscriptions[standard]]))
        aws.accessanalyzer.Analyzer(f"{name}-access-analyzer", analyzer_name="floyo-account", type="ACCOUNT",
                                    opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True))
        self.register_outputs({"detector_id": self.detector.id})

    @staticmethod
    def standard_arn(ctx: AwsContext, standard: str) -> pulumi.Output[str]:
        return pulumi.Output.concat("arn:", ctx.partition, ":securityhub:", ctx.region, "::standards/", standard)
