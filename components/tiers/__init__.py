"""The program's tiers: plain functions that declare a group of components and hand on what the next needs.

`__main__.py` calls them in order (foundation, data, tracing, the backend, edge, observability, drills,
outputs). They are functions, never a `ComponentResource`: a wrapper would become the parent of every
resource and change every URN (a replacement of the whole stack).
"""
