"""Commands against a deployed stack (Pulumi CLI or AWS credentials).

`stack_outputs` reads its outputs, `shell` runs commands behind a fakeable interface, `tunnel` reaches
its database through the access host, `readers` handles the readers autoscaling added, `drill` runs a
fault-injection experiment.
"""
