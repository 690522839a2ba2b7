"""Changed configs the foundation, backend and edge tests share, so that one whole plan serves several tests.

A whole-stack plan costs about a second of CPU (tests/planning.py). Tests that must read a whole plan of a
changed config (they assert that something is absent, read the stack's outputs, the alarms, or diff two
whole plans) read it from one of these merged variants instead of each planning its own. Every setting merged
into a variant is independent of what the other tests reading it assert: each test still reads the resources
it read from its own one-setting variant, and none of the merged settings declares, removes or changes them.
Tests that read only what the first tiers declare plan a prefix instead (`plan_with(..., upto=...)`).
"""

from __future__ import annotations

from typing import Any

OTHER_IMAGE = "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/api@sha256:" + "c" * 64
"""An image in another account's repository (tests/test_image_pull.py)."""

STRIPE_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:floyo/stripe-AbCdEf"
"""A named secret the backend reads (tests/test_backend.py)."""

WAF_CUSTOM_RULES: list[dict[str, str]] = [
    {"description": "No admin from outside", "expression": '(starts_with(http.request.uri.path, "/admin"))',
     "action": "block"},
    {"description": "Challenge Tor", "expression": '(ip.src.country eq "T1")', "action": "managed_challenge"},
]

DEV_RELAXED: dict[str, Any] = {
    "network": {"cidr": "10.99.0.0/16"},  # tests/test_network.py: every subnet is carved from it
    "cdn": {
        # tests/test_origin_lock.py: off presents and verifies nothing (absences: a whole plan)
        "origin_lock": {"mode": "off"},
        # tests/test_edge.py: the origin open for debugging, no edge prefix list (an absence)
        "allow_direct_origin_access": True,
        # tests/test_edge.py: the cache, TLS and WAF settings drive their rulesets and zone setting
        "cache": {"static_path_prefixes": ["/media/"], "static_extensions": ["pdf"],
                  "bypass_path_prefixes": ["/graphql"], "respect_origin_cache_control": True},
        "min_tls_version": "1.3",
        "waf_custom_rules": WAF_CUSTOM_RULES,
    },
    "backend": {
        "image": OTHER_IMAGE,  # tests/test_image_pull.py: the grant and the ecr_repository_url output move
        "secrets": {"STRIPE_KEY": STRIPE_SECRET + ":api_key::"},  # tests/test_backend.py: read by name only
    },
    # tests/test_releases.py, tests/test_ops_deploy.py: no canary, no canary alarm, no release gate (absences:
    # a whole plan). The canary runs outside the VPC and reads the public host only: it declares no subnet,
    # security group rule, origin-pull resource, ruleset, grant or secret the other settings' tests read.
    "monitoring": {"synthetics": {"enabled": False}},
}
"""dev with another address range, the relaxations, edge, backend and monitoring settings the tests change,
each independent of the others."""

DEV_PRESENT: dict[str, Any] = {"cdn": {"origin_lock": {"mode": "present"}}}
"""dev's origin lock presenting our certificate without verifying, planned up to the foundation: the origin lock
tests read its listener and uploads, and tests/test_prefix_plans.py that a changed config's prefix follows
the change."""

PROD_EDGE: dict[str, Any] = {
    "cdn": {
        "extra_hosts": ["app"],  # tests/test_edge.py, tests/test_origin_lock.py: a second proxied host
        "origin_lock": {"expiry_warning_days": 60},  # tests/test_origin_lock.py: the expiry alarm's threshold
        "auth_rate_limit": {"paths": ["/v2/login"], "period_seconds": 10},  # tests/test_edge.py
    },
    "backend": {"deployment": {
        # tests/test_target_groups.py (every target-group signal reads both groups) and tests/test_releases.py
        # (the linear configuration and the update timeout it gives)
        "strategy": "LINEAR", "linear_step_percent": 20, "linear_interval_minutes": 3,
        "resend_load_balancers": True,  # tests/test_target_groups.py: sent once, not left to ECS
    }},
}
"""prod with a second host, a changed certificate-expiry warning and a changed rate limit, releasing in linear
steps with the one-off resend of its load balancers: one whole plan for the edge and the release tests.

The two halves are independent. The edge half declares Cloudflare records, rulesets and origin-pull
configs, one ACM certificate and one listener certificate for the second host, and moves the client
certificate's expiry alarm: no target group, listener rule, service or target-group alarm. The release half
changes the service's deployment configuration, its target groups, listener rules and the alarms and
scaling policies that read the groups: nothing of Cloudflare, no certificate, no certificate alarm. Each test
reads only what its half moves (and first checks its setting is in the plan)."""

PROD_LINEAR: dict[str, Any] = PROD_EDGE
"""The same variant under the name the release tests use (tests/test_target_groups.py, tests/test_releases.py)."""
