"""`janedoe synth`: differentially private synthetic tables, their HTML report, and fake fixture data.

`janedoe synth --policy P INPUT OUTPUT` is short for `janedoe synth fit --policy P INPUT OUTPUT`.
"""

from pathlib import Path
from typing import Annotated

import typer
from janedoe.cli.rendering import stderr, stdout
from janedoe.errors import JaneDoeInputError
from typer.core import TyperGroup


class _FitByDefault(TyperGroup):
    """Arguments that do not start with a sub-command name go to `fit`."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["fit", *args]
        return super().parse_args(ctx, args)


synth_app = typer.Typer(
    cls=_FitByDefault,
    no_args_is_help=True,
    help="Differentially private synthetic data (MST, AIM), its fidelity report, and fake test data.",
)


def _table_policy(policy_path: Path, table: str | None, input_path: Path):
    from janedoe.policy import load_policy

    policy = load_policy(policy_path)
    if table is None:
        with_synthetic = [name for name, entry in policy.tables.items() if entry.synthetic is not None]
        if input_path.stem in policy.tables:
            table = input_path.stem
        elif len(with_synthetic) == 1:
            table = with_synthetic[0]
        else:
            raise JaneDoeInputError("name the policy table to use with --table", where=str(policy_path))
    if table not in policy.tables:
        raise JaneDoeInputError("no such table in the policy", where=f"{policy_path}: tables.{table}")
    entry = policy.tables[table]
    if entry.synthetic is None:
        raise JaneDoeInputError("the table has no synthetic section", where=f"{policy_path}: tables.{table}")
    return table, entry


@synth_app.command("fit")
def fit_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="The private table (CSV, Parquet, JSON Lines).")],
    output_path: Annotated[Path, typer.Argument(metavar="OUTPUT", help="Where the synthetic table goes.")],
    policy: Annotated[Path, typer.Option("--policy", help="Policy file with the table's synthetic: section.")],
    table: Annotated[str | None, typer.Option("--table", help="Policy table (default: INPUT's name).")] = None,
    rows: Annotated[int | None, typer.Option("--rows", min=0, help="Rows (default: policy, else noisy n).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Seed for sampling (never the noise).")] = None,
    ledger: Annotated[str | None, typer.Option("--ledger", help="Privacy ledger to spend the budget from.")] = None,
    analyst: Annotated[str | None, typer.Option("--analyst", help="Who spends (with --ledger).")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="Ledger dataset (default: table).")] = None,
) -> None:
    """Fit the policy's method (MST or AIM) under its budget and write a synthetic table with the input's schema."""
    from janedoe.ledger import Ledger
    from janedoe.synthetic import check_synthesis, synthesis_cost, synthesize
    from janedoe.tabular import iter_batches, read_schema, write_table_atomic

    table, entry = _table_policy(policy, table, input_path)
    if (ledger is None) != (analyst is None):
        raise JaneDoeInputError("--ledger and --analyst go together", where="--ledger")
    schema = read_schema(input_path)
    check_synthesis(schema, entry.synthetic, entry.columns)
    if ledger is not None:
        with Ledger.open(ledger) as book:
            book.spend(dataset or table, analyst, synthesis_cost(entry.synthetic), query=f"synth {table}",
                       mechanism=entry.synthetic.method)
    with stderr().status(f"fitting {entry.synthetic.method} on {input_path.name}"):
        result = synthesize(lambda: iter_batches(input_path, batch_size=1 << 18), entry.synthetic, entry.columns,
                            rows=rows, seed=seed, schema=schema)
    write_table_atomic(result.table, output_path)
    stdout().print(
        f"wrote {result.table.num_rows} synthetic rows to {output_path}: {result.method} spent epsilon="
        f"{result.epsilon:g} delta={result.delta:g} (rho={result.rho:.6g}); fit {result.fit_seconds:.2f} s, "
        f"sample {result.sample_seconds:.2f} s",
        markup=False,
    )


@synth_app.command("report")
def report_command(
    real_path: Annotated[Path, typer.Argument(metavar="REAL", help="The private table the synthetic one came from.")],
    synthetic_path: Annotated[Path, typer.Argument(metavar="SYNTH", help="The synthetic table to compare.")],
    output_path: Annotated[Path, typer.Argument(metavar="OUT.html", help="Where the HTML report goes.")],
    target: Annotated[str | None, typer.Option("--target", help="Column to predict (TSTR test).")] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="Show this policy table's synthetic budget.")] = None,
    table: Annotated[str | None, typer.Option("--table", help="Policy table (default: REAL's name).")] = None,
) -> None:
    """Write a self-contained HTML report comparing REAL and SYNTH (it reads the real data: keep it internal)."""
    from janedoe.synthetic import synthesis_cost, write_html_report
    from janedoe.tabular import read_table

    privacy = None
    if policy is not None:
        name, entry = _table_policy(policy, table, real_path)
        privacy = {"table": name, **entry.synthetic.model_dump(exclude_none=True),
                   "rho (zCDP budget)": synthesis_cost(entry.synthetic).rho}
    if not output_path.parent.is_dir():
        raise JaneDoeInputError("the output directory does not exist", where=str(output_path))
    real, synthetic = read_table(real_path), read_table(synthetic_path)
    with stderr().status("comparing tables"):
        write_html_report(real, synthetic, output_path, privacy=privacy, target=target)
    stdout().print(f"wrote {output_path}", markup=False)


@synth_app.command("fake")
def fake_command(
    schema_path: Annotated[Path, typer.Argument(metavar="SCHEMA", help="YAML: tables: {name: {rows, columns}}.")],
    output_dir: Annotated[Path, typer.Argument(metavar="OUTDIR", help="Existing directory for the tables.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the fake values (same seed, same tables).")] = 0,
    file_format: Annotated[str, typer.Option("--format", help="csv, parquet or jsonl.")] = "csv",
) -> None:
    """Non-private fake tables for fixtures, one file per table (OUTDIR/<table>.<format>)."""
    from janedoe.synthetic import generate_fake_tables
    from janedoe.tabular import write_table_atomic
    from yaml import YAMLError, safe_load

    if file_format not in ("csv", "parquet", "jsonl"):
        raise JaneDoeInputError("format must be csv, parquet or jsonl", where="--format")
    try:
        spec = safe_load(schema_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JaneDoeInputError("no such schema file", where=str(schema_path)) from None
    except (OSError, UnicodeDecodeError, YAMLError):
        raise JaneDoeInputError("cannot read the schema as YAML", where=str(schema_path)) from None
    if not output_dir.is_dir():
        raise JaneDoeInputError("the output directory does not exist", where=str(output_dir))
    tables = generate_fake_tables(spec, seed=seed)
    for name, fake in tables.items():
        write_table_atomic(fake, output_dir / f"{name}.{file_format}")
        stdout().print(f"wrote {fake.num_rows} rows to {output_dir / f'{name}.{file_format}'}", markup=False)
