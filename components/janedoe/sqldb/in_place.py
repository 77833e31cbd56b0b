"""`db anonymize`: masks tables of a SQLite or PostgreSQL database in place (PostgreSQL Anonymizer's
`anonymize_table` / `anonymize_database`), with the rules, types and output of `db copy`, all or nothing.

Why stage and swap rather than UPDATE by primary key: a masked key (keyed_permutation, hash, pseudonymize) moves
values onto other rows' old values, which an immediate unique or primary key check refuses halfway through an
UPDATE, and the referencing columns must change with it; a table without a key has nothing to UPDATE by. So, in ONE
transaction: lock the tables against writers, read them through a snapshot (the same reader, prepass and maskers
as `db copy`), stream the masked rows into temporary tables, then take off the foreign keys touching the tables,
empty the tables, fill them from the stage, and put the foreign keys back from their own definitions (PostgreSQL
checks every row again; SQLite runs `PRAGMA foreign_key_check`). The tables themselves are never dropped, so grants,
indexes, defaults, triggers (off during the swap), views and comments stay. Until COMMIT nothing is visible, and a
crash or an error leaves the original rows.

Rows without a primary key: nothing needs one (every row is rewritten); SQLite keeps their rowids.
"""

from dataclasses import dataclass, field

import pyarrow as pa
from janedoe.database_access import parse_database_url
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.arrow_types import same_storage
from janedoe.sqldb.connections import sqlite_read_only, wrap_driver_error
from janedoe.sqldb.copy_plan import CopyPlan, make_plan
from janedoe.sqldb.in_place_writer import RETYPE_TABLE, ROWID_COLUMN, InPlaceWriter, is_driver_error
from janedoe.sqldb.pseudonym_prepass import prepare_set_dependent_rules
from janedoe.sqldb.range_types import postgres_range_type
from janedoe.sqldb.snapshot_reader import ExtraColumn, SnapshotReader
from janedoe.sqldb.sqlite_retype import CannotRetype, retyped_create_sql
from janedoe.sqldb.table_copy import Progress
from janedoe.sqldb.table_shuffles import table_shuffles
from janedoe.sqldb.table_writer import dialect_of
from janedoe.tabular import WriteBehind

_ROWID_NAMES = ("rowid", "_rowid_", "oid")  # SQLite's names for a rowid; a column of the same name hides one


@dataclass
class InPlaceReport:
    rows: dict[str, int] = field(default_factory=dict)
    masked_columns: dict[str, list[str]] = field(default_factory=dict)
    retyped_columns: list[str] = field(default_factory=list)
    applied: bool = False

    def summary(self) -> str:
        masked = sum(len(columns) for columns in self.masked_columns.values())
        retyped = f", changing the type of {', '.join(self.retyped_columns)}" if self.retyped_columns else ""
        return (f"{sum(self.rows.values())} rows of {len(self.rows)} tables ({', '.join(self.rows)}),"
                f" {masked} masked columns{retyped}")


def anonymize_in_place(
    policy,
    url: str,
    *,
    tables: list[str] | None = None,
    batch_size: int = 10_000,
    seed: int = 0,
    policy_name: str = "policy",
    progress: Progress | None = None,
    apply: bool = False,
) -> InPlaceReport:
    """Without `apply`, checks the policy against the database and reports what would change, writing nothing."""
    if batch_size < 1:
        raise JaneDoeInputError("batch size must be at least 1", where="--batch-size")
    database = parse_database_url(url, where="--db")
    try:
        plan = make_plan(policy, database, database.dialect, tables=tables, seed=seed, policy_name=policy_name)
    except JaneDoeInputError as error:
        if error.where != "--tables":
            raise
        raise JaneDoeInputError(error.detail.replace("--tables", "--table"), where="--table") from None
    _refuse_references_from_outside(plan)
    retyped = _retyped_columns(plan)
    rowids = {name: _rowid_name(plan, name) for name in plan.order.tables}
    report = InPlaceReport(
        masked_columns={name: [c for c, rule in plan.rules[name].items() if rule.mask != "keep"]
                        for name in plan.order.tables},
        retyped_columns=[f"{table}.{column}" for table, column in retyped],
    )
    if not apply:
        with SnapshotReader(database) as reader:
            report.rows = {name: reader.count_rows(name) for name in plan.order.tables}
        return report
    writer = InPlaceWriter(database)
    try:
        writer.begin(plan.order.tables)
        stages = _stage_masked_rows(plan, writer, rowids, batch_size, progress, report)
        writer.detach(plan.order.tables)
        writer.empty(plan.order.tables)
        for table, column in retyped:
            writer.change_type(table, column, plan.metadata.tables[table].c[column].type)
        for name in plan.order.tables:
            writer.fill(name, stages[name], plan.schema.tables[name].column_names, rowids[name])
        writer.reattach(plan.order.tables, plan.serials)
        writer.commit()
    except BaseException as error:
        writer.rollback()
        if is_driver_error(error):  # e.g. a view on a column whose type must change: one line, no traceback
            raise wrap_driver_error(error, database) from None
        raise
    finally:
        writer.close()
    report.applied = True
    return report


