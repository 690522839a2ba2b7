"""The deploy's path to the database: an SSM-managed access host in a private subnet, never public."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext, policy_json
from components.security_groups import HTTPS_PORT, POSTGRES_PORT, WORLD, peer_rules
from stacks.db_access import ROLE_TAG, DbAccessSettings

AMI_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
"""Public SSM parameter holding the latest arm64 Amazon Linux 2023 AMI (ships with the SSM Agent). The launch
template names it as `resolve:ssm:<parameter>`, so EC2 resolves it at launch: no AMI lookup at plan time, no
replacement when AWS publishes a new image (replace the host on purpose to pick one up)."""
SSM_POLICY = "AmazonSSMManagedInstanceCore"
"""AWS managed policy the SSM Agent needs to register and serve sessions (and nothing that reads data)."""


@dataclass(frozen=True)
class DbAccessArgs:
    """Arguments of `DbAccess`."""

    settings: DbAccessSettings
    """The stack's `db_access` settings (instance type; the local port is the tunnel's, not the host's)."""
    context: AwsContext
    """Account/region/partition (the managed policy's ARN)."""
    vpc_id: pulumi.Input[str]
    """The VPC of the database."""
    subnet_id: pulumi.Input[str]
    """A PRIVATE subnet for the host: no public IP, egress through endpoints or NAT only."""
    database_security_group_id: pulumi.Input[str]
    """The database's security group: gains ingress on 5432 from the host's group, and nothing else."""
    volume_key_arn: pulumi.Input[str]
    """Customer-managed KMS key encrypting the root volume. Its key policy delegates to IAM, so whoever runs
    `pulumi up` needs kms:CreateGrant/GenerateDataKey*/Decrypt/DescribeKey on it (EBS uses a grant)."""
    endpoint_security_group_id: pulumi.Input[str] | None = None
    """Security group of the VPC interface endpoints (ssm, ssmmessages, ec2messages among them). When given,
    the host's only HTTPS egress is to that group; default None: HTTPS to anywhere, through the NAT."""


class DbAccess(pulumi.ComponentResource):
    """A small Graviton EC2 instance that exists only to relay Session Manager port forwards to Aurora.

    ```
    laptop / CI runner --(AWS API, IAM: ssm:StartSession)--> SSM --(443, from inside)--> access host
        127.0.0.1:<local_port>  <========== AWS-StartPortForwardingSessionToRemoteHost ==========>
                                                          access host --5432--> Aurora writer
    ```
    * no inbound rule at all and no public IP: the SSM Agent dials out to SSM on 443, so nothing listens;
    * egress: 5432 to the database's group only (the rule names it), 443 to the endpoints' group (or NAT);
    * IMDSv2 only, root volume encrypted with the data key, instance profile with only the SSM core policy;
    * the AMI is resolved by EC2 at launch from `AMI_PARAMETER` (see there).

    Who may open a tunnel is decided by IAM (`ssm:StartSession` on this instance and the
    `AWS-StartPortForwardingSessionToRemoteHost` document), not by the network. Every session is in CloudTrail.
    Cost: one t4g.nano/micro instance (about 3-6 USD a month) plus its 8 GiB gp3 volume.
    """

    instance: aws.ec2.Instance
    instance_id: pulumi.Output[str]
    security_group: aws.ec2.SecurityGroup
    path: list[pulumi.Resource]
    """What a connection through the host needs to exist: the host and the rules it uses."""

    def __init__(self, name: str, args: DbAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:data:DbAccess", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Name": f"floyo-{pulumi.get_stack()}-{ROLE_TAG}", "floyo:role": ROLE_TAG}  # `ops tunnel` finds it by these
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg", vpc_id=args.vpc_id,
            description="Database access host: no ingress; Postgres to Aurora, HTTPS to SSM",
            tags={**tags, "floyo:tier": "access"}, opts=child,
        )
        database_in, host_out = peer_rules(
            f"{name}-to-database", args.database_security_group_id, self.security_group.id, POSTGRES_PORT,
            "access host to Aurora (SSM port forward)", child,
        )
        if args.endpoint_security_group_id is not None:
            ssm = aws.vpc.SecurityGroupEgressRule(
                f"{name}-ssm-out", security_group_id=self.security_group.id,
                referenced_security_group_id=args.endpoint_security_group_id, ip_protocol="tcp",
                from_port=HTTPS_PORT, to_port=HTTPS_PORT, description="SSM through the VPC endpoints", opts=child,
            )
        else:
            ssm = aws.vpc.SecurityGroupEgressRule(
                f"{name}-ssm-out", security_group_id=self.security_group.id, cidr_ipv4=WORLD, ip_protocol="tcp",
                from_port=HTTPS_PORT, to_port=HTTPS_PORT, description="SSM through the NAT", opts=child,
            )
        profile, attachment = self._profile(name, args)
        template = aws.ec2.LaunchTemplate(
            f"{name}-template",
            description="floyo database access host (Session Manager port forwarding only)",
            image_id=f"resolve:ssm:{AMI_PARAMETER}",
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",  # Amazon Linux 2023's root device
                ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    encrypted="true", kms_key_id=args.volume_key_arn, volume_type="gp3",
                    delete_on_termination="true",
                ),
            )],
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type="volume", tags=tags)],
            tags=tags, opts=child,
        )
        self.instance = aws.ec2.Instance(
            f"{name}-host",
            launch_template=aws.ec2.InstanceLaunchTemplateArgs(
                id=template.id, version=template.latest_version.apply(str),
            ),
            instance_type=args.settings.instance_type,
            subnet_id=args.subnet_id,
            associate_public_ip_address=False,
            vpc_security_group_ids=[self.security_group.id],
            iam_instance_profile=profile.name,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
        self.instance_id = self.instance.id
        self.path = [self.instance, database_in, host_out, ssm]
        self.register_outputs({"instance_id": self.instance_id, "security_group_id": self.security_group.id})

    def _profile(self, name: str, args: DbAccessArgs) -> tuple[aws.iam.InstanceProfile, aws.iam.RolePolicyAttachment]:
        child = pulumi.ResourceOptions(parent=self)
        # EC2 vends instance-profile credentials itself; who may attach the role is decided by iam:PassRole,
        # so the trust names only the EC2 service (no aws:SourceAccount: EC2 is not a cross-service deputy here).
        role = aws.iam.Role(
            f"{name}-role", description="floyo database access host: SSM Agent only",
            assume_role_policy=policy_json([{
                "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole",
            }]),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-ssm", role=role.name,
            policy_arn=pulumi.Output.concat("arn:", args.context.partition, ":iam::aws:policy/", SSM_POLICY),
            opts=child,
        )
        profile = aws.iam.InstanceProfile(f"{name}-profile", role=role.name, opts=child)
        return profile, attachment
