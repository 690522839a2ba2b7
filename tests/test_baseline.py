"""The account baseline project (baseline/): settings, and what its plan declares."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Any

import pytest

from components.backups import REPORTS_PREFIX
from components.config_recorder import CONFORMANCE_RULES
from components.threat_detection import DISABLED_CONTROLS, GUARDDUTY_FEATURES, STANDARDS
from ops.__main__ import main
from ops.plan.mocks import ACCOUNT_ID, baseline_outputs
from ops.plan.planner import Plan, PlannedResource
from ops.stackfile import ROOT, StackConfig
from stacks.account import AURORA_BACKUP_TAG
from stacks.baseline import BASELINE_PROJECT, load_baseline_settings
from stacks.errors import SettingsError
from tests.planning import one, planned, with_changes

BASELINE = ROOT / "baseline"
STACK = "main-use1"
PREFIX = BASELINE_PROJECT + ":"


def config_with(changes: Mapping[str, Any] | None = None) -> StackConfig:
    """The committed baseline stack's config with `changes` ({"backup": {...}} or {"tier": "dev"}) merged in."""
    return with_changes(STACK, changes, root=BASELINE)


@cache
def _plan(tier: str) -> Plan:
    return planned(config_with(None if tier == "prod" else {"tier": "dev"}), BASELINE)


@pytest.fixture(scope="module")
def prod() -> Plan:
    return _plan("prod")


@pytest.fixture(scope="module")
def dev() -> Plan:
    return _plan("dev")


def policy(resource: PlannedResource) -> list[dict[str, Any]]:
    return json.loads(resource.inputs["policy"])["Statement"]


def by_name(plan: Plan, token: str, suffix: str) -> PlannedResource:
    found = [r for r in plan.of_type(token) if r.name.endswith(suffix)]
    assert len(found) == 1, [r.name for r in plan.of_type(token)]
    return found[0]


# --- settings ------------------------------------------------------------------------------


def problems(changes: Mapping[str, Any]) -> list[str]:
    config = config_with(changes)
    with pytest.raises(SettingsError) as error:
        load_baseline_settings(config.stack, config.values)
    return [p.path for p in error.value.problems]


def test_tier_defaults_layer_under_the_stack_file() -> None:
    prod = load_baseline_settings(STACK, config_with().values)
    dev = load_baseline_settings(STACK, config_with({"tier": "dev"}).values)
    assert (prod.audit.trail_log_retention_days, dev.audit.trail_log_retention_days) == (365, 90)
    assert (prod.backup.daily_retention_days, dev.backup.daily_retention_days) == (35, 7)


def test_prod_refuses_audit_logs_kept_under_a_year() -> None:
    assert problems({"audit": {"trail_log_retention_days": 90}}) == [f"{PREFIX}audit.trail_log_retention_days"]
    assert problems({"audit": {"object_retention_days": 30}}) == [f"{PREFIX}audit.object_retention_days"]
    load_baseline_settings(STACK, config_with({"tier": "dev", "audit": {"trail_log_retention_days": 90}}).values)


def test_one_error_names_the_key_the_value_and_what_is_allowed() -> None:
    config = config_with({"backup": {"copy_regon": "eu-west-1"}})
    with pytest.raises(SettingsError) as error:
        load_baseline_settings(config.stack, config.values)
    text = str(error.value)
    assert f"{PREFIX}backup.copy_regon" in text and "'eu-west-1'" in text and "copy_region" in text


def test_settings_aws_would_refuse_fail_before_any_resource() -> None:
    assert problems({"backup": {"copy_region": "us-east-1"}}) == [f"{PREFIX}backup.copy_region"]
    # a rule keeping recovery points shorter than the Vault Lock minimum makes every job fail
    assert problems({"backup": {"lock_min_retention_days": 36}}) == [
        f"{PREFIX}backup.daily_retention_days", f"{PREFIX}backup.continuous_retention_days"]
    assert problems({"backup": {"lock_max_retention_days": 100}}) == [f"{PREFIX}backup.monthly_retention_days"]
    assert problems({"audit": {"expire_after_days": 100}}) == [f"{PREFIX}audit.expire_after_days"]
    assert problems({"cost": {"allocation_tags": ["project"]}}) == [f"{PREFIX}cost.allocation_tags"]
    assert problems({"backup": {"lock_changeable_for_days": 1}}) == [f"{PREFIX}backup.lock_changeable_for_days"]


