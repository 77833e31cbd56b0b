"""Registers every area's commands on the app; one import line per area."""

from janedoe.cli import (
    db_commands,  # noqa: F401
    dp_commands,  # noqa: F401
    kanon_commands,  # noqa: F401
    mask_commands,  # noqa: F401
    policy_commands,  # noqa: F401
    synth_commands,  # noqa: F401
)
from janedoe.cli.app import app

__all__ = ["app"]
