"""Floyo's CrossGuard policy pack. `pulumi preview --policy-pack policy/` runs `__main__.py`; tests and
`python -m ops check` import the policies from `policy.floyo_policies`."""
