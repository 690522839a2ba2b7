"""Fake cloud answers for the offline plan: shaped like AWS's and Cloudflare's.

IDs, ARNs and endpoints are derived from the resource's type and name, so two
plans of the same program are identical (which is what makes `ops diff` work).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
"""The account every mocked ARN lives in."""

# Cloudflare's published ranges (cloudflare.com/ips), as the IP-ranges data source returns them.
CLOUDFLARE_IPV4 = [
    "173.245.48.0/20", "103.21.244.0/22", "103.22.200.0/22", "103.31.4.0/22", "141.101.64.0/18",
    "108.162.192.0/18", "190.93.240.0/20", "188.114.96.0/20", "197.234.240.0/22", "198.41.128.0/17",
    "162.158.0.0/15", "104.16.0.0/13", "104.24.0.0/14", "172.64.0.0/13", "131.0.72.0/22",
]
CLOUDFLARE_IPV6 = [
    "2400:cb00::/32", "2606:4700::/32", "2803:f800::/32", "2405:b500::/32", "2405:8100::/32",
    "2a06:98c0::/29", "2c0f:f248::/32",
]

_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-", "aws:ec2/subnet:Subnet": "subnet-", "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-", "aws:ec2/eip:Eip": "eipalloc-", "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-", "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr-",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr-",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc-",
    "aws:ec2/managedPrefixList:ManagedPrefixList": "pl-",
    "aws:ec2/instance:Instance": "i-", "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
}


def baseline_outputs(region: str) -> dict[str, Any]:
    """What a baseline stack (baseline/) exports, shaped as its offline plan resolves them: the answer of a
    `StackReference` to it. tests/test_baseline.py checks the keys against the baseline's real plan."""
    return {
        "image_repository_url": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/floyo-backend",
        "image_repository_arn": f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/floyo-backend",
        "anomaly_monitor_arn": f"arn:aws:ce::{ACCOUNT_ID}:anomalymonitor/{_hex('monitor', 8)}-0000-4000-8000-{_hex('m', 12)}",
        "backup_vault_arn": f"arn:aws:backup:{region}:{ACCOUNT_ID}:backup-vault:floyo-account",
        "backup_copy_vault_arn": f"arn:aws:backup:us-west-2:{ACCOUNT_ID}:backup-vault:floyo-account-copy",
        "trail_arn": f"arn:aws:cloudtrail:{region}:{ACCOUNT_ID}:trail/floyo-account-trail",
        "trail_bucket": f"floyo-account-trail-{_hex('trail', 12)}",
        "guardduty_detector_id": _hex("detector", 32),
    }


def _hex(seed: str, length: int) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def _tls_outputs(token: str, name: str) -> dict[str, str]:
    """What pulumi-tls computes, shaped like it: PEM blocks (opaque bodies; nothing here is a real key)."""
    def pem(kind: str) -> str:
        return f"-----BEGIN {kind}-----\nMOCK{_hex(token + name, 40)}\n-----END {kind}-----\n"
    kind = token.split(":")[-1]
    if kind == "PrivateKey":
        return {"privateKeyPem": pem("PRIVATE KEY"), "publicKeyPem": pem("PUBLIC KEY")}
    if kind == "CertRequest":
        return {"certRequestPem": pem("CERTIFICATE REQUEST")}
    return {"certPem": pem("CERTIFICATE")}


def _service(token: str) -> str:
    """`aws:ecs/cluster:Cluster` -> `ecs`."""
    module = token.split(":")[1].split("/")[0]
    return {"alb": "elasticloadbalancing", "lb": "elasticloadbalancing", "cloudwatch": "cloudwatch",
            "appautoscaling": "application-autoscaling", "vpc": "ec2", "rds": "rds"}.get(module, module)


