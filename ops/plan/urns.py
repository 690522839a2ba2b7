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


def _parts(urn: str) -> list[str] | None:
    parts = urn[len(PREFIX):].split(NAME_DELIMITER, 3) if urn.startswith(PREFIX) else []
    return parts if len(parts) == 4 else None


def leaf_type(urn: str) -> str:
    """The resource's own type, the last of its type chain (`aws:s3/bucket:Bucket` of
    `urn:pulumi:dev::p::floyo:x:X$aws:s3/bucket:Bucket::logs`); "" for a string that is not a URN."""
    parts = _parts(urn)
    return parts[2].rpartition(TYPE_DELIMITER)[2] if parts else ""


def name_of(urn: str) -> str:
    """The resource's name (`logs` above); "" for a string that is not a URN."""
    parts = _parts(urn)
    return parts[3] if parts else ""


def is_top_level(parent: str) -> bool:
    """Whether a resource whose parent is `parent` belongs to no component: no parent, or the root stack."""
    return not parent or leaf_type(parent) in ("", ROOT_STACK_TYPE)
