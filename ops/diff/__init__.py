"""What a change does to a stack, offline (`python -m ops diff`).

`model` holds what a diff is made of (`Diff`, `ResourceChange`); `plans` computes one from two plans (the
base revision's, planned in a child process by `forked`, and the working tree's); `compare` compares values
leaf by leaf, `replacement` says which input changes replace a resource, `danger` which changes lose data,
traffic or a safety; `render` and `graph` print the result.
"""
