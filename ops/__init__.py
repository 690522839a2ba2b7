"""Operator tooling for floyo-infra: offline plan, diffs, promotion, benchmarks."""