def test_cli_plans_the_baseline_project(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--project", "baseline", "no-such-stack"]) == 2
    assert f"known stacks: {STACK}" in capsys.readouterr().err


# --- image repository ----------------------------------------------------------------------


def test_owns_the_shared_image_repository(prod: Plan) -> None:
    repo = one(prod, "aws:ecr/repository:Repository")
    assert repo.inputs["name"] == "floyo-backend" and repo.protect
    key = next(k for k in prod.of_type("aws:kms/key:Key") if "images" in k.inputs["description"])
    assert repo.inputs["encryptionConfigurations"][0]["kmsKey"].startswith("arn:aws:kms:") and key.urn in repo.dependencies
    assert prod.outputs["image_repository_url"].endswith("/floyo-backend")


# --- audit ---------------------------------------------------------------------------------


def test_trail_is_multi_region_validated_encrypted_and_streams_to_logs(prod: Plan) -> None:
    trail = one(prod, "aws:cloudtrail/trail:Trail")
    assert trail.inputs["isMultiRegionTrail"] and trail.inputs["enableLogFileValidation"]
    assert trail.inputs["includeGlobalServiceEvents"]
    assert trail.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert trail.inputs["cloudWatchLogsGroupArn"].endswith(":*")  # CloudTrail wants the group ARN with :*
    log_group = one(prod, "aws:cloudwatch/logGroup:LogGroup")
    assert log_group.inputs["retentionInDays"] >= 365 and log_group.inputs["kmsKeyId"]
    bucket_policy = by_name(prod, "aws:s3/bucketPolicy:BucketPolicy", "trail-logs-policy")
    role_policy = by_name(prod, "aws:iam/rolePolicy:RolePolicy", "trail-to-logs")
    assert {bucket_policy.urn, role_policy.urn} <= set(trail.dependencies)  # CloudTrail checks both at creation


def test_trail_key_and_bucket_serve_only_this_trail(prod: Plan) -> None:
    trail_arn = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:trail/floyo-account-trail"
    key = next(k for k in prod.of_type("aws:kms/key:Key") if "CloudTrail" in k.inputs["description"])
    cloudtrail = [s for s in policy(key) if s["Principal"].get("Service") == "cloudtrail.amazonaws.com"]
    assert {tuple(sorted(s["Action"])) if isinstance(s["Action"], list) else s["Action"] for s in cloudtrail} == {
        "kms:GenerateDataKey*", "kms:DescribeKey", "kms:Decrypt"}  # Decrypt: the bucket has an S3 Bucket Key
    assert all(s["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn for s in cloudtrail)
    statements = policy(by_name(prod, "aws:s3/bucketPolicy:BucketPolicy", "trail-logs-policy"))
    writes = [s for s in statements if s.get("Principal", {}) != "*" and s["Effect"] == "Allow"]
    assert {s["Action"] for s in writes} == {"s3:GetBucketAcl", "s3:PutObject"}
    assert all(s["Condition"]["StringEquals"]["aws:SourceArn"] == trail_arn for s in writes)
    assert any(s["Effect"] == "Deny" and s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in statements)


@pytest.mark.parametrize(("tier", "mode"), [("prod", "COMPLIANCE"), ("dev", "GOVERNANCE")])
def test_trail_bucket_is_locked_versioned_private_and_expires(tier: str, mode: str) -> None:
    plan = _plan(tier)
    bucket = by_name(plan, "aws:s3/bucket:Bucket", "trail-logs-bucket")
    assert bucket.inputs["objectLockEnabled"] is True  # only possible when the bucket is created
    lock = one(plan, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    retention = lock.inputs["rule"]["defaultRetention"]
    assert retention["mode"] == mode and retention["days"] == (365 if tier == "prod" else 30)
    versioning = by_name(plan, "aws:s3/bucketVersioning:BucketVersioning", "trail-logs-versioning")
    assert versioning.inputs["versioningConfiguration"]["status"] == "Enabled"
    assert versioning.urn in lock.dependencies
    block = by_name(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "trail-logs-public-access")
    assert all(block.inputs[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                          "restrictPublicBuckets"))
    rule = by_name(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                   "trail-logs-lifecycle").inputs["rules"][0]
    assert rule["expiration"]["days"] >= retention["days"]
    audit = by_name(plan, "aws:s3/bucket:Bucket", "audit-bucket")
    assert audit.inputs["objectLockEnabled"] is False


# --- detection -----------------------------------------------------------------------------


def test_guardduty_features_include_fargate_agent_management(prod: Plan) -> None:
    features = {f.inputs["name"]: f for f in prod.of_type("aws:guardduty/detectorFeature:DetectorFeature")}
    assert set(features) == {"RDS_LOGIN_EVENTS", "RUNTIME_MONITORING", "S3_DATA_EVENTS"} == set(GUARDDUTY_FEATURES)
    assert all(f.inputs["status"] == "ENABLED" for f in features.values())
    agents = [(a["name"], a["status"]) for a in features["RUNTIME_MONITORING"].inputs["additionalConfigurations"]]
    # all three the API returns (else every preview shows an update), in the API's order (a list provider
    # replaces on another order), only Fargate's agent enabled
    assert agents == [("EKS_ADDON_MANAGEMENT", "DISABLED"), ("ECS_FARGATE_AGENT_MANAGEMENT", "ENABLED"),
                      ("EC2_AGENT_MANAGEMENT", "DISABLED")]


def test_security_hub_standards_and_deliberately_failed_controls(prod: Plan) -> None:
    account = one(prod, "aws:securityhub/account:Account")
    assert account.inputs["enableDefaultStandards"] is False
    subscriptions = prod.of_type("aws:securityhub/standardsSubscription:StandardsSubscription")
    arns = {s.inputs["standardsArn"] for s in subscriptions}
    assert arns == {f"arn:aws:securityhub:us-east-1::standards/{s}" for s in STANDARDS}
    assert all(account.urn in s.dependencies for s in subscriptions)
    associations = prod.of_type("aws:securityhub/standardsControlAssociation:StandardsControlAssociation")
    expected = {(c.control_id, f"arn:aws:securityhub:us-east-1::standards/{s}") for c in DISABLED_CONTROLS
                for s in c.standards}
    assert {(a.inputs["securityControlId"], a.inputs["standardsArn"]) for a in associations} == expected
    assert {"RDS.13", "RDS.35", "ElastiCache.2"} == {c for c, _ in expected}
    for association in associations:
        assert association.inputs["associationStatus"] == "DISABLED" and len(association.inputs["updatedReason"]) > 20
        assert association.inputs["standardsArn"] in arns  # a control can only be disabled in a subscribed standard
    assert one(prod, "aws:accessanalyzer/analyzer:Analyzer").inputs["type"] == "ACCOUNT"


def test_config_records_then_delivers_then_starts_then_checks(prod: Plan) -> None:
    recorder = one(prod, "aws:cfg/recorder:Recorder")
    channel = one(prod, "aws:cfg/deliveryChannel:DeliveryChannel")
    status = one(prod, "aws:cfg/recorderStatus:RecorderStatus")
    pack = one(prod, "aws:cfg/conformancePack:ConformancePack")
    assert recorder.inputs["recordingGroup"]["allSupported"] is True
    assert recorder.urn in channel.dependencies and channel.urn in status.dependencies
    assert status.urn in pack.dependencies and status.inputs["isEnabled"] is True
    assert channel.inputs["s3KmsKeyArn"].startswith("arn:aws:kms:")
    rules = json.loads(pack.inputs["templateBody"])["Resources"].values()
    assert {r["Properties"]["Source"]["SourceIdentifier"] for r in rules} == set(CONFORMANCE_RULES.values())


# --- backups -------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["prod", "dev"])
def test_vaults_are_locked_per_tier_in_two_regions(tier: str) -> None:
    plan = _plan(tier)
    vaults = {v.inputs["name"]: v for v in plan.of_type("aws:backup/vault:Vault")}
    assert vaults["floyo-account"].inputs.get("region") is None
    assert vaults["floyo-account-copy"].inputs["region"] == "us-west-2"
    keys = {k.urn: k for k in plan.of_type("aws:kms/key:Key")}
    for vault in vaults.values():
        assert any(urn in vault.dependencies for urn in keys), vault.name  # each vault its own key
        assert vault.inputs["forceDestroy"] is False
    assert len({v.inputs["kmsKeyArn"] for v in vaults.values()}) == 2
    locks = plan.of_type("aws:backup/vaultLockConfiguration:VaultLockConfiguration")
    assert len(locks) == 2
    for lock in locks:
        # with changeable_for_days the lock is COMPLIANCE mode (immutable after the grace period)
        assert lock.inputs.get("changeableForDays") == (3 if tier == "prod" else None)


def test_plan_rules_copy_and_selection_cover_tagged_aurora(prod: Plan) -> None:
    rules = {r["ruleName"]: r for r in one(prod, "aws:backup/plan:Plan").inputs["rules"]}
    assert set(rules) == {"daily", "monthly", "continuous"}
    assert rules["continuous"]["enableContinuousBackup"] is True
    assert rules["continuous"]["lifecycle"]["deleteAfter"] <= 35
    copy_vault = next(v for v in prod.of_type("aws:backup/vault:Vault") if v.inputs["name"] == "floyo-account-copy")
    assert [c["destinationVaultArn"] for c in rules["daily"]["copyActions"]] == [
        f"arn:aws:backup:us-west-2:{ACCOUNT_ID}:vault/floyo-account-copy"]
    assert copy_vault.urn
    selection = one(prod, "aws:backup/selection:Selection")
    key, value = AURORA_BACKUP_TAG
    assert selection.inputs["conditions"][0]["stringEquals"] == [{"key": f"aws:ResourceTag/{key}", "value": value}]
    assert selection.inputs["resources"] == [f"arn:aws:rds:us-east-1:{ACCOUNT_ID}:cluster:*"]
    attachments = prod.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert {a.inputs["policyArn"].rsplit("/", 1)[1] for a in attachments} >= {
        "AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"}


def test_restore_tests_restore_tagged_aurora_on_a_schedule(prod: Plan) -> None:
    plan = one(prod, "aws:backup/restoreTestingPlan:RestoreTestingPlan")
    assert plan.inputs["name"].replace("_", "").isalnum()  # AWS allows letters, digits, underscores only
    assert plan.inputs["scheduleExpression"].startswith("cron(")
    selection = one(prod, "aws:backup/restoreTestingSelection:RestoreTestingSelection")
    assert selection.inputs["protectedResourceType"] == "Aurora"
    key, value = AURORA_BACKUP_TAG
    assert selection.inputs["protectedResourceConditions"]["stringEquals"] == [
        {"key": f"aws:ResourceTag/{key}", "value": value}]
    assert 1 <= selection.inputs["validationWindowHours"] <= 168


def test_audit_manager_frameworks_after_config_and_reports_into_the_audit_bucket(prod: Plan) -> None:
    framework = one(prod, "aws:backup/framework:Framework")
    assert one(prod, "aws:cfg/recorderStatus:RecorderStatus").urn in framework.dependencies
    controls = {c["name"] for c in framework.inputs["controls"]}
    assert {"BACKUP_RESOURCES_PROTECTED_BY_BACKUP_PLAN", "BACKUP_RESOURCES_PROTECTED_BY_CROSS_REGION",
            "BACKUP_RESOURCES_PROTECTED_BY_BACKUP_VAULT_LOCK"} <= controls
    reports = prod.of_type("aws:backup/reportPlan:ReportPlan")
    assert {r.inputs["reportSetting"]["reportTemplate"] for r in reports} == {"CONTROL_COMPLIANCE_REPORT",
                                                                           "BACKUP_JOB_REPORT"}
    audit_bucket = by_name(prod, "aws:s3/bucket:Bucket", "audit-bucket")
    bucket_policy = by_name(prod, "aws:s3/bucketPolicy:BucketPolicy", "audit-policy")
    for report in reports:
        assert report.inputs["reportDeliveryChannel"]["s3BucketName"] == audit_bucket.id
        assert bucket_policy.urn in report.dependencies
    write = next(s for s in policy(bucket_policy) if s.get("Sid") == "BackupReportsWrite")
    assert write["Resource"].endswith(f"/{REPORTS_PREFIX}/*")
    role = one(prod, "aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert role.inputs["awsServiceName"] == "reports.backup.amazonaws.com"
    assert role.urn in bucket_policy.dependencies  # the policy names the role, so the role exists first


# --- cost and outputs ----------------------------------------------------------------------


TAG = "aws:costexplorer/costAllocationTag:CostAllocationTag"
MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
EXISTING_MONITOR = f"arn:aws:ce::{ACCOUNT_ID}:anomalymonitor/0c2a4b6d-1e3f-4a5b-8c7d-9e0f1a2b3c4d"


def test_a_first_up_activates_no_cost_allocation_tag_and_creates_one_monitor(prod: Plan) -> None:
    # a tag Billing has not seen makes the provider's read-back after activation fail, which stops the
    # whole update: the committed stack file (a new account's first up) declares no activation
    assert not prod.of_type(TAG)
    monitor = one(prod, MONITOR)
    assert (monitor.inputs["monitorType"], monitor.inputs["monitorDimension"]) == ("DIMENSIONAL", "SERVICE")
    assert prod.outputs["anomaly_monitor_arn"] == monitor.outputs["arn"]


def _cost_variant() -> Plan:
    """Both cost settings changed in one plan: the tags' activation and the monitor are separate resources, and
    each test reads only its own (the committed file's plan, `prod`, has neither change)."""
    return planned(config_with({"cost": {"activate_allocation_tags": True, "service_monitor_arn": EXISTING_MONITOR}}),
                   BASELINE)


def test_cost_allocation_tags_are_activated_once_turned_on() -> None:
    plan = _cost_variant()
    assert {t.inputs["tagKey"]: t.inputs["status"] for t in plan.of_type(TAG)} == {"project": "Active", "stack": "Active"}


def test_an_existing_service_monitor_is_used_instead_of_a_second_one() -> None:
    # AWS allows one SERVICE monitor per account and creates a default one for new Cost Explorer users
    plan = _cost_variant()
    assert not plan.of_type(MONITOR)
    assert plan.outputs["anomaly_monitor_arn"] == EXISTING_MONITOR


def test_a_malformed_service_monitor_arn_is_refused() -> None:
    with pytest.raises(SettingsError) as error:
        load_baseline_settings(STACK, config_with({"cost": {"service_monitor_arn": "Default-Services-Monitor"}}).values)
    assert PREFIX + "cost.service_monitor_arn" in str(error.value)


def test_the_app_stacks_mocked_stack_reference_has_the_baselines_outputs(prod: Plan) -> None:
    assert set(baseline_outputs("us-east-1")) == set(prod.outputs)


def test_fixed_names_and_locks_are_replaced_delete_first(prod: Plan) -> None:
    # Pulumi creates a replacement first by default: a fixed name would collide, and a new Vault Lock would be
    # removed together with the old one
    for token in ("aws:backup/vaultLockConfiguration:VaultLockConfiguration", "aws:backup/vault:Vault",
                  "aws:cloudtrail/trail:Trail", "aws:cfg/recorder:Recorder", "aws:cfg/deliveryChannel:DeliveryChannel",
                  "aws:backup/restoreTestingPlan:RestoreTestingPlan", "aws:backup/framework:Framework",
                  "aws:backup/reportPlan:ReportPlan"):
        resources = prod.of_type(token)
        assert resources and all(r.delete_before_replace for r in resources), token
