"""The vendored price table (ops/cost/prices.json): unit prices per region, each with its source."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).resolve().parent / "prices.json"
STALE_AFTER_DAYS = 180
"""A table older than this is out of date: rebuild it (`python -m ops.cost.rebuild`)."""


class PriceTableError(Exception):
    """The table has no prices for what was asked (a region, an instance class): say what to add."""


@dataclass(frozen=True)
class Prices:
    """The unit prices of one region, and the table's date."""

    region: str
    date: str
    hours: float
    units: dict[str, Any]
    cloudflare_plans: dict[str, float]

    def usd(self, key: str) -> float:
        return float(self.units[key]["usd"])

    def minimum(self, key: str) -> float:
        return float(self.units[key].get("minimum", 0))

    def of_type(self, key: str, kind: str) -> float | None:
        """The hourly price of `kind` (an instance class, a node type) under `key`, or None if not in the table."""
        found = self.units[key]["by_type"].get(kind)
        return None if found is None else float(found["usd"] if isinstance(found, dict) else found)

    def vcpu(self, instance_class: str) -> int | None:
        found = self.units["aurora_instance_hour"]["by_type"].get(instance_class)
        return None if found is None else int(found["vcpu"])

    def source(self, key: str) -> str:
        unit = self.units[key]
        return f"{unit['offer']} {unit['usage_type']}"


@cache
def _document(path: Path = TABLE) -> dict[str, Any]:
    return json.loads(path.read_text())


def table_date(path: Path = TABLE) -> dt.date:
    return dt.date.fromisoformat(_document(path)["date"])


def prices_for(region: str, path: Path = TABLE) -> Prices:
    """The table's prices for `region`; `PriceTableError` naming the regions it has when it lacks one."""
    doc = _document(path)
    if region not in doc["regions"]:
        raise PriceTableError(
            f"the price table {path.name} has no prices for {region} (it has {', '.join(sorted(doc['regions']))}); "
            f"add the region with `python -m ops.cost.rebuild --region {region}` on a machine that reaches "
            "pricing.us-east-1.amazonaws.com")
    plans = {k: float(v) for k, v in doc["cloudflare_plan_month"]["by_plan"].items()}
    return Prices(region, doc["date"], float(doc["hours_per_month"]), doc["regions"][region], plans)
