"""A program declaring only the shared image repository, as the account-level project will."""

from components.image_repository import ImageRepository, ImageRepositoryArgs

ImageRepository("images", ImageRepositoryArgs(
    repository_name="floyo-backend", key_arn="arn:aws:kms:us-east-1:123456789012:key/images",
    pull_account_ids=["210987654321"], protect=True,
))
