"""Consoles, shared options and the progress display of Spark jobs."""

from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console

stdout = Console(highlight=False, soft_wrap=True)
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

MasterOption = Annotated[
    str, typer.Option("--master", help="Spark master: local[*], local[2], spark://host:7077, yarn, k8s://...")
]
PolicyOption = Annotated[str, typer.Option("--policy", "-p", help="The policy YAML (the same file as the CLI's).")]
TableOption = Annotated[
    str | None, typer.Option("--table", "-t", help="Table of the policy (default: the input's name).")
]
FormatOption = Annotated[
    str | None, typer.Option("--format", help="Input format when the path does not say: parquet, csv, jsonl.")
]
DelimiterOption = Annotated[str | None, typer.Option("--delimiter", help="CSV field separator (default ',').")]


@contextmanager
def spark_progress(master: str, description: str):
    """A Spark session for one command, with a spinner showing the running stage's finished tasks; Ctrl-C stops
    the session's jobs before the command exits."""
    from janedoe.spark_engine import spark_session, watch_jobs

    with stderr.status(f"starting Spark ({master})") as status:
        spark = spark_session(master, app_name=f"janedoe-spark {description}")
        stop_watching = watch_jobs(spark, lambda text: status.update(f"{description}: {text}"))
        try:
            yield spark
        except KeyboardInterrupt:
            spark.sparkContext.cancelAllJobs()
            raise
        finally:
            stop_watching()
InputArgument = Annotated[
    str, typer.Argument(metavar="INPUT", help="Parquet/CSV path, directory, glob, or table:db.name.")
]
OutputArgument = Annotated[
    str, typer.Argument(metavar="OUTPUT", help="Output path (format from its extension; a directory is Parquet) "
                        "or table:db.name.")
]