def _stage_masked_rows(plan: CopyPlan, writer: InPlaceWriter, rowids: dict, batch_size: int, progress,
                       report: InPlaceReport) -> dict[str, str]:
    """Reads every table through one snapshot (taken after the locks) and streams its masked rows into a stage."""
    stages = {}
    with SnapshotReader(plan.source) as reader:
        prepare_set_dependent_rules(plan, reader, {}, batch_size)
        totals = {name: reader.count_rows(name) for name in plan.order.tables}
        for index, name in enumerate(plan.order.tables):
            table, masker = plan.schema.tables[name], plan.maskers[name]
            stage = writer.create_stage(index, plan.metadata.tables[name], rowids[name] is not None)
            extra = [ExtraColumn(rowids[name], ROWID_COLUMN, pa.int64())] if rowids[name] else None
            done = 0
            if progress is not None:
                progress(name, 0, totals[name])
            with (
                table_shuffles(masker, reader, table, batch_size=batch_size),
                WriteBehind(lambda batch, stage=stage, name=name: writer.stage_batch(stage, name, batch)) as out,
            ):
                for batch in reader.read_batches(table, batch_size=batch_size, extra=extra):
                    rows = batch.drop_columns([ROWID_COLUMN]) if extra else batch
                    masked = masker.mask_batch(rows) if rows.num_rows else rows.slice(0, 0)
                    if extra:
                        masked = masked.append_column(ROWID_COLUMN, batch.column(ROWID_COLUMN))
                    out.put(masked)
                    done += batch.num_rows
                    if progress is not None:
                        progress(name, done, totals[name])
            report.rows[name] = done
            stages[name] = stage
    return stages


def _refuse_references_from_outside(plan: CopyPlan) -> None:
    """A table left out keeps its rows: its references to a key whose values change would dangle."""
    chosen = set(plan.order.tables)
    for table in plan.schema.tables.values():
        if table.name in chosen:
            continue
        for fk in table.foreign_keys:
            if fk.referred_table not in chosen:
                continue
            changed = [c for c in fk.referred_columns if plan.rules[fk.referred_table][c].mask != "keep"]
            if changed:
                raise JaneDoeInputError(
                    f"{fk.label()} would dangle: {fk.referred_table}.{changed[0]} is masked, so add {table.name}"
                    " to the tables (its references are then masked the same way)",
                    where="--table",
                )


def _retyped_columns(plan: CopyPlan) -> list[tuple[str, str]]:
    """Columns whose masked values have another type (an integer key under `hash` becomes text; a `generalize` to
    ranges becomes a PostgreSQL range). They get the type `db copy` would create: PostgreSQL alters them; SQLite,
    which has no ALTER TYPE (and whose column affinity would turn masked text such as `1984` back into a number),
    rebuilds their tables."""
    retyped = []
    for name in plan.order.tables:
        output = plan.output_schemas[name]
        for column in plan.schema.tables[name].columns:
            becomes_range = plan.source.dialect == "postgresql" and postgres_range_type(
                plan.rules[name][column.name], column.arrow_type) is not None  # a text column of dates, too
            if becomes_range or not same_storage(column.arrow_type, output.field(column.name).type):
                retyped.append((name, column.name))
    if retyped and plan.source.dialect == "sqlite":
        _check_sqlite_retypes(plan, retyped)
    return retyped


def _check_sqlite_retypes(plan: CopyPlan, retyped: list[tuple[str, str]]) -> None:
    """SQLite has no ALTER TYPE: the table is rebuilt from its own CREATE TABLE text (sqlite_retype), which some
    columns cannot take (an AUTOINCREMENT key, a generated column): refused before anything is written."""
    conn = sqlite_read_only(plan.source)
    try:
        for table_name, column_name in retyped:
            create = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                  (table_name,)).fetchone()[0]
            kind = plan.metadata.tables[table_name].c[column_name].type.compile(dialect=dialect_of("sqlite"))
            try:
                retyped_create_sql(create, column_name, kind, RETYPE_TABLE)
            except CannotRetype as error:
                raise JaneDoeInputError(
                    f"the rule changes the column's type to {kind} and SQLite can only do that by rebuilding the"
                    f" table, but {error}: use `db copy`, or a rule that keeps the column's type",
                    where=f"{table_name}.{column_name}",
                ) from None
    finally:
        conn.close()


def _rowid_name(plan: CopyPlan, name: str) -> str | None:
    """SQLite tables without a primary key keep each row's rowid (the only identity such a row has); PostgreSQL
    rows have none that lasts (a ctid changes on any update), so nothing is kept there."""
    table = plan.schema.tables[name]
    if plan.source.dialect != "sqlite" or table.primary_key:
        return None
    free = [alias for alias in _ROWID_NAMES if alias not in {c.lower() for c in table.column_names}]
    if not free:
        raise JaneDoeInputError(
            "a table without a primary key whose columns are named rowid, _rowid_ and oid: its rowids cannot be"
            " kept; add a primary key or use `db copy`",
            where=name,
        )
    return free[0]
