"""Registers every area's commands on the app; one import line per area."""

from janedoe.cli import db_commands  # noqa: F401
from janedoe.cli import dp_commands  # noqa: F401
from janedoe.cli import kanon_commands  # noqa: F401
from janedoe.cli import mask_commands  # noqa: F401
from janedoe.cli import policy_commands  # noqa: F401
from janedoe.cli import synth_commands  # noqa: F401
from janedoe.cli.app import app

__all__ = ["app"]
