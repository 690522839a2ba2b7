"""Unique final-snapshot names for stateful resources that take a snapshot when deleted.

A final snapshot outlives its cluster. With a fixed name (`floyo-prod-final`), the second delete of a
same-named cluster (a replacement, or a destroy and re-create) fails on "snapshot already exists" and
the delete stops. The name here ends in a random suffix that changes only when `keepers` change: pass
the inputs that force a replacement, so every replacement (and every new stack) gets a new name, while
an ordinary `pulumi up` keeps the same one and plans no change.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_random as random

SUFFIX_BYTES = 4
"""Random bytes in the suffix: 8 hex digits."""


def final_snapshot_name(
    name: str, identifier: str, keepers: Mapping[str, pulumi.Input[str]], opts: pulumi.ResourceOptions,
) -> pulumi.Output[str]:
    """`<identifier>-final-<8 hex>`: a letter first, letters, digits and single hyphens, as both RDS and
    ElastiCache snapshot names require. `identifier` is always one of the keepers."""
    suffix = random.RandomId(
        f"{name}-final-snapshot-suffix", byte_length=SUFFIX_BYTES,
        keepers={"identifier": identifier, **keepers}, opts=opts,
    )
    return suffix.hex.apply(lambda value: f"{identifier}-final-{value}")
