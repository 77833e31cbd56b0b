"""`janedoe mask`: parse the command line, call janedoe.masking, show progress and a one-line summary."""

from pathlib import Path
from typing import Annotated

import typer
from janedoe.cli.rendering import stderr, stdout


def mask(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="CSV, Parquet or JSON Lines file to mask (unchanged).")
    ],
    output_path: Annotated[
        Path, typer.Argument(metavar="OUTPUT", help="Masked file to write; format from its extension.")
    ],
    policy: Annotated[
        Path, typer.Option("--policy", "-p", help="Policy YAML naming each column's rule.")
    ],
    table: Annotated[
        str | None, typer.Option("--table", "-t", help="Table of the policy to apply (default: INPUT's stem).")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Rows per streamed batch.")
    ] = 65536,
    seed: Annotated[
        int | None,
        typer.Option("--seed", help="Another set of draws for the random rules, reproducible only with the secret."),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option("--encoding", help="Text encoding of a CSV or JSON Lines INPUT, e.g. latin-1 (default UTF-8)."),
    ] = None,
) -> None:
    """Mask a table file per a policy (PostgreSQL Anonymizer-style rules), streaming in bounded memory."""
    from janedoe.masking import mask_file
    from janedoe.policy import load_policy
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    loaded = load_policy(policy)
    with Progress(
        SpinnerColumn(),
        TextColumn("masking {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeElapsedColumn(),
        console=stderr(),
        transient=True,
        disable=not stderr().is_terminal,
    ) as progress:
        task = progress.add_task(input_path.name, total=None)

        def advance(rows: int, total: int | None) -> None:
            progress.update(task, completed=rows, total=total)

        report = mask_file(
            loaded, input_path, output_path, table=table, batch_size=batch_size, seed=seed, encoding=encoding,
            progress=advance,
        )
    stdout().print(
        f"masked {report.rows:,} rows x {len(report.rules)} columns of table {report.table!r} "
        f"into {report.output_path} in {report.seconds:.2f} s",
        markup=False,
    )
