"""Operator tooling for floyo-infra (`python -m ops`), grouped by job; ops/README.md is the map.

stackfile: read a stack file · plan/: the offline plan · cost/: what it costs · diff/: what a change does ·
deployed/: commands against a deployed stack · release/: promote, tenants, deploy · ci/: what the workflows
need · docs/: pages generated from the code · bench: plan-time benchmark.
"""
