"""The `janedoe` command-line base: parse input, call components, render output."""

from janedoe.cli.app import app, main

__all__ = ["app", "main"]
