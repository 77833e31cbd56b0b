"""`janedoe-spark kanon check | apply`: parse options, call janedoe.spark_engine, render. No privacy logic."""

import json
from typing import Annotated

import typer
from janedoe.errors import JaneDoeInputError
from janedoe.option_parsing import comma_separated_names
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

kanon_app = typer.Typer(help="k-anonymity, l-diversity, t-closeness and risk on Spark.", no_args_is_help=True)

K_NOT_MET_EXIT = 3  # as `janedoe kanon check`


@kanon_app.command("check")
def check(
    input_path: InputArgument,
    qi: Annotated[str, typer.Option("--qi", help="Quasi-identifier columns, comma-separated.")],
    sensitive: Annotated[str | None, typer.Option("--sensitive", help="Sensitive columns, comma-separated.")] = None,
    k: Annotated[int | None, typer.Option("--k", min=1, help=f"Required k (else exit {K_NOT_MET_EXIT}).")] = None,
    master: MasterOption = "local[*]",
    input_format: FormatOption = None,
    delimiter: DelimiterOption = None,
) -> None:
    """Measure k, class sizes, l, t and re-identification risk with one Spark aggregation; prints JSON."""
    from janedoe.spark_engine import dataset_location, read_dataset, spark_measure

    quasi_identifiers = comma_separated_names(qi)
    if not quasi_identifiers:
        raise JaneDoeInputError("--qi names no column", where="--qi")
    source = dataset_location(input_path, format=input_format, where="INPUT")
    with spark_progress(master, f"measuring {source.name}") as spark:
        frame = read_dataset(spark, source, delimiter=delimiter)
        result = spark_measure(frame, quasi_identifiers, comma_separated_names(sensitive), k)
    stdout.print_json(json.dumps(result.to_dict()))
    if not result.k_met:
        raise typer.Exit(K_NOT_MET_EXIT)


@kanon_app.command("apply")
def apply(
    input_path: InputArgument,
    output_path: OutputArgument,
    policy: PolicyOption,
    table: TableOption = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for the random masking rules.")] = None,
    master: MasterOption = "local[*]",
    input_format: FormatOption = None,
    delimiter: DelimiterOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
) -> None:
    """Mask per the policy, then generalize the quasi-identifiers (lattice search on the driver); writes OUTPUT and
    prints the report as JSON."""
    from janedoe.policy import load_policy
    from janedoe.spark_engine import (
        check_output_apart,
        dataset_location,
        read_dataset,
        spark_anonymize_with_policy,
        write_dataset,
    )

    loaded = load_policy(policy)
    source = dataset_location(input_path, format=input_format, where="INPUT")
    target = dataset_location(output_path, where="OUTPUT")
    check_output_apart(source, target)
    with spark_progress(master, f"anonymizing {source.name}") as spark:
        frame = read_dataset(spark, source, delimiter=delimiter)
        output, report = spark_anonymize_with_policy(loaded, table or source.name, frame, policy, seed=seed)
        write_dataset(output, target, overwrite=overwrite)
    stdout.print_json(json.dumps(report, default=str))
