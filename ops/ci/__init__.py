"""What the GitHub workflows need: the stack list, the one-time setup and the workflow linter.

`stacks` lists the stacks (the workflows' matrices, stdlib only: `python3 -m ops.ci.stacks`); `bootstrap`
prints the one-time setup, from `environments`, `main_ruleset` and `prod_guard`; `lint` runs actionlint.
"""
