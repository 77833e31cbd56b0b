"""The CLI's two consoles, made on first use: rich is imported by the commands that print tables or progress, never
by `--help`; a plain line needs no rich at all (`plain_line`)."""

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


@cache
def stdout() -> "Console":
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@cache
def stderr() -> "Console":
    """Soft-wrapped so that a message stays one line (a pipe is 80 columns to rich)."""
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def plain_line(text: str) -> None:
    """One line to stdout as it is: no markup, no emoji codes (':x:' in a path stays), and no rich import."""
    import typer

    typer.echo(text)
