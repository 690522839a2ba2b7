"""The origin lock (docs/origin-lock.md): what prod's plan holds, the switch-on and rotation phases as
plans, the settings refused, the diff's traffic danger and the policies."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ops.diff.danger import SAFETY
from ops.diff.plans import diff_plans
from ops.diff.replacement import direct_replacements
from ops.plan.planner import Plan, PlannedResource
from stacks import SettingsError
from tests.planning import one, plan_with, settings_for, stack_plan, with_changes
from tests.policy_fixtures import check, messages, res
from tests.tier_variants import DEV_PRESENT, DEV_RELAXED, PROD_EDGE

LISTENER = "aws:lb/listener:Listener"
TRUST_STORE = "aws:lb/trustStore:TrustStore"
BUNDLE = "aws:s3/bucketObjectv2:BucketObjectv2"
HOST_CERT = "cloudflare:index/authenticatedOriginPullsHostnameCertificate:AuthenticatedOriginPullsHostnameCertificate"
AOP = "cloudflare:index/authenticatedOriginPulls:AuthenticatedOriginPulls"
AOP_ZONE = "cloudflare:index/authenticatedOriginPullsSettings:AuthenticatedOriginPullsSettings"
SIGNED = "tls:index/locallySignedCert:LocallySignedCert"
CA = "tls:index/selfSignedCert:SelfSignedCert"
ACM = "aws:acm/certificate:Certificate"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
DNS_RECORD = "cloudflare:index/dnsRecord:DnsRecord"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def https(plan: Plan) -> PlannedResource:
    return one(plan, LISTENER, "api-https")


def bundle_pems(plan: Plan) -> list[str]:
    content = one(plan, BUNDLE).inputs["content"]
    return [block for block in content.split("-----END CERTIFICATE-----\n") if block]


def ca_of(plan: Plan, resource: PlannedResource, key: str) -> str:
    """The CA resource name an input of `resource` was computed from."""
    return next(r.name for r in plan.of_type(CA) if r.urn in resource.property_dependencies[key])


# --- what prod's plan holds --------------------------------------------------------------------------------
def test_prod_listener_verifies_against_the_trust_store() -> None:
    plan = stack_plan("prod")
    store = one(plan, TRUST_STORE)
    mutual = https(plan).inputs["mutualAuthentication"]
    assert mutual == {"mode": "verify", "trustStoreArn": store.outputs["arn"], "ignoreClientCertificateExpiry": False,
                      "advertiseTrustStoreCaNames": "off"}


def test_trust_store_pins_the_kms_encrypted_bundle_version() -> None:
    plan = stack_plan("prod")
    store, bundle = one(plan, TRUST_STORE), one(plan, BUNDLE)
    assert store.inputs["caCertificatesBundleS3Key"] == bundle.inputs["key"]
    assert store.inputs["caCertificatesBundleS3ObjectVersion"] == bundle.outputs["versionId"]
    assert store.inputs["namePrefix"] == "floyo-" and "name" not in store.inputs  # a replacement can coexist
    assert bundle.inputs["serverSideEncryption"] == "aws:kms"
    data_key = one(plan, "aws:kms/key:Key", "data-key")
    assert bundle.inputs["kmsKeyId"] == data_key.outputs["arn"]
    lifecycle = one(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                    "origin-lock-bundle-lifecycle")
    assert "expiration" not in lifecycle.inputs["rules"][0]  # the bundle never expires under the trust store
    assert one(plan, "aws:s3/bucket:Bucket", "origin-lock-bundle-bucket").protect


def test_cloudflare_presents_our_certificate_on_every_public_host() -> None:
    plan = plan_with("prod", PROD_EDGE)  # a whole plan: it asserts the zone-level switch is absent
    uploaded = one(plan, HOST_CERT)
    client = one(plan, SIGNED, "origin-lock-client-g1")
    assert uploaded.property_dependencies["certificate"] == [client.urn]
    configs = sorted((c for a in plan.of_type(AOP) for c in a.inputs["configs"]), key=lambda c: c["hostname"])
    settings = settings_for(with_changes("prod", PROD_EDGE)).cdn
    assert [c["hostname"] for c in configs] == sorted(settings.hosts) and "app.floyo.app" in settings.hosts
    assert all(c["certId"] == uploaded.id and c["enabled"] is True for c in configs)
    # no zone-level AOP switch: it is zone-level AOP with a zone certificate, independent of per-hostname AOP
    assert plan.of_type(AOP_ZONE) == []


def test_the_client_certificate_is_for_tls_clients_only() -> None:
    csr = one(stack_plan("prod"), "tls:index/certRequest:CertRequest", "origin-lock-client-g1-csr").inputs
    assert csr["dnsNames"] == ["origin-pull-g1.floyo.app"] == [csr["subject"]["commonName"]]  # ACM imports it
    client = one(stack_plan("prod"), SIGNED, "origin-lock-client-g1").inputs
    assert "client_auth" in client["allowedUses"] and "server_auth" not in client["allowedUses"]
    assert client["validityPeriodHours"] == 730 * 24 and client["earlyRenewalHours"] == 0
    ca = one(stack_plan("prod"), CA).inputs
    assert ca["isCaCertificate"] is True and "cert_signing" in ca["allowedUses"]
    assert ca["validityPeriodHours"] > client["validityPeriodHours"] + 364 * 24  # the client alarm comes first


def test_verify_waits_for_cloudflare() -> None:
    plan = stack_plan("prod")
    associations = {a.urn for a in plan.of_type(AOP)}
    assert associations and associations <= set(https(plan).dependencies)


def test_the_ip_allow_list_stays() -> None:
    plan = stack_plan("prod")
    lb_sg = one(plan, "aws:ec2/securityGroup:SecurityGroup", "sg-lb").id
    https_rules = [r.inputs for r in plan.of_type(INGRESS) if r.inputs["securityGroupId"] == lb_sg]
    assert https_rules and all("prefixListId" in r and "cidrIpv4" not in r for r in https_rules)


def test_expiry_alarm_reads_the_acm_copy_and_opens_a_ticket() -> None:
    plan = stack_plan("prod")
    acm = one(plan, ACM, "origin-lock-client-g1-expiry")
    assert acm.property_dependencies["certificateBody"] == [one(plan, SIGNED, "origin-lock-client-g1").urn]
    alarm = one(plan, ALARM, "alarms-edge-origin-cert-expiring").inputs
    assert (alarm["namespace"], alarm["metricName"], alarm["statistic"]) == (
        "AWS/CertificateManager", "DaysToExpiry", "Minimum")
    assert alarm["dimensions"] == {"CertificateArn": acm.outputs["arn"]}
    assert (alarm["comparisonOperator"], alarm["threshold"], alarm["period"]) == ("LessThanThreshold", 45, 86400)
    assert len(alarm["alarmActions"]) == 1 and alarm["alarmActions"][0].endswith("-ticket")
    changed = plan_with("prod", PROD_EDGE)  # expiry_warning_days 60; the alarm is observability's: a whole plan
    assert one(changed, ALARM, "alarms-edge-origin-cert-expiring").inputs["threshold"] == 60


# --- dev relaxations, by name ------------------------------------------------------------------------------
def test_present_uploads_without_verifying() -> None:
    plan = plan_with("dev", DEV_PRESENT, upto="base")
    # explicitly off: an absent block would leave a verifying listener verifying (Optional+Computed)
    assert https(plan).inputs["mutualAuthentication"] == {"mode": "off"}
    assert plan.of_type(AOP) and one(plan, HOST_CERT, "origin-lock-cloudflare-g1")  # the lock's own upload
    for whole in (stack_plan("dev"), stack_plan("prod")):  # and no other upload anywhere in a whole stack
        assert [r.name for r in whole.of_type(HOST_CERT)] == ["origin-lock-cloudflare-g1"]


def test_off_presents_nothing_and_verifies_nothing() -> None:
    plan = plan_with("dev", DEV_RELAXED)  # origin_lock.mode off; absences are read from a whole plan
    assert https(plan).inputs["mutualAuthentication"] == {"mode": "off"}
    assert plan.of_type(AOP) == [] and plan.of_type(HOST_CERT) == [] and plan.of_type(AOP_ZONE) == []
    assert one(plan, TRUST_STORE)  # kept: switching on later only changes the listener


@pytest.mark.parametrize("mode", ["present", "off"])
def test_prod_refuses_anything_but_verify(mode: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_for(with_changes("prod", {"cdn": {"origin_lock": {"mode": mode}}}))
    text = str(err.value)
    assert "cdn.origin_lock.mode" in text and mode in text and "prod verifies" in text


@pytest.mark.parametrize(("changes", "expected"), [
    ({"trusted_cas": ["g1"], "client_ca": "g2"}, "not in trusted_cas"),
    ({"trusted_cas": ["g1", "g2", "g3"], "client_ca": "g1"}, "must list 1 or 2"),
    ({"trusted_cas": ["G 1"], "client_ca": "G 1"}, "not generation labels"),
    ({"client_validity_days": 60, "expiry_warning_days": 60}, "less than client_validity_days"),
])
def test_bad_origin_lock_settings_are_refused(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        settings_for(with_changes("dev", {"cdn": {"origin_lock": changes}}))
    assert expected in str(err.value) and "cdn.origin_lock" in str(err.value)


# --- rotation with overlap, as three plans -------------------------------------------------------------------
def uploads(plan: Plan) -> dict[str, str]:
    """Cloudflare upload name -> id."""
    return {r.name: r.id for r in plan.of_type(HOST_CERT)}


def presented_ids(plan: Plan) -> set[str]:
    return {c["certId"] for a in plan.of_type(AOP) for c in a.inputs["configs"]}


CLIENT_VALIDITY_DAYS = 400
"""A client certificate validity unlike the default (730 days), set in every rotation phase below."""


def rotation(trusted_cas: list[str], client_ca: str) -> Plan:
    """A rotation phase of prod, planned whole, with `client_validity_days` changed too.

    One set of plans serves the rotation, the changed validity and the CA expiry alarms: the validity only
    ever applies to a generation's first issue (`ignore_changes`), so between the phases it is the same and
    the phase diffs read what the rotation moves; against the committed stack, the overlap phase's diff shows
    what a changed validity does to the certificates already issued (`test_a_changed_client_validity...`)."""
    return plan_with("prod", {"cdn": {"origin_lock": {
        "trusted_cas": trusted_cas, "client_ca": client_ca, "client_validity_days": CLIENT_VALIDITY_DAYS}}})


def test_rotation_overlaps_then_switches_then_retires() -> None:
    """The three phases also change `client_validity_days` (`rotation`): their diffs with one another hold no
    change of it, and step 1 (from the committed stack) holds none either, as `ignore_changes` keeps g1's
    certificate (which the changed-validity test checks on the same diff)."""
    before = stack_plan("prod")
    overlap = rotation(["g1", "g2"], "g1")
    switched = rotation(["g1", "g2"], "g2")
    retired = rotation(["g2"], "g2")

    # 1. the bundle holds both CAs; g2's client certificate is uploaded but Cloudflare still presents g1's
    assert len(bundle_pems(before)) == 1 and len(bundle_pems(overlap)) == 2
    assert ca_of(overlap, one(overlap, SIGNED, "origin-lock-client-g2"), "caCertPem") == "origin-lock-ca-g2"
    assert set(uploads(overlap)) == {"origin-lock-cloudflare-g1", "origin-lock-cloudflare-g2"}
    assert presented_ids(overlap) == {uploads(overlap)["origin-lock-cloudflare-g1"]}
    # 2. the associations switch to the g2 upload made a deploy earlier; the g1 upload stays (Cloudflare
    #    activates uploads asynchronously: nothing is uploaded or deleted in the switch)
    assert presented_ids(switched) == {uploads(switched)["origin-lock-cloudflare-g2"]}
    assert set(uploads(switched)) == set(uploads(overlap)) and len(bundle_pems(switched)) == 2
    # 3. the old CA, its client certificate and its upload leave together, once nothing presents it
    assert len(bundle_pems(retired)) == 1 and [r.name for r in retired.of_type(CA)] == ["origin-lock-ca-g2"]
    assert set(uploads(retired)) == {"origin-lock-cloudflare-g2"}

    for base, head, bundle_changes in ((before, overlap, True), (overlap, switched, False), (switched, retired, True)):
        diff = diff_plans("prod", base.as_json(), head.as_json())
        stores = [c for c in diff.changes if c.type == TRUST_STORE]
        assert len(stores) == bundle_changes  # step 2 leaves the bundle alone
        assert all(not c.replaced and not c.dangerous for c in stores)  # ModifyTrustStore, in place
        assert all(c.type != LISTENER for c in diff.changes)  # the listener never stops verifying
    step1 = diff_plans("prod", before.as_json(), overlap.as_json())
    assert {c.name for c in step1.of_kind("add") if c.type == HOST_CERT} == {"origin-lock-cloudflare-g2"}
    assert not step1.of_kind("remove")
    step2 = diff_plans("prod", overlap.as_json(), switched.as_json())
    assert not step2.of_kind("add") and not step2.of_kind("remove")
    # the associations, and the client alarm's dimension (and the dashboard graphing it)
    assert {c.type for c in step2.changes} <= {AOP, ALARM, "aws:cloudwatch/dashboard:Dashboard"}
    step3 = diff_plans("prod", switched.as_json(), retired.as_json())
    assert {c.name for c in step3.of_kind("remove") if c.type == HOST_CERT} == {"origin-lock-cloudflare-g1"}
    assert not step3.of_kind("add")


def test_a_changed_client_validity_never_reissues_under_the_same_ca() -> None:
    """The head is the rotation's overlap phase (`rotation`: the validity changed, and g2 added beside g1).
    A diff record is per resource, so g2's additions hide no change of g1's: the committed certificates, their
    uploads and ACM copies must not change at all, and the new generation is issued with the new validity.
    (Before, this diffed prod with only the validity changed and read g2 from a third, prefix plan.)"""
    base, head = stack_plan("prod"), rotation(["g1", "g2"], "g1")
    assert settings_for(with_changes("prod")).cdn.origin_lock.client_validity_days != CLIENT_VALIDITY_DAYS
    client = one(head, SIGNED, "origin-lock-client-g1")
    assert client.ignore_changes == ["validityPeriodHours"]
    assert client.inputs["validityPeriodHours"] == CLIENT_VALIDITY_DAYS * 24  # the setting reached g1's inputs
    diff = diff_plans("prod", base.as_json(), head.as_json())
    certificates = [c for c in diff.changes if c.type in (SIGNED, HOST_CERT, ACM)]
    assert certificates  # g2's generation is added
    for change in certificates:  # a real up changes none of g1's: only g2's new ones are added
        assert change.kind == "add" and "-g2" in change.name, (change.kind, change.name)
    assert one(head, SIGNED, "origin-lock-client-g2").inputs["validityPeriodHours"] == CLIENT_VALIDITY_DAYS * 24


def test_a_certificate_reissued_under_its_unchanged_ca_is_a_danger() -> None:
    """A changed constant in components/origin_pki.py (CLIENT_USES, RSA_BITS...) re-issues a certificate while its
    CA stays: the Cloudflare upload is replaced and the associations move to a pending one in the same deploy."""
    base = stack_plan("prod").as_json()
    head = copy.deepcopy(base)
    for resource in head["resources"]:
        if resource["type"] == SIGNED:
            resource["inputs"]["allowedUses"] = [*resource["inputs"]["allowedUses"], "code_signing"]
    diff = diff_plans("prod", base, head)
    certs = [c for c in diff.changes if c.type == SIGNED]
    assert {c.name for c in certs} == {"origin-lock-client-g1", "origin-lock-ca-g1-monitor"}
    assert all(c.replaced and "re-issue under the same CA: rotate to a new generation instead" in c.danger_reason()
               for c in certs)
    upload = next(c for c in diff.changes if c.type == HOST_CERT)
    assert upload.replaced and upload.dangerous  # the upload itself is traffic (ops/diff/danger.py TRAFFIC)


def test_a_new_ca_reissuing_its_certificates_is_not_the_same_ca_danger() -> None:
    base = stack_plan("prod").as_json()
    head = copy.deepcopy(base)
    for resource in head["resources"]:
        if resource["type"] == CA:
            resource["inputs"]["validityPeriodHours"] += 1  # replace-forcing: the CA and what it signed are new
    certs = [c for c in diff_plans("prod", base, head).changes if c.type == SIGNED]
    assert certs and all(c.replaced and "same CA" not in c.danger_reason() for c in certs)


def test_every_trusted_ca_has_an_expiry_alarm() -> None:
    plan = rotation(["g1", "g2"], "g1")  # the CAs' monitors and alarms do not read the client validity
    for label in ("g1", "g2"):
        monitor = one(plan, SIGNED, f"origin-lock-ca-{label}-monitor")
        assert ca_of(plan, monitor, "caCertPem") == f"origin-lock-ca-{label}"  # replaced with its CA
        assert "client_auth" not in monitor.inputs["allowedUses"]  # no origin-pull credential
        ca = one(plan, CA, f"origin-lock-ca-{label}")
        assert ca.inputs["validityPeriodHours"] - 1 == monitor.inputs["validityPeriodHours"]  # ends with the CA
        acm = one(plan, ACM, f"origin-lock-ca-{label}-expiry")
        assert acm.property_dependencies["certificateBody"] == [monitor.urn]
        alarm = one(plan, ALARM, f"alarms-edge-origin-ca-{label}-expiring").inputs
        assert (alarm["metricName"], alarm["dimensions"], alarm["threshold"]) == (
            "DaysToExpiry", {"CertificateArn": acm.outputs["arn"]}, 45)
        assert alarm["alarmActions"][0].endswith("-ticket")
        assert "Act on the first firing" in alarm["alarmDescription"]  # a deploy in the CA's last hour clears it


def test_early_renewal_hours_is_no_replacement() -> None:
    ca = one(stack_plan("prod"), CA, "origin-lock-ca-g1")
    after = {**ca.inputs, "earlyRenewalHours": 24}
    assert direct_replacements(CA, ca.inputs, after, ["earlyRenewalHours"]) == []
    assert direct_replacements(CA, ca.inputs, {**ca.inputs, "validityPeriodHours": 1}, ["validityPeriodHours"]) == [
        "validityPeriodHours"]


# --- ops diff: the listener change is a traffic danger ------------------------------------------------------
def listener_change(base: Plan, head: Plan) -> Any:
    diff = diff_plans("dev", base.as_json(), head.as_json())
    return next(c for c in diff.changes if c.type == LISTENER and c.name == "api-https")


def test_switching_verify_on_or_off_is_a_traffic_danger() -> None:
    # the listener's change is read from its own records, which a prefix plan holds as the whole plan does;
    # dev verifies by default, so its committed config is the verifying one
    assert settings_for(with_changes("dev")).cdn.origin_lock.mode == "verify"
    present, verify = plan_with("dev", DEV_PRESENT, upto="base"), plan_with("dev", {}, upto="base")
    on = listener_change(present, verify)
    assert on.dangerous and "client-certificate verification switched" in on.danger_reason()
    off = listener_change(verify, present)
    assert off.dangerous and "any Cloudflare account can reach the origin" in off.danger_reason()


def test_only_the_verify_switch_is_flagged() -> None:
    lost, _ = SAFETY[LISTENER]["mutualAuthentication"]
    verify = {"mode": "verify", "trustStoreArn": "arn:a"}
    assert not lost(verify, {**verify, "trustStoreArn": "arn:b"})
    assert not lost(None, {"mode": "off"}) and lost(None, verify) and lost(verify, {"mode": "off"})
    # a block left out keeps the listener's mode in a real up (Optional+Computed): nothing switches
    assert not lost(verify, None) and not lost({"mode": "off"}, None)


# --- policies -----------------------------------------------------------------------------------------------
def _listener(stack: str, mutual: dict[str, Any] | None, internal: bool = False) -> list[PlannedResource]:
    lb = res("aws:lb/loadBalancer:LoadBalancer", "alb", {"internal": internal}, stack=stack)
    inputs: dict[str, Any] = {"protocol": "HTTPS", "port": 443.0}
    if mutual is not None:
        inputs["mutualAuthentication"] = mutual
    return [lb, res(LISTENER, "https", inputs, refs={"loadBalancerArn": [lb]}, stack=stack)]


VERIFY = {"mode": "verify", "trustStoreArn": "arn:aws:elasticloadbalancing:us-east-1:1:truststore/x"}
POLICY_VERIFY = "prod-public-listener-verifies-clients"


@pytest.mark.parametrize("mutual", [None, {"mode": "off"}, {"mode": "passthrough"}, {"mode": "verify"}])
def test_policy_refuses_a_prod_public_listener_without_verify(mutual: dict[str, Any] | None) -> None:
    found = messages(check(*_listener("prod", mutual), stack="prod", policy=POLICY_VERIFY), POLICY_VERIFY)
    assert len(found) == 1 and "must verify client certificates" in found[0]


def test_policy_accepts_verify_and_leaves_dev_and_internal_alone() -> None:
    assert not check(*_listener("prod", VERIFY), stack="prod", policy=POLICY_VERIFY).findings
    assert not check(*_listener("dev", None), stack="dev", policy=POLICY_VERIFY).findings
    assert not check(*_listener("prod", None, internal=True), stack="prod", policy=POLICY_VERIFY).findings


def _store(sse: dict[str, Any]) -> list[PlannedResource]:
    bucket = res("aws:s3/bucket:Bucket", "b")
    obj = res(BUNDLE, "bundle", {"key": "ca.pem", **sse}, refs={"bucket": [bucket]})
    store = res(TRUST_STORE, "ts", {"caCertificatesBundleS3Key": "ca.pem"},
                refs={"caCertificatesBundleS3Bucket": [bucket], "caCertificatesBundleS3Key": [obj]})
    return [bucket, obj, store]


POLICY_KMS = "trust-store-bundle-kms-encrypted"


@pytest.mark.parametrize("sse", [{}, {"serverSideEncryption": "AES256"}, {"serverSideEncryption": "aws:kms"}])
def test_policy_refuses_a_bundle_not_encrypted_with_a_cmk(sse: dict[str, Any]) -> None:
    found = messages(check(*_store(sse), policy=POLICY_KMS), POLICY_KMS)
    assert len(found) == 1 and "not encrypted with a customer-managed KMS key" in found[0]


def test_policy_accepts_a_cmk_bundle_and_refuses_an_undeclared_one() -> None:
    assert not check(*_store({"serverSideEncryption": "aws:kms", "kmsKeyId": "arn:key"}), policy=POLICY_KMS).findings
    orphan = res(TRUST_STORE, "ts", {"caCertificatesBundleS3Bucket": "elsewhere", "caCertificatesBundleS3Key": "x"})
    found = messages(check(orphan, policy=POLICY_KMS), POLICY_KMS)
    assert len(found) == 1 and "not declared in the stack" in found[0]


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_both_stacks_pass_the_origin_lock_policies(stack: str) -> None:
    plan = stack_plan(stack)
    for name in (POLICY_VERIFY, POLICY_KMS):
        assert not messages(check(*plan.resources, stack=stack, policy=name), name), name
