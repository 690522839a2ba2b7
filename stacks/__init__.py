"""Typed, validated stack settings. `load_settings` is the only way in."""

from stacks.errors import Problem, SettingsError
from stacks.loader import load_settings, settings_from_pulumi
from stacks.settings import StackSettings

__all__ = ["Problem", "SettingsError", "StackSettings", "load_settings", "settings_from_pulumi"]
