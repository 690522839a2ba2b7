"""What AWS offers, for checks that must match it offline: regions, AZ IDs, Aurora PostgreSQL versions.

Each fact comes from a named source. Regions come from botocore's bundled endpoint data (pinned in
requirements.txt, updated with every botocore release), never from a hand list. Aurora PostgreSQL
versions come from a dated table (`AURORA_POSTGRES_AS_OF`): when AWS releases a new minor version, add it
here with the date you checked.
"""

from __future__ import annotations

import re
from functools import cache

AURORA_POSTGRES_AS_OF = "2026-12-04"
AURORA_POSTGRES_SOURCE = (
    "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_UpgradeDBInstance.PostgreSQL.UpgradeVersion.html "
    "and https://docs.aws.amazon.com/AmazonRDS/latest/AuroraPostgreSQLReleaseNotes/AuroraPostgreSQL.Updates.html; "
    "17.7, 16.11, 15.15 and 14.20 from aws-cdk's AuroraPostgresEngineVersion (VER_17_7, VER_16_11, VER_15_15, "
    "VER_14_20; packages/aws-cdk-lib/aws-rds/lib/cluster-engine.ts, changed 2026-10-20)"
)
AURORA_POSTGRES_VERSIONS: dict[str, tuple[str, ...]] = {
    "14": ("14.3", "14.4", "14.5", "14.6", "14.7", "14.8", "14.9", "14.10", "14.11", "14.12", "14.13", "14.15",
           "14.17", "14.18", "14.19", "14.20"),
    "15": ("15.2", "15.3", "15.4", "15.5", "15.6", "15.7", "15.8", "15.10", "15.12", "15.13", "15.14", "15.15"),
    "16": ("16.1", "16.2", "16.3", "16.4", "16.6", "16.8", "16.9", "16.10", "16.11"),
    "17": ("17.4", "17.5", "17.6", "17.7"),
}
"""Major -> the Aurora PostgreSQL minor versions AWS has released (`<major>.<minor>`), as of
`AURORA_POSTGRES_AS_OF`, from `AURORA_POSTGRES_SOURCE` (Aurora skips some community minors, e.g. 16.5 and
16.7). `aws rds describe-db-engine-versions --engine aurora-postgresql --query 'DBEngineVersions[].EngineVersion'`
lists what a region offers today."""

AURORA_POSTGRES_CHECK = "aws rds describe-db-engine-versions --engine aurora-postgresql"
"""The command that says whether a version missing from the table exists (add it here if it does)."""


def minor_number(version: str) -> int | None:
    """`15.14` -> 14; None when `version` is not `<major>.<minor>` with a numeric minor."""
    _, dot, minor = version.partition(".")
    return int(minor) if dot and minor.isdigit() else None


@cache
def regions() -> dict[str, str]:
    """Region code -> partition (`us-east-1` -> `aws`), from botocore's bundled `endpoints.json`."""
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("endpoints")
    return {region: p["partition"] for p in data["partitions"] for region in p.get("regions", {})}


def is_region(value: object) -> bool:
    """Whether `value` is a region botocore knows."""
    return isinstance(value, str) and value in regions()


_WORDS = {"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
          "north": "n", "south": "s", "east": "e", "west": "w", "central": "c", "gov": "g"}
_AZ_ID = re.compile(r"^(?P<prefix>[a-z]+[0-9]+)-az[0-9]+$")


def az_prefix(region: str) -> str:
    """The AZ-ID prefix of a region: `use1` for us-east-1, `apne1` for ap-northeast-1, `usgw1` for us-gov-west-1.

    AZ IDs are `<prefix>-az<n>`, the prefix being the country code plus the initials of each direction
    word plus the number (https://docs.aws.amazon.com/global-infrastructure/latest/regions/az-ids.html lists
    them: use1-az1, usw2-az1, apne1-az1, euc1-az2, ...). Words this table does not know are kept whole, so an
    unknown shape fails closed (no AZ ID matches it).
    """
    country, *words, number = region.split("-")
    return country + "".join(_WORDS.get(w, w) for w in words) + number


def az_region(az_id: str) -> str | None:
    """The region an AZ ID belongs to (`use1-az4` -> us-east-1), or None when no known region has its prefix.

    Local and Wavelength zone IDs (`use1-bos1-az1`) are not region AZs and get None.
    """
    match = _AZ_ID.match(az_id)
    if not match:
        return None
    by_prefix = {az_prefix(r): r for r in regions()}
    return by_prefix.get(match["prefix"])


def botocore_version() -> str:
    """The botocore release whose endpoint data `regions()` reads."""
    import botocore

    return str(botocore.__version__)


def region_summary(partition: str = "aws") -> str:
    """The regions of a partition, for error messages: `af-south-1, ap-east-1, ...`."""
    return ", ".join(sorted(r for r, p in regions().items() if p == partition))


