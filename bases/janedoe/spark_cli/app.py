"""The `janedoe-spark` command: one Typer app; each area is a sub-application added here explicitly."""

import sys

import typer
from janedoe.errors import JaneDoeInputError
from janedoe.spark_cli.dp_commands import dp_app
from janedoe.spark_cli.kanon_commands import kanon_app
from janedoe.spark_cli.mask_command import mask
from janedoe.spark_cli.rendering import stderr
from janedoe.spark_cli.synth_commands import synth_app

app = typer.Typer(
    name="janedoe-spark",
    help="janedoe on Apache Spark: mask, measure, query with DP and synthesize tables that do not fit on one machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("mask")(mask)
app.add_typer(kanon_app, name="kanon")
app.add_typer(dp_app, name="dp")
app.add_typer(synth_app, name="synth")


def _spark_failure(error: Exception) -> tuple[str, int] | None:
    """(one line, exit code) for an error raised by Spark; None when it is not Spark's."""
    try:
        from pyspark.errors import AnalysisException, PySparkException
    except ImportError:
        return None
    if not isinstance(error, PySparkException | AnalysisException):
        return None
    text = (str(error).strip().splitlines() or [type(error).__name__])[0][:300]
    malformed = isinstance(error, AnalysisException) or "Malformed" in str(error)
    return (f"error: {text}", 2) if malformed else (f"spark job failed: {text}", 1)


def main() -> None:
    """Entry point: user errors are one line and exit 2, Ctrl-C exits 130, anything else is a bug (exit 1)."""
    try:
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
        failure = _spark_failure(error)
        if failure is None:
            stderr.print(f"internal error ({type(error).__name__}); please report it", markup=False)
            sys.exit(1)
        stderr.print(failure[0], markup=False)
        sys.exit(failure[1])
    sys.exit(result if isinstance(result, int) else 0)
