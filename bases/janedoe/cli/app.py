"""The `janedoe` command: one Typer app; each area is a sub-application added here explicitly.

Start-up is kept short: the area modules import only typer at the top; components, rich and the heavy libraries are
imported inside the commands that use them (test_startup.py holds each command's import graph to a budget).
"""

import sys
from typing import Annotated

import typer
from janedoe.cli.api_client import ServerRefused
from janedoe.cli.db_commands import db_app
from janedoe.cli.dp_commands import dp_app
from janedoe.cli.job_commands import job_app
from janedoe.cli.kanon_commands import kanon_app
from janedoe.cli.mask_commands import mask
from janedoe.cli.policy_commands import policy_app
from janedoe.cli.rendering import stderr
from janedoe.cli.review_commands import review_app
from janedoe.cli.synth_commands import synth_app
from janedoe.errors import JaneDoeInputError

DISTRIBUTIONS = ("janedoe-cli", "janedoe-development")  # the CLI's wheel, or the whole workspace installed

app = typer.Typer(
    name="janedoe",
    help="janedoe: use, test, analyse and share data about people without exposing the people.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: typer's rich help imports markdown and pygments (0.3 s on every --help)
)
app.command("mask")(mask)
app.add_typer(policy_app, name="policy")
app.add_typer(kanon_app, name="kanon")
app.add_typer(dp_app, name="dp")
app.add_typer(synth_app, name="synth")
app.add_typer(db_app, name="db")
app.add_typer(job_app, name="job")
app.add_typer(review_app, name="review")


def installed_version() -> str:
    """The version of whichever janedoe distribution provides this command (the one version source)."""
    from importlib.metadata import PackageNotFoundError, version

    for distribution in DISTRIBUTIONS:
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"janedoe {installed_version()}")
        raise typer.Exit()


@app.callback()
def janedoe(
    show_version: Annotated[
        bool,
        typer.Option("--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
    ] = False,
) -> None:
    """The options of `janedoe` itself (the help text is the app's)."""


def main() -> None:
    """Entry point: user errors are one line and exit 2, Ctrl-C exits 130, anything else is a bug (exit 1)."""
    from janedoe.tabular import keep_pandas_out

    keep_pandas_out()  # start as from the project's own wheel, where pandas is not installed
    try:
        # standalone_mode=False hands errors to us; a command's typer.Exit(code) comes back as the return value.
        result = app(standalone_mode=False)
    except JaneDoeInputError as error:
        stderr().print(f"error: {error}", markup=False)
        sys.exit(2)
    except ServerRefused as error:  # the API said no, or could not be reached
        stderr().print(f"error: {error}", markup=False)
        sys.exit(1)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        stderr().print("interrupted", markup=False)
        sys.exit(130)
    except typer.TyperException as error:  # usage errors: missing or bad arguments and options
        error.show()
        sys.exit(2)
    except Exception as error:  # noqa: BLE001  (the last guard: never a traceback for the user)
        stderr().print(f"internal error ({type(error).__name__}); please report it", markup=False)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)
