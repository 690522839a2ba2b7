"""The VPC: public, private (app) and isolated (data) subnets, NAT, flow logs, endpoints."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, assume_role_policy, policy_json
from stacks.network import NetworkSettings

INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm", "kms", "sts", "ssmmessages", "ec2messages")
"""Interface endpoints in the private subnets: what Fargate tasks call on every start, and the three
Session Manager needs (ssm, ssmmessages, ec2messages) so the database access host reaches SSM without NAT."""


@dataclass(frozen=True)
class NetworkArgs:
    """Arguments of `Network`."""

    settings: NetworkSettings
    """The stack's `network` settings (CIDR, AZ count, NAT mode, flow log retention)."""
    context: AwsContext
    """Account/region/partition."""
    logs_key_arn: pulumi.Input[str]
    """KMS key that encrypts the flow log group."""


class Network(pulumi.ComponentResource):
    """A VPC over the settings' pinned AZs (`availability_zone_ids`) with three subnet tiers.

    * public: the load balancer and the NAT gateways; route to the internet gateway;
    * private: the ECS tasks; egress through NAT (one per AZ or one shared);
    * isolated: the databases and caches; no route out of the VPC at all.

    The default security group is emptied, flow logs go to an encrypted log group,
    and VPC endpoints keep image pulls, logs and secrets off the NAT.
    Cost: each NAT gateway and each interface endpoint per AZ is billed hourly.
    """

    vpc: aws.ec2.Vpc
    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    private_subnet_ids: list[pulumi.Output[str]]
    isolated_subnet_ids: list[pulumi.Output[str]]
    isolated_subnet_azs: list[pulumi.Output[str]]
    """AZ name of each isolated subnet, in order (what an RDS instance's `availability_zone` takes)."""
    endpoint_security_group_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:network:Network", name, None, opts)
        s = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc", cidr_block=s.cidr, enable_dns_support=True, enable_dns_hostnames=True,
            tags={"Name": f"{name}-vpc"}, opts=child,
        )
        self.vpc_id = self.vpc.id
        aws.ec2.DefaultSecurityGroup(  # no rules at all: nothing may use the default group
            f"{name}-default-sg", vpc_id=self.vpc.id, ingress=[], egress=[],
            tags={"Name": f"{name}-default-locked"}, opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": f"{name}-igw"}, opts=child)

        blocks = list(ipaddress.IPv4Network(s.cidr).subnets(new_prefix=ipaddress.IPv4Network(s.cidr).prefixlen + 4))
        tiers = {"public": 0, "private": 4, "isolated": 8}
        subnets: dict[str, list[aws.ec2.Subnet]] = {tier: [] for tier in tiers}
        for tier, offset in tiers.items():
            for i in range(s.az_count):
                subnets[tier].append(aws.ec2.Subnet(
                    f"{name}-{tier}-{i}",
                    vpc_id=self.vpc.id,
                    cidr_block=str(blocks[offset + i]),
                    # Pinned by AZ ID from settings, never looked up per run: the AZ forces replacement.
                    availability_zone_id=s.availability_zone_ids[i],
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-{tier}-{i}", "floyo:tier": tier},
                    opts=child,
                ))
        self.public_subnet_ids = [sn.id for sn in subnets["public"]]
        self.private_subnet_ids = [sn.id for sn in subnets["private"]]
        self.isolated_subnet_ids = [sn.id for sn in subnets["isolated"]]
        self.isolated_subnet_azs = [sn.availability_zone for sn in subnets["isolated"]]

        public_rt = aws.ec2.RouteTable(f"{name}-public-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-public"}, opts=child)
        aws.ec2.Route(f"{name}-public-default", route_table_id=public_rt.id, destination_cidr_block="0.0.0.0/0",
                      gateway_id=igw.id, opts=child)
        for i, sn in enumerate(subnets["public"]):
            aws.ec2.RouteTableAssociation(f"{name}-public-{i}", subnet_id=sn.id, route_table_id=public_rt.id, opts=child)

        nat_count = s.az_count if s.nat == "per_az" else 1
        nats = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-{i}", domain="vpc", tags={"Name": f"{name}-nat-{i}"}, opts=child)
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{i}", allocation_id=eip.id, subnet_id=subnets["public"][i].id,
                connectivity_type="public", tags={"Name": f"{name}-nat-{i}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            ))
        private_rts = []
        for i, sn in enumerate(subnets["private"]):
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i}", vpc_id=self.vpc.id, tags={"Name": f"{name}-private-{i}"}, opts=child
            )
            aws.ec2.Route(f"{name}-private-default-{i}", route_table_id=rt.id, destination_cidr_block="0.0.0.0/0",
                          nat_gateway_id=nats[i % nat_count].id, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-private-{i}", subnet_id=sn.id, route_table_id=rt.id, opts=child)
            private_rts.append(rt)
        isolated_rt = aws.ec2.RouteTable(f"{name}-isolated-rt", vpc_id=self.vpc.id, tags={"Name": f"{name}-isolated"}, opts=child)
        for i, sn in enumerate(subnets["isolated"]):
            aws.ec2.RouteTableAssociation(f"{name}-isolated-{i}", subnet_id=sn.id, route_table_id=isolated_rt.id, opts=child)

        self._flow_logs(name, args)
        self.endpoint_security_group_id = None
        if s.vpc_endpoints:
            self._endpoints(name, args, [rt.id for rt in private_rts] + [isolated_rt.id])
        self.register_outputs({
            "vpc_id": self.vpc_id,
            "public_subnet_ids": self.public_subnet_ids,
            "private_subnet_ids": self.private_subnet_ids,
            "isolated_subnet_ids": self.isolated_subnet_ids,
        })

    def _flow_logs(self, name: str, args: NetworkArgs) -> None:
        child = pulumi.ResourceOptions(parent=self)
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/floyo/{pulumi.get_stack()}/vpc-flow-logs",
            retention_in_days=args.settings.flow_log_retention_days,
            kms_key_id=args.logs_key_arn,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs", assume_role_policy=assume_role_policy("vpc-flow-logs.amazonaws.com", args.context),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=policy_json([{
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [group.arn, pulumi.Output.concat(group.arn, ":*")],
            }]),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            opts=child,
        )

    def _endpoints(self, name: str, args: NetworkArgs, route_table_ids: list[pulumi.Output[str]]) -> None:
        child = pulumi.ResourceOptions(parent=self)
        region = args.context.region
        aws.ec2.VpcEndpoint(
            f"{name}-s3", vpc_id=self.vpc.id, vpc_endpoint_type="Gateway",
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            route_table_ids=route_table_ids, tags={"Name": f"{name}-s3"}, opts=child,
        )
        sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints", vpc_id=self.vpc.id,
            description="VPC interface endpoints: HTTPS from inside the VPC only",
            tags={"Name": f"{name}-endpoints"}, opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https", security_group_id=sg.id, ip_protocol="tcp", from_port=443, to_port=443,
            cidr_ipv4=args.settings.cidr, description="HTTPS from the VPC", opts=child,
        )
        self.endpoint_security_group_id = sg.id
        for service in INTERFACE_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}", vpc_id=self.vpc.id, vpc_endpoint_type="Interface",
                service_name=pulumi.Output.concat("com.amazonaws.", region, ".", service),
                subnet_ids=self.private_subnet_ids, security_group_ids=[sg.id], private_dns_enabled=True,
                tags={"Name": f"{name}-{service}"}, opts=child,
            )
