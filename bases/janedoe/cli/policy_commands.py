"""`janedoe policy check` and `janedoe policy init`: parse arguments, call janedoe.policy / masking, print."""

from pathlib import Path
from typing import Annotated

import typer
from janedoe.cli.rendering import plain_line, stdout

policy_app = typer.Typer(help="Check a masking policy, or write a starting one for a file.", no_args_is_help=True)

# Only to build the maskers for a check when no secret is set: nothing is masked or written with it.
_CHECK_ONLY_SECRET = b"janedoe policy check: no secret set"


@policy_app.command("check")
def check(
    policy: Annotated[
        Path, typer.Argument(metavar="POLICY", help="Policy YAML to validate.")
    ],
    input_path: Annotated[
        Path | None, typer.Argument(metavar="[INPUT]", help="File whose columns and types to check.")
    ] = None,
    table: Annotated[
        str | None, typer.Option("--table", "-t", help="Table of the policy for INPUT (default: its stem).")
    ] = None,
) -> None:
    """Validate a policy, and against INPUT's columns and types when given."""
    from janedoe.policy import choose_table, load_policy

    loaded = load_policy(policy)
    columns = sum(len(t.columns) for t in loaded.tables.values())
    tables = len(loaded.tables)
    plural = "" if tables == 1 else "s"
    plain_line(f"{policy}: valid ({tables} table{plural}, {columns} columns)")
    if input_path is None:
        return
    table_name, _ = choose_table(loaded, table, input_path.stem, where=str(input_path))
    from janedoe.masking import build_table_masker, load_secret, policy_needs_secret
    from janedoe.tabular import read_schema

    schema = read_schema(input_path)
    secret = load_secret(loaded)
    needs_secret = policy_needs_secret(loaded, table_name)
    build_table_masker(loaded, table_name, schema, secret=secret or _CHECK_ONLY_SECRET, seed=0)
    plain_line(f"{input_path}: matches table {table_name!r} ({len(schema)} columns)")
    if needs_secret and not secret:
        plain_line(f"note: masking will need the secret: set {loaded.secret_env} or {loaded.secret_env}_FILE")


@policy_app.command("init")
def init(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="CSV, Parquet or JSON Lines file to describe.")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the policy here (default: stdout).")
    ] = None,
    table: Annotated[
        str | None, typer.Option("--table", "-t", help="Table name in the policy (default: INPUT's stem).")
    ] = None,
) -> None:
    """Write a starting policy for a file: every column, a suggested rule, and why."""
    from janedoe.policy import starter_policy_yaml
    from janedoe.tabular import iter_batches, read_schema

    schema = read_schema(input_path)
    sample = next(iter_batches(input_path, batch_size=1000), None)
    text = starter_policy_yaml(table or input_path.stem, schema, sample, input_path.name)
    if output is None:
        stdout().out(text, end="")
        return
    from janedoe.tabular import write_text_atomic

    write_text_atomic(text, output)
    stdout().print(f"wrote {output} ({len(schema)} columns): review it before masking", markup=False)
