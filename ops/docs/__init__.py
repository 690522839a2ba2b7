"""Pages and tables generated from the code, so they cannot go stale.

`alerts_table` (docs/monitoring.md), `config_reference` (docs/reference/settings.md), `architecture`
(the picture in README.md and docs/architecture.md), `slo` (a stack's SLOs and burn-rate alerts).
"""
