"""The one error a bad stack configuration produces."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class Problem:
    """One invalid setting: where it is, what was given, what is allowed."""

    path: str
    """Full config path, e.g. `floyo-infra:backend.cpu`."""
    given: str
    """The value given, already rendered (and masked when the key is a secret)."""
    allowed: str
    """What would be accepted instead."""

    def render(self) -> str:
        return f"  - {self.path}: got {self.given}; {self.allowed}"


class SettingsError(pulumi.RunError):
    """Raised before any resource is declared when a stack's settings are invalid.

    A `pulumi.RunError`, so `pulumi preview/up` print the message without a traceback.
    """

    def __init__(self, stack: str, problems: list[Problem], project: str = "floyo-infra") -> None:
        self.stack = stack
        self.problems = problems
        self.project = project
        """The Pulumi project whose stack file it is (`floyo-baseline`: baseline/Pulumi.<stack>.yaml)."""
        noun = "problem" if len(problems) == 1 else "problems"
        lines = [f"invalid settings for stack '{stack}' ({len(problems)} {noun}):"]
        lines += [p.render() for p in problems]
        super().__init__("\n".join(lines))
