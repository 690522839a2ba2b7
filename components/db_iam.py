"""`rds-db:connect` for end-to-end IAM through RDS Proxy: who may log in as which database user.

Two principals need it (RDS user guide, "Configuring IAM authentication for RDS Proxy", end-to-end IAM;
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-iam-setup.html):

* the **client** (the backend's task role) connects to the proxy: the resource is the proxy's user,
  `arn:PARTITION:rds-db:REGION:ACCOUNT:dbuser:prx-<proxy resource id>/<user>`;
* the **proxy's own role** then connects to the cluster as the same user:
  `arn:PARTITION:rds-db:REGION:ACCOUNT:dbuser:cluster-<cluster resource id>/<user>`.

Both name exactly the app's logins plus the pattern `tenant_*` for the tenants' logins; never `*`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi

from components.aws_context import AwsContext
from stacks.tenants import LOGIN_PREFIX

TENANT_USERS = LOGIN_PREFIX + "*"
"""The IAM pattern covering every tenant login (`tenant_<slug>`); slugs may not start with `tenant_`
themselves, and the master user may not either (stacks/database.py)."""


def proxy_resource_id(proxy_arn: pulumi.Input[str]) -> pulumi.Output[str]:
    """`prx-...`: the last field of the proxy's ARN (`arn:aws:rds:REGION:ACCOUNT:db-proxy:prx-...`)."""
    return pulumi.Output.from_input(proxy_arn).apply(lambda arn: arn.split(":")[-1])


def dbuser_arns(context: AwsContext, resource_id: pulumi.Input[str], users: Sequence[str]) -> pulumi.Output[list[str]]:
    """The `dbuser` ARNs of `users` on one proxy (`prx-...`) or cluster (`cluster-...`) resource id."""
    return pulumi.Output.all(context.partition, context.region, context.account_id, resource_id).apply(
        lambda p: [f"arn:{p[0]}:rds-db:{p[1]}:{p[2]}:dbuser:{p[3]}/{user}" for user in users])


def connect_statement(sid: str, arns: pulumi.Input[list[str]]) -> pulumi.Output[dict[str, Any]]:
    """An IAM statement allowing `rds-db:connect` on exactly `arns`."""
    return pulumi.Output.from_input(arns).apply(
        lambda resources: {"Sid": sid, "Effect": "Allow", "Action": "rds-db:connect", "Resource": sorted(resources)})
