"""Change what a stack runs: edit its stack file, then deploy it.

`promote` copies a release from one stack to another (text edits by `yaml_edit`), `tenants` adds and removes
tenants; `deploy` runs `pulumi up` in phases, with the policy pack's virtualenv (`policy_venv`), the
migration task (`migrate`) and the synthetic-check gate (`canary_gate`).
"""
