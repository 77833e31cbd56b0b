"""The CLI's two consoles, made on first use: rich is imported by the commands that print tables or progress, never
by `--help`; a plain line or table needs no rich at all (`plain_line`, `plain_table`)."""

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


def _printable(cell: str) -> str:
    """Control characters (a terminal escape in a stored query text) as code points, never sent to the terminal."""
    return cell if cell.isprintable() else "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in cell)


def plain_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    """A titled table in aligned columns, without rich (whose import would cost a quick command most of its time)."""
    cells = [headers, *([_printable(str(cell)) for cell in row] for row in rows)]
    widths = [max(len(row[column]) for row in cells) for column in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    plain_line("\n".join([title, line(headers), rule, *(line(row) for row in cells[1:])]))
