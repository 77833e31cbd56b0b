"""`janedoe-spark mask`: parse the command line, call janedoe.spark_engine, print a one-line summary."""

from typing import Annotated

import typer
from janedoe.spark_cli.rendering import (
    DelimiterOption,
    FormatOption,
    InputArgument,
    MasterOption,
    OutputArgument,
    PolicyOption,
    TableOption,
    spark_progress,
    stdout,
)


def mask(
    input_path: InputArgument,
    output_path: OutputArgument,
    policy: PolicyOption,
    table: TableOption = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Another set of draws for the random rules.")] = None,
    master: MasterOption = "local[*]",
    input_format: FormatOption = None,
    delimiter: DelimiterOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
) -> None:
    """Mask a dataset per a policy on Spark; every row gets what `janedoe mask` gives it."""
    from janedoe.policy import load_policy
    from janedoe.spark_engine import check_output_apart, dataset_location, mask_dataset, mask_job_secret

    loaded = load_policy(policy)
    source = dataset_location(input_path, format=input_format, where="INPUT")
    target = dataset_location(output_path, where="OUTPUT")
    check_output_apart(source, target)
    table, secret = mask_job_secret(loaded, source, table)
    with spark_progress(master, f"masking {source.name}") as spark:
        report = mask_dataset(spark, loaded, source, target, table=table, secret=secret, seed=seed,
                              delimiter=delimiter, overwrite=overwrite)
    stdout.print(f"masked {report.rows:,} rows x {len(report.rules)} columns of table {report.table!r} into "
                 f"{report.output} in {report.seconds:.2f} s", markup=False)
