"""The offline plan: the real program run under the SDK's mock runtime, and what is read from it.

`planner` runs it and records every resource (`python -m ops plan`), with fake cloud answers from `mocks`
and the engine's URNs from `urns`; `render` prints the component tree, `check` runs the policy pack over
the plan (`python -m ops check`), and `pgsql` renders the SQL of the plan's database roles and grants.
"""
