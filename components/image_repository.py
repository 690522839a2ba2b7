"""The one named ECR repository both stacks pull the backend image from (account-level)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.aws_context import policy_json

PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
"""What pulling an image by digest calls on the repository (ECR user guide, "Private repository policies")."""


def lifecycle_policy(untagged_expiry_days: int) -> dict[str, object]:
    """Expire untagged images only: a tagged release may still run in some stack, so none is counted out."""
    return {"rules": [{
        "rulePriority": 1, "description": f"Drop untagged images after {untagged_expiry_days} days",
        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                      "countNumber": untagged_expiry_days},
        "action": {"type": "expire"},
    }]}


@dataclass(frozen=True)
class ImageRepositoryArgs:
    """Arguments of `ImageRepository`."""

    repository_name: str
    """Fixed repository name, e.g. `floyo-backend`: every stack's `backend.image` points here, so
    promotion copies a digest on the same path. Changing it replaces the repository (and its images)."""
    key_arn: pulumi.Input[str]
    """Customer-managed KMS key that encrypts the images at rest. ECR decrypts through its own grant
    on the key when an image is pulled, so pullers need no KMS permission."""
    pull_account_ids: Sequence[str] = field(default_factory=list)
    """Other AWS accounts (12 digits) whose principals may pull, through the repository policy; each
    account still grants its own roles with IAM. Default none: only this account's IAM grants apply."""
    untagged_expiry_days: int = 14
    """Days after which an untagged image is expired. Default 14. Tagged images are never expired:
    push releases with a tag, as single-platform images (`docker buildx build --provenance=false`),
    since the per-platform images of a multi-platform index are untagged and would expire under it."""
    partition: str = "aws"
    """AWS partition of the pull accounts' ARNs (`aws`, `aws-cn`, `aws-us-gov`). Default aws."""
    protect: bool = False
    """Pulumi `protect` on the repository. Default false; the account-level project passes true."""


class ImageRepository(pulumi.ComponentResource):
    """A private ECR repository with a fixed name, shared by every stack of an account.

    * tags are IMMUTABLE (a digest or tag never points at new content), scan on push;
    * encrypted with a customer-managed KMS key (the encryption settings force replacement);
    * lifecycle: untagged images expire, tagged ones are kept;
    * a repository policy that lets the named pull accounts pull, nothing else;
    * `force_delete` off: a repository with images refuses to be deleted.

    Cost: storage per GB-month of images kept; scans on push are free (basic scanning).
    """

    repository: aws.ecr.Repository
    arn: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: ImageRepositoryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("floyo:images:ImageRepository", name, None, opts)
        bad = [a for a in args.pull_account_ids if not (len(a) == 12 and a.isdigit())]
        if bad:
            raise ValueError(f"pull_account_ids {bad} are not 12-digit AWS account IDs")
        child = pulumi.ResourceOptions(parent=self)
        self.repository = aws.ecr.Repository(
            f"{name}-repo",
            name=args.repository_name,
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
            encryption_configurations=[aws.ecr.RepositoryEncryptionConfigurationArgs(
                encryption_type="KMS", kms_key=args.key_arn)],
            force_delete=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.ecr.LifecyclePolicy(
            f"{name}-lifecycle", repository=self.repository.name,
            policy=pulumi.Output.json_dumps(lifecycle_policy(args.untagged_expiry_days)), opts=child,
        )
        if args.pull_account_ids:
            aws.ecr.RepositoryPolicy(
                f"{name}-pull", repository=self.repository.name,
                policy=policy_json([{
                    "Sid": "NamedAccountsPull", "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:{args.partition}:iam::{a}:root" for a in sorted(set(args.pull_account_ids))]},
                    "Action": PULL_ACTIONS,
                }]),
                opts=child,
            )
        self.arn = self.repository.arn
        self.url = self.repository.repository_url
        self.register_outputs({"arn": self.arn, "url": self.url})
