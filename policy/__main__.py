"""The pack's entry point: `pulumi preview --policy-pack policy/` runs this, which serves the policies
(PolicyPack starts a gRPC server and never returns). Tests import `policy.floyo_policies` instead."""

from floyo_policies import POLICIES
from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="floyo-infra", enforcement_level=EnforcementLevel.ADVISORY, policies=POLICIES)
