"""Reads tables in Arrow batches from inside ONE read-only transaction, so every table comes from the same snapshot.

PostgreSQL: REPEATABLE READ READ ONLY, rows streamed as Arrow batches by the ADBC driver (binary COPY decoded in
C++: no per-row Python). SQLite: a read-only URI connection (`mode=ro`) holding one read transaction.
Batches come in primary-key order so an interrupted copy can resume after the last key it wrote.
"""

import datetime as dt
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from janedoe.database_access import DatabaseUrl
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.connections import sqlite_read_only, wrap_driver_error
from janedoe.sqldb.postgres_arrow import (
    connect_snapshot,
    driver_errors,
    export_snapshot,
    query_batches,
    text_expression,
)
from janedoe.sqldb.schema_model import TableSchema
from janedoe.sqldb.type_map import is_blob


@dataclass
class ExtraColumn:
    """A computed column read alongside the table's own (e.g. a subset condition as 0/1)."""

    sql: str
    name: str
    arrow_type: pa.DataType


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SnapshotReader:
    """Use as a context manager; the transaction ends (rolled back: it never wrote) on exit."""

    def __init__(self, url: DatabaseUrl, snapshot: str | None = None) -> None:
        """`snapshot`: a PostgreSQL snapshot exported by another reader (`export_snapshot`), to read the same data."""
        self.url = url
        self._snapshot = snapshot
        self._conn: Any = None  # sqlite3's or psycopg's connection: each dialect's branch uses its own driver's API

    def __enter__(self) -> "SnapshotReader":
        if self.url.dialect == "sqlite":
            self._conn = sqlite_read_only(self.url)
            self._conn.execute("BEGIN")
            self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the read snapshot now
        else:
            self._conn = connect_snapshot(self.url, lambda error: wrap_driver_error(error, self.url), self._snapshot)
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._conn is not None:
                if self.url.dialect == "postgresql":
                    with self._conn.cursor() as cursor:
                        cursor.execute("ROLLBACK")
                else:
                    self._conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001  (closing a reader must not hide the original error)
            pass
        finally:
            if self._conn is not None:
                self._conn.close()

    def export_snapshot(self) -> str | None:
        """PostgreSQL: an id other readers can open this reader's snapshot with, while it stays open."""
        return export_snapshot(self._conn) if self.url.dialect == "postgresql" else None

    def count_rows(self, table: str) -> int:
        sql = f"SELECT count(*) FROM {quote_identifier(table)}"
        if self.url.dialect == "sqlite":
            return self._conn.execute(sql).fetchone()[0]
        with self._conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchone()[0]

    def read_batches(
        self,
        table: TableSchema,
        *,
        columns: list[str] | None = None,
        batch_size: int = 10_000,
        after_key: list | None = None,
        up_to_key: list | None = None,
        extra: list[ExtraColumn] | None = None,
        where: str | None = None,
        limit: int | None = None,
    ) -> Iterator[pa.RecordBatch]:
        columns = columns if columns is not None else table.column_names
        extra = extra or []
        conditions = [f"({where})"] if where else []
        if after_key is not None:
            key = ", ".join(quote_identifier(c) for c in table.primary_key)
            conditions.append(f"({key}) > ({', '.join(self._literal(v) for v in after_key)})")
        if up_to_key is not None:
            key = ", ".join(quote_identifier(c) for c in table.primary_key)
            conditions.append(f"({key}) <= ({', '.join(self._literal(v) for v in up_to_key)})")
        order = ", ".join(quote_identifier(c) for c in table.primary_key)
        fields = [pa.field(c, table.column(c).arrow_type) for c in columns] + [
            pa.field(e.name, e.arrow_type) for e in extra
        ]
        schema = pa.schema(fields)
        selected = [self._select_expression(table, c) for c in columns] + [f"({e.sql}) AS {e.name}" for e in extra]
        sql = f"SELECT {', '.join(selected) or '1'} FROM {quote_identifier(table.name)}"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        if order:
            sql += f" ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        try:
            if self.url.dialect == "sqlite":
                blobs = [is_blob(table.column(c).sql_type) for c in columns] + [False] * len(extra)
                yield from self._sqlite_batches(sql, schema, batch_size, table.name, blobs)
            else:
                yield from self._postgres_batches(sql, schema, batch_size)
        # driver_errors() imports the PostgreSQL driver only once an error is caught; mypy cannot type a starred tuple
        except (sqlite3.Error, *driver_errors()) as error:  # type: ignore[misc]
            raise wrap_driver_error(error, self.url, where=table.name) from None

    def _select_expression(self, table: TableSchema, name: str) -> str:
        column = table.column(name)
        quoted = quote_identifier(name)
        return text_expression(quoted, column.arrow_type) if self.url.dialect == "postgresql" else quoted

    def _literal(self, value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    def _sqlite_batches(
        self, sql: str, schema: pa.Schema, batch_size: int, table: str, blobs: list[bool]
    ) -> Iterator[pa.RecordBatch]:
        cursor = self._conn.execute(sql)
        while True:
            rows = cursor.fetchmany(batch_size)
            if not rows:
                return
            # The sqlite3 driver hands over Python rows; transposing them is the one per-row step it forces.
            columns = list(zip(*rows, strict=False))
            arrays = [
                _to_arrow(list(values), field, table, blob)
                for values, field, blob in zip(columns, schema, blobs, strict=False)
            ]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    def _postgres_batches(self, sql: str, schema: pa.Schema, batch_size: int) -> Iterator[pa.RecordBatch]:
        yield from query_batches(self._conn, sql, schema, batch_size)


def _to_arrow(values: list, field: pa.Field, table: str, blob: bool) -> pa.Array:
    """SQLite's values as the column's transit type, exactly: numbers bound for text or decimals go through their
    exact text (repr of a double is its shortest round-trip form), and a value that does not fit is refused."""
    kind = field.type
    if pa.types.is_string(kind) and not blob:
        try:
            return pa.array(values, type=kind)  # all text: the common case, converted in C
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            pass
    if blob or pa.types.is_string(kind) or pa.types.is_decimal(kind):
        try:
            values = [_exact_text(value, blob) for value in values]
            return pa.array(values, type=pa.string()).cast(kind) if pa.types.is_decimal(kind) else pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as error:
            raise JaneDoeInputError(
                f"a value cannot be carried exactly as {_declared(kind, blob)}: {str(error).splitlines()[0]}",
                where=f"{table}.{field.name}",
            ) from None
    try:
        return pa.array(values, type=kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    try:
        if pa.types.is_time(kind):  # Arrow has no text-to-time cast
            return pa.array([v if v is None else dt.time.fromisoformat(v) for v in values], type=kind)
        inferred = pa.array(values)
        if pa.types.is_integer(inferred.type) and pa.types.is_boolean(field.type):
            return pc.not_equal(inferred, 0)
        return inferred.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
        raise JaneDoeInputError(
            f"values do not match the declared type ({field.type})", where=f"{table}.{field.name}"
        ) from None


def _exact_text(value, blob: bool) -> str | None:
    if value is None:
        return None
    if blob:
        if not isinstance(value, bytes):
            raise TypeError(f"a {type(value).__name__} in a BLOB column")
        return "\\x" + value.hex()
    if isinstance(value, bytes):
        raise TypeError("a BLOB in a column that is not one")
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _declared(kind: pa.DataType, blob: bool) -> str:
    if blob:
        return "BLOB"
    if pa.types.is_decimal(kind):
        return f"NUMERIC({kind.precision}, {kind.scale})"
    return "text"
