"""The `janedoe` command: one Typer app; each area's commands live in their own module and are added here."""

import sys

import typer
from janedoe.errors import JaneDoeInputError
from rich.console import Console

app = typer.Typer(
    name="janedoe",
    help="janedoe: use, test, analyse and share data about people without exposing the people.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def main() -> None:
    """Entry point: user errors are one line and exit 2, Ctrl-C exits 130, anything else is a bug (exit 1)."""
    from janedoe.tabular import keep_pandas_out

    keep_pandas_out()  # start as from the project's own wheel, where pandas is not installed
    from janedoe.cli import commands  # noqa: F401  (registers every command on `app`)

    try:
        # standalone_mode=False hands errors to us; a command's typer.Exit(code) comes back as the return value.
        result = app(standalone_mode=False)
    except JaneDoeInputError as error:
        stderr.print(f"error: {error}", markup=False)
        sys.exit(2)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        stderr.print("interrupted", markup=False)
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: missing or bad arguments and options
        error.show()
        sys.exit(2)
    except Exception as error:  # noqa: BLE001  (the last guard: never a traceback for the user)
        stderr.print(f"internal error ({type(error).__name__}); please report it", markup=False)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
