"""Every cost and resilience setting added with issues 25 and 26 refuses a bad value, naming its key."""

from __future__ import annotations

from typing import Any

import pytest

from tests.planning import settings_for, with_changes
from tests.test_consistency import refusal

CASES: list[tuple[dict[str, Any], str]] = [
    ({"cost": {"budget_margin": 0.5}}, "cost.budget_margin"),
    ({"cost": {"budget_enforcement": "strict"}}, "cost.budget_enforcement"),
    ({"cost": {"diff_flag_usd": -1}}, "cost.diff_flag_usd"),
    *(({"cost": {"usage": {key: -1}}}, f"cost.usage.{key}") for key in (
        "nat_processed_gb", "alb_average_lcu", "endpoint_processed_gb", "aurora_storage_gb", "aurora_io_millions",
        "serverless_average_acu", "log_ingest_gb_per_group", "bucket_storage_gb", "migration_task_hours")),
    ({"cost": {"usage": {"serverless_paused_share": 1.5}}}, "cost.usage.serverless_paused_share"),
    ({"resilience": {"fault_injection": {"disruption_minutes": 0}}}, "resilience.fault_injection.disruption_minutes"),
    ({"resilience": {"fault_injection": {"log_retention_days": 8}}}, "resilience.fault_injection.log_retention_days"),
    ({"resilience": {"reader_autoscaling": {"scale_out_cooldown_seconds": -1}}},
     "resilience.reader_autoscaling.scale_out_cooldown_seconds"),
    ({"resilience": {"reader_autoscaling": {"scale_in_cooldown_seconds": 3601}}},
     "resilience.reader_autoscaling.scale_in_cooldown_seconds"),
]


@pytest.mark.parametrize(("changes", "key"), CASES, ids=[key for _, key in CASES])
def test_a_bad_value_is_refused_by_its_key(changes: dict[str, Any], key: str) -> None:
    message = refusal("dev", changes)
    assert f"floyo-infra:{key}" in message or f"{key}:" in message, message
    assert "Traceback" not in message


def test_an_image_digest_followed_by_a_newline_is_refused() -> None:
    """Review: `$` matched before a final newline, so `...@sha256:<hex>\\n` passed as pinned by digest."""
    image = settings_for(with_changes("dev")).backend.image
    message = refusal("dev", {"backend": {"image": image + "\n"}})
    assert "floyo-infra:backend.image" in message, message
