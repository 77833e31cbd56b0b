"""`janedoe-spark synth fit`: parse options, call janedoe.spark_engine and janedoe.ledger, render."""

from typing import Annotated

import typer
from janedoe.errors import JaneDoeInputError
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

synth_app = typer.Typer(help="Differentially private synthetic data (MST, AIM) on Spark.", no_args_is_help=True)


@synth_app.command("fit")
def fit(
    input_path: InputArgument,
    output_path: OutputArgument,
    policy: PolicyOption,
    table: TableOption = None,
    rows: Annotated[int | None, typer.Option("--rows", min=0, help="Rows (default: policy, else noisy n).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for sampling (never the noise).")] = None,
    ledger: Annotated[str | None, typer.Option("--ledger", envvar="JANEDOE_LEDGER", help="Ledger to spend.")] = None,
    analyst: Annotated[str | None, typer.Option("--analyst", help="Who spends (with --ledger).")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Ledger dataset (default: table).")] = None,
    master: MasterOption = "local[*]",
    input_format: FormatOption = None,
    delimiter: DelimiterOption = None,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing output.")] = False,
) -> None:
    """Fit the policy's method (MST or AIM) with Spark-measured marginals; write a synthetic table (input's schema)."""
    from janedoe.ledger import Ledger
    from janedoe.policy import choose_table, load_policy
    from janedoe.spark_engine import (
        check_output_apart,
        check_spark_synthesis,
        dataset_location,
        read_dataset,
        spark_synthesize,
        write_dataset,
    )
    from janedoe.synthetic import synthesis_cost

    if (ledger is None) != (analyst is None):
        raise JaneDoeInputError("--ledger and --analyst go together", where="--ledger")
    loaded = load_policy(policy)
    source = dataset_location(input_path, format=input_format, where="INPUT")
    target = dataset_location(output_path, where="OUTPUT")
    check_output_apart(source, target)
    table_name, entry = choose_table(loaded, table, source.name, section="synthetic", where=policy)
    with spark_progress(master, f"fitting {entry.synthetic.method} on {source.name}") as spark:
        frame = read_dataset(spark, source, delimiter=delimiter)
        check_spark_synthesis(frame, entry.synthetic, entry.columns, rows=rows)  # refusals cost no budget
        if ledger is not None:
            with Ledger.open(ledger) as book:
                book.spend(dataset or table_name, analyst, synthesis_cost(entry.synthetic),
                           query=f"synth {table_name}", mechanism=entry.synthetic.method)
        result = spark_synthesize(frame, entry.synthetic, entry.columns, rows=rows, seed=seed)
        write_dataset(result.frame, target, overwrite=overwrite)
    stdout.print(f"wrote synthetic rows to {target.text}: {result.method} spent epsilon={result.epsilon:g} "
                 f"delta={result.delta:g} (rho={result.rho:.6g}); fit {result.fit_seconds:.2f} s", markup=False)
