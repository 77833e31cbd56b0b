"""`db dump`: a masked plain-SQL dump (schema, then rows as multi-row INSERTs, then keys, indexes and sequences)
that `psql` or `sqlite3` loads; written to a temporary file beside the output and renamed only when complete.

Values become SQL literals column by column with Arrow compute (quotes doubled), never by formatting rows in Python.
"""

import os
import tempfile
from collections.abc import Callable, Collection, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from janedoe.database_access import parse_database_url
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.copy_plan import make_plan
from janedoe.sqldb.pseudonym_prepass import prepare_set_dependent_rules
from janedoe.sqldb.snapshot_reader import SnapshotReader
from janedoe.sqldb.snapshot_reader import quote_identifier as q
from janedoe.sqldb.subset import keep_filter, plan_subset
from janedoe.sqldb.table_shuffles import table_shuffles
from janedoe.sqldb.table_writer import ddl, enum_ddl
from janedoe.sqldb.type_map import check_sqlite_floats, decimal_text, enum_types, is_blob

ROWS_PER_INSERT = 500


def dump_database(
    policy,
    source_url: str,
    output_path: str,
    *,
    dialect: str | None = None,
    tables: list[str] | None = None,
    batch_size: int = 10_000,
    where: Sequence[str] = (),
    sample: Sequence[str] = (),
    seed: int = 0,
    policy_name: str = "policy",
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, int]:
    """The masked database as one SQL script (rows per table returned), for loading where janedoe cannot connect;
    written to a temporary file and renamed, so a failure leaves no half dump."""
    source = parse_database_url(source_url, where="--from")
    dialect = dialect or source.dialect
    if dialect not in ("sqlite", "postgresql"):
        raise JaneDoeInputError("dialect must be sqlite or postgresql", where="--dialect")
    directory = os.path.dirname(os.path.abspath(output_path))
    if not os.path.isdir(directory):
        raise JaneDoeInputError("the output's directory does not exist", where=output_path)
    plan = make_plan(policy, source, dialect, tables=tables, where=where, sample=sample, seed=seed,
                     policy_name=policy_name)
    rows: dict[str, int] = {}
    handle, temporary = tempfile.mkstemp(prefix=".janedoe-dump-", suffix=".sql", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
            out.write(f"-- masked dump written by janedoe from {source.redacted}\n")
            if dialect == "postgresql":
                out.write("SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n")
                out.write("SET TIME ZONE 'UTC';\n")  # a tstzrange's date bounds are UTC midnights, as in a copy
            out.write("BEGIN;\n")
            if dialect == "postgresql":
                for type_name, labels in enum_types(plan.metadata):
                    out.write(enum_ddl(type_name, labels) + ";\n")
            for name in plan.order.tables:
                table = plan.metadata.tables[name]
                created = sa.schema.CreateTable(table, include_foreign_key_constraints=[] if dialect == "postgresql"
                                                else None)
                out.write(ddl(created, dialect) + ";\n")
            with SnapshotReader(source) as reader:
                kept = plan_subset(reader, plan.schema, plan.order, plan.subset, seed=seed)
                prepare_set_dependent_rules(plan, reader, kept, batch_size)
                for name in plan.order.tables:
                    rows[name] = _dump_table(out, reader, plan, name, kept.get(name), batch_size, progress, dialect)
            if dialect == "postgresql":
                for name in plan.order.tables:
                    for constraint in plan.metadata.tables[name].foreign_key_constraints:
                        out.write(ddl(sa.schema.AddConstraint(constraint), dialect) + ";\n")
                for table_name, column in plan.serials:
                    sequence = q(f"{table_name}_{column}_seq")
                    out.write(f"CREATE SEQUENCE {sequence} OWNED BY {q(table_name)}.{q(column)};\n")
                    out.write(f"ALTER TABLE {q(table_name)} ALTER COLUMN {q(column)} SET DEFAULT"
                              f" nextval('{sequence}');\n")
                    out.write(f"SELECT setval('{sequence}', COALESCE((SELECT max({q(column)}) FROM"
                              f" {q(table_name)}), 0) + 1, false);\n")
            for name in plan.order.tables:
                for index in plan.metadata.tables[name].indexes:
                    out.write(ddl(sa.schema.CreateIndex(index), dialect) + ";\n")
            out.write("COMMIT;\n")
        os.replace(temporary, output_path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return rows


def _dump_table(out, reader, plan, name, kept_keys, batch_size, progress, dialect) -> int:
    table = plan.schema.tables[name]
    total = len(kept_keys) if kept_keys is not None else reader.count_rows(name)
    done = 0
    columns = ", ".join(q(c) for c in table.column_names)
    blobs = {c.name for c in plan.metadata.tables[name].columns if is_blob(c.type)}
    with table_shuffles(plan.maskers[name], reader, table, kept_keys=kept_keys, batch_size=batch_size):
        for batch in reader.read_batches(table, batch_size=batch_size):
            if kept_keys is not None:
                batch = batch.filter(keep_filter(batch, table.primary_key, kept_keys))
            if batch.num_rows == 0:
                continue
            masked = plan.maskers[name].mask_batch(batch)
            tuples = sql_row_literals(masked, dialect, table=name, blobs=blobs)
            for start in range(0, len(tuples), ROWS_PER_INSERT):
                chunk = tuples.slice(start, ROWS_PER_INSERT)
                out.write(f"INSERT INTO {q(name)} ({columns}) VALUES\n")
                out.write(",\n".join(chunk.to_pylist()))
                out.write(";\n")
            done += batch.num_rows
            if progress:
                progress(name, done, total)
    if progress:
        progress(name, done, total)
    return done


def sql_row_literals(
    batch: pa.RecordBatch, dialect: str, *, table: str = "", blobs: Collection[str] = frozenset()
) -> pa.Array:
    """One '(v1, v2, ...)' string per row; every kept value reads back exactly as it left (type_map.py)."""
    literals = [
        _literals(column, dialect, name in blobs, f"{table}.{name}")
        for name, column in zip(batch.schema.names, batch.columns, strict=True)
    ]
    joined = pc.binary_join_element_wise(*literals, ", ") if len(literals) > 1 else literals[0]
    return pc.binary_join_element_wise(pa.scalar("("), joined, pa.scalar(")"), "")


def _literals(column: pa.Array, dialect: str, blob: bool, where: str) -> pa.Array:
    kind = column.type
    postgres = dialect == "postgresql"
    if pa.types.is_boolean(kind):
        true, false = ("TRUE", "FALSE") if postgres else ("1", "0")
        text = pc.if_else(column, true, false)
    elif pa.types.is_integer(kind) or (pa.types.is_decimal(kind) and postgres):
        text = pc.cast(column, pa.string())
    elif pa.types.is_floating(kind):
        text = _float_literals(column, postgres, where)
    elif blob and not postgres and pa.types.is_string(kind):
        text = pc.binary_join_element_wise("X'", pc.utf8_slice_codeunits(column, 2), "'", "")
    else:  # text; decimals into SQLite's TEXT columns; blobs into bytea as '\x...'; dates and times as ISO text
        if pa.types.is_decimal(kind):
            column = decimal_text(column)
        text = pc.cast(column, pa.string()) if not pa.types.is_string(column.type) else column
        text = pc.binary_join_element_wise("'", pc.replace_substring(text, "'", "''"), "'", "")
    return pc.fill_null(text, "NULL")


def _float_literals(column: pa.Array, postgres: bool, where: str) -> pa.Array:
    """PostgreSQL: '<shortest round-trip text>'::double precision (or ::real), which keeps -0, NaN and infinities.
    SQLite: the double's shortest text, infinities as 9e999 (SQLite's spelling); NaN and -0.0 are refused."""
    if postgres:
        cast = "::real" if pa.types.is_float32(column.type) else "::double precision"
        return pc.binary_join_element_wise("'", pc.cast(column, pa.string()), f"'{cast}", "")
    check_sqlite_floats(column, where)
    text = pc.cast(pc.cast(column, pa.float64()), pa.string())  # a PostgreSQL real widens exactly
    text = pc.replace_substring(text, "inf", "9e999")
    return text
