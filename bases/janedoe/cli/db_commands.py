"""`janedoe db scan | copy | dump`: parse options, call janedoe.sqldb, show progress. No privacy logic here.

janedoe.sqldb is imported inside the commands: SQLAlchemy's import cost is paid only by `janedoe db`.
"""

from contextlib import contextmanager
from typing import Annotated

import typer
from janedoe.cli.rendering import stderr
from janedoe.option_parsing import comma_separated_names

db_app = typer.Typer(help="Anonymize whole SQL databases (SQLite, PostgreSQL): scan, masked copy, masked dump,"
                     " masking in place.",
                     no_args_is_help=True)

WhereOption = Annotated[
    list[str] | None,
    typer.Option("--where", metavar="TABLE:CONDITION", help="subset: rows matching an SQL condition (repeatable)"),
]
SampleOption = Annotated[
    list[str] | None,
    typer.Option("--sample", metavar="TABLE:FRACTION", help="subset: a seeded random fraction (repeatable)"),
]


@contextmanager
def _table_progress():
    """A rich progress bar per table on stderr; yields the callback the component calls."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, int] = {}
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=stderr(), transient=False, disable=not stderr().is_terminal,
    ) as progress:
        def update(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(table, total=total)
            progress.update(tasks[table], completed=done, total=max(total, done))

        yield update


@db_app.command("scan")
def scan(
    url: str = typer.Argument(..., help="sqlite:///file.db, file.db or postgresql://user@host/db"),
    out: str | None = typer.Option(None, "--out", help="write the policy here (default: standard output)"),
    sample_rows: int = typer.Option(500, "--sample-rows", min=1, help="rows sampled per table"),
) -> None:
    """Write a starting policy for every table and column, with suggested rules and the reason for each."""
    from janedoe.database_access import redact_url
    from janedoe.sqldb import scan_database

    text = scan_database(url, sample_rows=sample_rows)
    if out is None:
        typer.echo(text, nl=False)
        return
    from janedoe.tabular import write_text_atomic

    write_text_atomic(text, out)
    stderr().print(f"wrote {out} for {redact_url(url)}", markup=False)


@db_app.command("copy")
def copy(
    policy: str = typer.Option(..., "--policy", help="policy YAML"),
    source: str = typer.Option(..., "--from", help="source database URL (read through a read-only snapshot)"),
    target: str = typer.Option(..., "--to", help="target database URL"),
    tables: str | None = typer.Option(None, "--tables", help="comma-separated tables (default: all)"),
    batch_size: int = typer.Option(10_000, "--batch-size", min=1, help="rows per batch and per target transaction"),
    where: WhereOption = None,
    sample: SampleOption = None,
    replace: bool = typer.Option(False, "--replace", help="drop the target's tables first if it is not empty"),
    seed: int = typer.Option(0, "--seed", help="seed for random rules and --sample"),
    jobs: int = typer.Option(
        2, "--jobs", "-j", min=1, help="PostgreSQL to PostgreSQL: tables copied at once, from one snapshot"
    ),
) -> None:
    """Copy a database with every table masked by the policy; keys, uniques and joins stay valid."""
    from janedoe.database_access import redact_url
    from janedoe.policy import load_policy
    from janedoe.sqldb import copy_database

    loaded = load_policy(policy)
    with _table_progress() as update:
        report = copy_database(
            loaded, source, target, tables=comma_separated_names(tables) or None, batch_size=batch_size,
            where=where or [], sample=sample or [], replace=replace, seed=seed, policy_name=policy,
            progress=update, lanes=jobs,
        )
    total = sum(report.rows.values())
    verb = "resumed and finished" if report.resumed else "copied"
    stderr().print(f"{verb}: {len(report.rows)} tables, {total} rows into {redact_url(target)}", markup=False)


@db_app.command("dump")
def dump(
    output: str = typer.Argument(..., help="the .sql file to write"),
    policy: str = typer.Option(..., "--policy", help="policy YAML"),
    source: str = typer.Option(..., "--from", help="source database URL"),
    dialect: str | None = typer.Option(None, "--dialect", help="sqlite or postgresql (default: the source's)"),
    tables: str | None = typer.Option(None, "--tables", help="comma-separated tables (default: all)"),
    batch_size: int = typer.Option(10_000, "--batch-size", min=1, help="rows read and written per batch"),
    where: WhereOption = None,
    sample: SampleOption = None,
    seed: int = typer.Option(0, "--seed", help="seed for random rules and --sample"),
) -> None:
    """Write a masked plain-SQL dump that psql or sqlite3 can load."""
    from janedoe.policy import load_policy
    from janedoe.sqldb import dump_database

    loaded = load_policy(policy)
    with _table_progress() as update:
        rows = dump_database(
            loaded, source, output, dialect=dialect, tables=comma_separated_names(tables) or None,
            batch_size=batch_size, where=where or [], sample=sample or [], seed=seed, policy_name=policy,
            progress=update,
        )
    stderr().print(f"wrote {output}: {len(rows)} tables, {sum(rows.values())} rows", markup=False)


@db_app.command("anonymize")
def anonymize(
    policy: str = typer.Option(..., "--policy", help="policy YAML"),
    database: str = typer.Option(..., "--db", help="database URL whose tables are masked in place"),
    table: Annotated[
        list[str] | None, typer.Option("--table", help="a table to mask (repeatable; default: every table)")
    ] = None,
    batch_size: int = typer.Option(10_000, "--batch-size", min=1, help="rows per batch read and staged"),
    seed: int = typer.Option(0, "--seed", help="seed for random rules (the same as `db copy --seed`)"),
    yes: bool = typer.Option(False, "--yes", help="really overwrite the data (without it: say what would change)"),
) -> None:
    """Mask tables in place, in one transaction: the same rows `db copy` would write, keys and joins valid."""
    from janedoe.database_access import redact_url
    from janedoe.policy import load_policy
    from janedoe.sqldb import anonymize_in_place

    loaded = load_policy(policy)
    if not yes:
        report = anonymize_in_place(loaded, database, tables=table or None, batch_size=batch_size, seed=seed,
                                    policy_name=policy)
        stderr().print(f"would overwrite {report.summary()} in {redact_url(database)}: add --yes to do it",
                       markup=False)
        raise typer.Exit(2)
    with _table_progress() as update:
        report = anonymize_in_place(loaded, database, tables=table or None, batch_size=batch_size, seed=seed,
                                    policy_name=policy, progress=update, apply=True)
    stderr().print(f"masked in place: {report.summary()} in {redact_url(database)}", markup=False)
