"""`./run bench` states the tenant-scale budget: 2,000 tenants against prod's own plan time, side by side."""

from __future__ import annotations

from ops.bench import SCALE_BUDGET, SCALE_TENANTS, scale_line


def test_scale_line_compares_with_the_budget() -> None:
    assert (SCALE_TENANTS, SCALE_BUDGET) == (2000, 3.5)
    assert scale_line({"total": 10.0}, {"total": 30.0}) == (
        "scale: prod with 2000 tenants 30.00 s vs prod 10.00 s = 3.00x, within the 3.5x budget")
    assert scale_line({"total": 10.0}, {"total": 36.0}).endswith("3.60x, OVER the 3.5x budget")