class FloyoMocks(pulumi.runtime.Mocks):
    """Answers resource registrations and data-source calls like the clouds would."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region

    # --- resources -------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        token, name = args.typ, args.name
        state: dict[str, Any] = dict(args.inputs)
        if token == "random:index/randomPassword:RandomPassword":
            return self._random_password(name, state)
        if token == "random:index/randomId:RandomId":
            return self._random_id(name, state)
        if token == "pulumi:pulumi:StackReference":  # read by name (its id): the baseline's outputs
            return name, {"name": name, "outputs": baseline_outputs(self.region), "secretOutputNames": []}
        if token.startswith("tls:"):  # PEM-shaped outputs (the bundle and Cloudflare's upload read them)
            return f"{name}-id", {**state, **_tls_outputs(token, name)}
        if not token.startswith("aws:") and not token.startswith("cloudflare:"):
            return f"{name}-id" if args.custom else None, state
        if token.startswith("cloudflare:"):
            return _hex(token + name, 32), state
        rid = _ID_PREFIX.get(token, "") + _hex(token + name, 17)
        state.setdefault("name", f"{name}-{_hex(name, 7)}")  # what Pulumi's auto-naming would pick
        physical = state["name"]
        region = state.get("region", self.region)  # a resource may name another region than the provider's
        state.setdefault("arn", f"arn:aws:{_service(token)}:{region}:{ACCOUNT_ID}:{token.split(':')[-1].lower()}/{physical}")
        extra = getattr(self, "_shape_" + token.split(":")[-1].lower(), None)
        if extra is not None:
            rid = extra(name, state, rid) or rid
        return rid, state

    def _shape_bucketobjectv2(self, name: str, state: dict[str, Any], rid: str) -> str:
        """S3 gives every write of a versioned object a new version id (here: from its content)."""
        state["versionId"] = _hex(str(state.get("content")), 32)
        return rid

    def _shape_subnet(self, name: str, state: dict[str, Any], rid: str) -> str:
        """AWS fills in the AZ name from the AZ ID (account-specific; here `use1-azN` -> `<region>` + Nth letter)."""
        az_id = state.get("availabilityZoneId")
        if az_id and "availabilityZone" not in state:
            state["availabilityZone"] = self.region + "abcdefghij"[int(az_id.rsplit("az", 1)[1]) - 1]
        return rid

    def _shape_repository(self, name: str, state: dict[str, Any], rid: str) -> str:
        repo = state.get("name", name)
        state["repositoryUrl"] = f"{ACCOUNT_ID}.dkr.ecr.{self.region}.amazonaws.com/{repo}"
        state["arn"] = f"arn:aws:ecr:{self.region}:{ACCOUNT_ID}:repository/{repo}"
        return repo

    def _shape_cluster(self, name: str, state: dict[str, Any], rid: str) -> str:
        if "engine" in state:  # rds cluster
            cluster = state.get("clusterIdentifier") or state["name"]
            state["clusterIdentifier"] = cluster
            state["arn"] = f"arn:aws:rds:{self.region}:{ACCOUNT_ID}:cluster:{cluster}"
            host = f"{cluster}.cluster-{_hex(name, 12)}.{self.region}.rds.amazonaws.com"
            state["endpoint"] = host
            state["readerEndpoint"] = host.replace(".cluster-", ".cluster-ro-")
            state["port"] = state.get("port", 5432)
            state["clusterResourceId"] = "cluster-" + _hex(name, 26).upper()
            state["masterUserSecrets"] = [{
                "secretArn": f"arn:aws:secretsmanager:{self.region}:{ACCOUNT_ID}:secret:rds!cluster-{_hex(name, 8)}-AbCdEf",
                "kmsKeyId": state.get("masterUserSecretKmsKeyId", ""), "secretStatus": "active"}]
        else:
            cluster = state.get("name") or name
            state["arn"] = f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:cluster/{cluster}"
        return cluster

    def _shape_clusterinstance(self, name: str, state: dict[str, Any], rid: str) -> str:
        instance = state.get("identifier") or state["name"]
        state["identifier"] = instance
        state["arn"] = f"arn:aws:rds:{self.region}:{ACCOUNT_ID}:db:{instance}"
        state["endpoint"] = f"{instance}.{_hex(name, 12)}.{self.region}.rds.amazonaws.com"
        state["port"] = 5432
        state["writer"] = state.get("promotionTier", 0) == 0
        state["dbiResourceId"] = "db-" + _hex(name, 26).upper()
        return instance

    def _shape_proxy(self, name: str, state: dict[str, Any], rid: str) -> str:
        proxy = state["name"]
        state["arn"] = f"arn:aws:rds:{self.region}:{ACCOUNT_ID}:db-proxy:prx-{_hex(name, 17)}"
        state["endpoint"] = f"{proxy}.proxy-{_hex(proxy, 12)}.{self.region}.rds.amazonaws.com"
        return proxy

    def _shape_proxyendpoint(self, name: str, state: dict[str, Any], rid: str) -> str:
        endpoint = state.get("dbProxyEndpointName") or state["name"]
        proxy = state.get("dbProxyName", "proxy")
        state["arn"] = f"arn:aws:rds:{self.region}:{ACCOUNT_ID}:db-proxy-endpoint:prx-endpoint-{_hex(name, 17)}"
        state["endpoint"] = f"{endpoint}.endpoint.proxy-{_hex(proxy, 12)}.{self.region}.rds.amazonaws.com"
        state["isDefault"] = False
        return f"{proxy}/{endpoint}"

    def _shape_proxydefaulttargetgroup(self, name: str, state: dict[str, Any], rid: str) -> str:
        state["name"] = "default"  # RDS Proxy's one target group is always called "default"
        state["arn"] = f"arn:aws:rds:{self.region}:{ACCOUNT_ID}:target-group:prx-tg-{_hex(name, 17)}"
        return str(state.get("dbProxyName", name))

    def _shape_replicationgroup(self, name: str, state: dict[str, Any], rid: str) -> str:
        group = state.get("replicationGroupId") or state["name"]
        state["replicationGroupId"] = group
        state["arn"] = f"arn:aws:elasticache:{self.region}:{ACCOUNT_ID}:replicationgroup:{group}"
        suffix = f"{_hex(name, 6)}.{self.region.replace('us-east-', 'use')}.cache.amazonaws.com"
        state["primaryEndpointAddress"] = f"master.{group}.{suffix}"
        state["readerEndpointAddress"] = f"replica.{group}.{suffix}"
        state["memberClusters"] = [f"{group}-{i + 1:03d}" for i in range(int(state.get("numCacheClusters", 1)))]
        return group

    def _shape_user(self, name: str, state: dict[str, Any], rid: str) -> str | None:
        """ElastiCache users are `arn:...:user:<user id>`, their id the user id (IAM users have the same `user:`
        resource type, `arn:...:iam::<account>:user/<name>`, and keep the generic shape)."""
        if "userId" not in state:
            return None
        state["arn"] = f"arn:aws:elasticache:{self.region}:{ACCOUNT_ID}:user:{state['userId']}"
        return str(state["userId"])

    def _shape_usergroup(self, name: str, state: dict[str, Any], rid: str) -> str | None:
        if "userGroupId" not in state:
            return None
        state["arn"] = f"arn:aws:elasticache:{self.region}:{ACCOUNT_ID}:usergroup:{state['userGroupId']}"
        return str(state["userGroupId"])

    def _random_password(self, name: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A deterministic stand-in; the SDK marks `result` secret (additional secret output)."""
        length = int(state.get("length", 32))
        state["result"] = (_hex("password" + name, 64) * 4)[:length]
        return "none", state

    def _random_id(self, name: str, state: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A deterministic stand-in for `random.RandomId`: `hex` holds 2 digits per byte."""
        value = _hex("id" + name, 2 * int(state.get("byteLength", 4)))
        state["hex"] = value
        state["dec"] = str(int(value, 16))
        return value, state

    def _shape_loadbalancer(self, name: str, state: dict[str, Any], rid: str) -> str:
        lb = state.get("name", name)
        suffix = f"app/{lb}/{_hex(name, 16)}"
        state["arn"] = f"arn:aws:elasticloadbalancing:{self.region}:{ACCOUNT_ID}:loadbalancer/{suffix}"
        state["arnSuffix"] = suffix
        state["dnsName"] = f"{lb}-{int(_hex(name, 8), 16) % 10**9}.{self.region}.elb.amazonaws.com"
        state["zoneId"] = "Z35SXDOTRQ7X7K"
        return state["arn"]

    def _shape_targetgroup(self, name: str, state: dict[str, Any], rid: str) -> str:
        tg = state.get("name", name)
        suffix = f"targetgroup/{tg}/{_hex(name, 16)}"
        state["arn"] = f"arn:aws:elasticloadbalancing:{self.region}:{ACCOUNT_ID}:{suffix}"
        state["arnSuffix"] = suffix
        return state["arn"]

    def _shape_listener(self, name: str, state: dict[str, Any], rid: str) -> str:
        lb = name.split("-")[0]
        state["arn"] = (f"arn:aws:elasticloadbalancing:{self.region}:{ACCOUNT_ID}:listener/app/{lb}/"
                        f"{_hex(lb, 16)}/{_hex(name, 16)}")
        return state["arn"]  # a listener's id is its ARN

    def _shape_listenerrule(self, name: str, state: dict[str, Any], rid: str) -> str:
        state["arn"] = (f"arn:aws:elasticloadbalancing:{self.region}:{ACCOUNT_ID}:listener-rule/app/"
                        f"{_hex(name + 'lb', 16)}/{_hex(name + 'l', 16)}/{_hex(name, 16)}")
        return state["arn"]  # a listener rule's id is its ARN

    def _shape_canary(self, name: str, state: dict[str, Any], rid: str) -> str:
        canary = state.get("name", name)
        state["arn"] = f"arn:aws:synthetics:{self.region}:{ACCOUNT_ID}:canary:{canary}"
        state["sourceLocationArn"] = f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:layer:cwsyn-{canary}:1"
        return canary  # a canary's id is its name

    def _shape_key(self, name: str, state: dict[str, Any], rid: str) -> str:
        key_id = f"{_hex(name, 8)}-{_hex(name + '1', 4)}-{_hex(name + '2', 4)}-{_hex(name + '3', 4)}-{_hex(name + '4', 12)}"
        state["keyId"] = key_id
        state["arn"] = f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:key/{key_id}"
        return key_id

    def _shape_secret(self, name: str, state: dict[str, Any], rid: str) -> str:
        if "namePrefix" in state:  # the provider appends a 26-digit unique suffix to the prefix
            state["name"] = state["namePrefix"] + str(int(_hex(name, 20), 16))[:26].rjust(26, "0")
        secret = state.get("name", name)
        state["arn"] = f"arn:aws:secretsmanager:{self.region}:{ACCOUNT_ID}:secret:{secret}-{_hex(name, 6)}"
        return state["arn"]

    def _shape_service(self, name: str, state: dict[str, Any], rid: str) -> str:
        service = state.get("name", name)
        state["arn"] = f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:service/{state.get('cluster', 'cluster')}/{service}"
        return state["arn"]

    def _shape_taskdefinition(self, name: str, state: dict[str, Any], rid: str) -> str:
        family = state.get("family", name)
        state["arn"] = f"arn:aws:ecs:{self.region}:{ACCOUNT_ID}:task-definition/{family}:1"
        state["revision"] = 1
        return family

    def _shape_loggroup(self, name: str, state: dict[str, Any], rid: str) -> str:
        group = state.get("name", name)
        state["arn"] = f"arn:aws:logs:{self.region}:{ACCOUNT_ID}:log-group:{group}"
        return group

    def _shape_bucket(self, name: str, state: dict[str, Any], rid: str) -> str:
        bucket = state.get("bucket") or f"{state.get('bucketPrefix', name)}{_hex(name, 12)}"
        state["bucket"] = bucket
        state["arn"] = f"arn:aws:s3:::{bucket}"
        state["bucketDomainName"] = f"{bucket}.s3.amazonaws.com"
        return bucket

    def _shape_role(self, name: str, state: dict[str, Any], rid: str) -> str:
        role = state.get("name") or f"{name}-{_hex(name, 7)}"
        state["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:role/{role}"
        state["name"] = role
        return role

    def _shape_certificate(self, name: str, state: dict[str, Any], rid: str) -> str:
        domain = state.get("domainName", "example.com")
        state["arn"] = f"arn:aws:acm:{self.region}:{ACCOUNT_ID}:certificate/{_hex(name, 8)}-{_hex(name, 4)}"
        state["domainValidationOptions"] = [{
            "domainName": domain, "resourceRecordName": f"_{_hex(name, 32)}.{domain}.",
            "resourceRecordType": "CNAME", "resourceRecordValue": f"_{_hex(name + 'v', 32)}.acm-validations.aws.",
        }]
        return state["arn"]

    def _shape_topic(self, name: str, state: dict[str, Any], rid: str) -> str:
        topic = state.get("name", name)
        state["arn"] = f"arn:aws:sns:{state.get('region', self.region)}:{ACCOUNT_ID}:{topic}"
        return state["arn"]

    def _shape_metricalarm(self, name: str, state: dict[str, Any], rid: str) -> str:
        alarm = state.get("name", name)
        state["arn"] = f"arn:aws:cloudwatch:{state.get('region', self.region)}:{ACCOUNT_ID}:alarm:{alarm}"
        return alarm

    def _shape_compositealarm(self, name: str, state: dict[str, Any], rid: str) -> str:
        alarm = state.get("alarmName", name)
        state["arn"] = f"arn:aws:cloudwatch:{state.get('region', self.region)}:{ACCOUNT_ID}:alarm:{alarm}"
        return alarm

    def _shape_dashboard(self, name: str, state: dict[str, Any], rid: str) -> str:
        dashboard = state.get("dashboardName", name)
        state["dashboardArn"] = f"arn:aws:cloudwatch::{ACCOUNT_ID}:dashboard/{dashboard}"
        return dashboard

    def _shape_launchtemplate(self, name: str, state: dict[str, Any], rid: str) -> str:
        state["arn"] = f"arn:aws:ec2:{self.region}:{ACCOUNT_ID}:launch-template/{rid}"
        state["latestVersion"] = 1
        state["defaultVersion"] = 1
        return rid

    def _shape_instance(self, name: str, state: dict[str, Any], rid: str) -> str:
        state["arn"] = f"arn:aws:ec2:{self.region}:{ACCOUNT_ID}:instance/{rid}"
        state["ami"] = "ami-" + _hex("ami" + name, 17)  # what EC2 resolved the launch template's parameter to
        state["privateIp"] = "10.40.16." + str(int(_hex(name, 2), 16) % 250 + 4)
        state["publicIp"] = ""  # private subnet, associatePublicIpAddress false
        state["instanceState"] = "running"
        return rid

    def _shape_instanceprofile(self, name: str, state: dict[str, Any], rid: str) -> str:
        profile = state.get("name") or f"{name}-{_hex(name, 7)}"
        state["name"] = profile
        state["arn"] = f"arn:aws:iam::{ACCOUNT_ID}:instance-profile/{profile}"
        return profile

    def _shape_healthcheck(self, name: str, state: dict[str, Any], rid: str) -> str:
        check = f"{_hex(name, 8)}-{_hex(name + '1', 4)}-{_hex(name + '2', 4)}-{_hex(name + '3', 4)}-{_hex(name + '4', 12)}"
        state["arn"] = f"arn:aws:route53:::healthcheck/{check}"
        return check

    # --- data sources ----------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        token = args.token
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            letters = "abcdef"
            return {"names": [f"{self.region}{c}" for c in letters],
                    "zoneIds": [f"use1-az{i + 1}" for i in range(len(letters))], "id": self.region}, []
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/ci", "id": ACCOUNT_ID,
                    "userId": "AIDAEXAMPLE"}, []
        if token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region,
                    "endpoint": f"ec2.{self.region}.amazonaws.com"}, []
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if token == "aws:elb/getServiceAccount:getServiceAccount":
            return {"arn": "arn:aws:iam::127311923021:root", "id": "127311923021"}, []
        if token == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            secret = json.dumps({"username": "floyo_admin", "password": "offline-plan-placeholder"})
            return {"arn": args.args.get("secretId", ""), "secretString": secret, "id": "v1",
                    "versionId": "v1"}, []
        if token == "cloudflare:index/getZone:getZone":
            zone_name = (args.args.get("filter") or {}).get("name", "example.com")
            return {"id": _hex("zone" + zone_name, 32), "zoneId": _hex("zone" + zone_name, 32),
                    "name": zone_name, "status": "active"}, []
        if token == "cloudflare:index/getIpRanges:getIpRanges":
            return {"ipv4Cidrs": CLOUDFLARE_IPV4, "ipv6Cidrs": CLOUDFLARE_IPV6, "id": "cloudflare-ips"}, []
        return {}, []
