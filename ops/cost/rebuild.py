"""Rebuild ops/cost/prices.json from AWS's bulk price-list offer files (needs the network; not run in CI).

    python -m ops.cost.rebuild --region us-east-1            # refresh the region's prices, print the changes
    python -m ops.cost.rebuild --region eu-west-1 --write    # add or refresh a region in prices.json

For every unit in the table's template region (us-east-1), it reads the unit's offer
(`https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<offer>/current/<region>/index.json`), finds
the on-demand SKU whose usage type is the unit's (with or without the region's prefix, e.g. `USE2-`)
and, for per-type units (EC2, Aurora, ElastiCache), whose instance type is each listed type, and takes
its USD price. A unit it cannot find keeps its old price and is reported; nothing is guessed. The
Cloudflare plan prices are not in any AWS offer: update them by hand from https://www.cloudflare.com/plans/.
The offer files are large (AmazonEC2's is several GB); each is streamed to a temporary file once.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ops.cost.prices import TABLE

OFFER_URL = "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/{offer}/current/{region}/index.json"
TEMPLATE_REGION = "us-east-1"
TYPE_ATTRIBUTES = {
    "ec2_hour": {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"},
    "aurora_instance_hour": {"databaseEngine": "Aurora PostgreSQL"},
    "valkey_node_hour": {"cacheEngine": "Valkey"},
}
"""Per-type units: the product attributes that pick the right SKU besides `instanceType`."""


def _offer(offer: str, region: str, scratch: Path) -> dict[str, Any]:
    path = scratch / f"{offer}-{region}.json"
    if not path.exists():
        with urllib.request.urlopen(OFFER_URL.format(offer=offer, region=region), timeout=600) as response, \
                path.open("wb") as out:
            while chunk := response.read(1 << 20):
                out.write(chunk)
    return json.loads(path.read_text())


def _usage_matches(usage_type: str, wanted: str) -> bool:
    bare = wanted.split(" ", 1)[0]
    return usage_type == bare or usage_type.split("-", 1)[-1] == bare or usage_type.endswith("-" + bare)


def _on_demand_usd(offer: dict[str, Any], sku: str) -> float | None:
    for term in offer.get("terms", {}).get("OnDemand", {}).get(sku, {}).values():
        for dimension in term["priceDimensions"].values():
            usd = float(dimension["pricePerUnit"].get("USD", 0))
            if usd > 0:
                return usd
    return None


def _skus(offer: dict[str, Any], usage_type: str, attributes: dict[str, str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for sku, product in offer.get("products", {}).items():
        attrs = product.get("attributes", {})
        if attributes and not all(attrs.get(k) == v for k, v in attributes.items()):
            continue
        if attributes or _usage_matches(attrs.get("usagetype", ""), usage_type):
            yield sku, attrs


def rebuild(region: str, scratch: Path) -> tuple[dict[str, Any], list[str]]:
    """The region's units with fresh prices, and what could not be found."""
    doc = json.loads(TABLE.read_text())
    template = doc["regions"].get(region) or doc["regions"][TEMPLATE_REGION]
    units: dict[str, Any] = json.loads(json.dumps(template))
    missing: list[str] = []
    for key, unit in units.items():
        offer = _offer(unit["offer"], region, scratch)
        if "by_type" in unit:
            for kind, old in unit["by_type"].items():
                wanted = {**TYPE_ATTRIBUTES.get(key, {}), "instanceType": kind}
                found = [_on_demand_usd(offer, sku) for sku, _ in _skus(offer, "", wanted)]
                usd = min((u for u in found if u), default=None)
                if usd is None:
                    missing.append(f"{key}.{kind}")
                elif isinstance(old, dict):
                    old["usd"] = usd
                else:
                    unit["by_type"][kind] = usd
            continue
        found = [_on_demand_usd(offer, sku) for sku, _ in _skus(offer, unit["usage_type"], {})]
        usd = min((u for u in found if u), default=None)
        if usd is None:
            missing.append(key)
        else:
            unit["usd"] = usd
    return units, missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.cost.rebuild", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--region", default=TEMPLATE_REGION, help="AWS region to price (default us-east-1)")
    parser.add_argument("--write", action="store_true", help="write the prices and today's date into prices.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="floyo-prices-") as tmp:
        units, missing = rebuild(args.region, Path(tmp))
    for key in missing:
        print(f"not found (old price kept): {args.region} {key}", file=sys.stderr)
    if not args.write:
        json.dump(units, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 1 if missing else 0
    doc = json.loads(TABLE.read_text())
    doc["regions"][args.region] = units
    doc["date"] = dt.date.today().isoformat()
    TABLE.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"wrote {TABLE} ({args.region}, {dt.date.today()})", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
