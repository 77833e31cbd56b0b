"""Option values the command lines and the API take in the same form (comma-separated names), parsed one way.

Importing it costs nothing but this package: a command's start-up does not grow.
"""

from janedoe.option_parsing.names import comma_separated_names

__all__ = ["comma_separated_names"]
