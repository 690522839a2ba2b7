"""Resource URNs as the Pulumi engine makes them, for the offline plan.

The SDK's mock monitor builds a child's URN from the last `$`-segment of its parent's type and keeps
`pulumi:pulumi:Stack` in a top-level resource's type (`...::pulumi:pulumi:Stack$aws:s3/bucket:Bucket::x`).
The engine does neither (pulumi/pulumi pkg/resource/deploy/deployment.go, `generateURN`; and
sdk/go/common/resource/urn/urn.go, `New`): the parent's whole qualified type chain is kept and the root
stack's type is left out. `pulumi up --exclude`/`--target` do not check that a URN exists, so a URN
computed the mock's way would be silently ignored: everything in ops that names URNs reads them from a
plan built with these.
"""

from __future__ import annotations

PREFIX = "urn:pulumi:"
TYPE_DELIMITER = "$"
NAME_DELIMITER = "::"
ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def qualified_type(urn: str) -> str:
    """The type chain of `urn` (`a:b:C$d:e:F`): the third `::` component after the prefix."""
    if not urn.startswith(PREFIX):
        raise ValueError(f"not a URN: {urn!r}")
    parts = urn[len(PREFIX):].split(NAME_DELIMITER, 3)
    if len(parts) != 4:
        raise ValueError(f"not a URN: {urn!r}")
    return parts[2]


def engine_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """The URN the engine gives a resource of `type_` named `name` under `parent` (a URN, or "")."""
    chain = type_
    if parent:
        parent_type = qualified_type(parent)
        if parent_type != ROOT_STACK_TYPE:
            chain = parent_type + TYPE_DELIMITER + type_
    return PREFIX + NAME_DELIMITER.join([stack, project, chain, name])
