"""Registers every area's commands on the app; one import line per area."""

from janedoe.cli.app import app

__all__ = ["app"]
