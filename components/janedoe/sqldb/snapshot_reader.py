"""Reads tables in Arrow batches from inside ONE read-only transaction, so every table comes from the same snapshot.

PostgreSQL: REPEATABLE READ READ ONLY, rows streamed with COPY (SELECT ...) TO STDOUT and parsed by Arrow's CSV
reader (no per-row Python). SQLite: a read-only URI connection (`mode=ro`) holding one read transaction.
Batches come in primary-key order so an interrupted copy can resume after the last key it wrote.
"""

import select
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.connections import postgres_connect, sqlite_read_only, wrap_driver_error
from janedoe.sqldb.database_url import DatabaseUrl
from janedoe.sqldb.schema_model import TableSchema


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

    def __init__(self, url: DatabaseUrl) -> None:
        self.url = url
        self._conn = None

    def __enter__(self) -> "SnapshotReader":
        if self.url.dialect == "sqlite":
            self._conn = sqlite_read_only(self.url)
            self._conn.execute("BEGIN")
            self._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # takes the read snapshot now
        else:
            self._conn = postgres_connect(self.url, read_only=True)
            self._conn.execute("SELECT 1").fetchone()  # takes the snapshot now
        return self

    def __exit__(self, *exc) -> None:
        try:
            if self._conn is not None:
                self._conn.rollback() if self.url.dialect == "postgresql" else self._conn.execute("ROLLBACK")
        except Exception:  # noqa: BLE001  (closing a reader must not hide the original error)
            pass
        finally:
            if self._conn is not None:
                self._conn.close()

    def count_rows(self, table: str) -> int:
        sql = f"SELECT count(*) FROM {quote_identifier(table)}"
        if self.url.dialect == "sqlite":
            return self._conn.execute(sql).fetchone()[0]
        return self._conn.execute(sql).fetchone()[0]

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
                yield from self._sqlite_batches(sql, schema, batch_size, table.name)
            else:
                yield from self._postgres_batches(sql, schema, batch_size, table.name)
        except (sqlite3.Error, _psycopg_error()) as error:
            raise wrap_driver_error(error, self.url, where=table.name) from None

    def _select_expression(self, table: TableSchema, name: str) -> str:
        column = table.column(name)
        quoted = quote_identifier(name)
        if self.url.dialect == "postgresql" and pa.types.is_timestamp(column.arrow_type) and column.arrow_type.tz:
            return f"({quoted} AT TIME ZONE 'UTC')"
        return quoted

    def _literal(self, value) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, (int, float)):
            return repr(value)
        return "'" + str(value).replace("'", "''") + "'"

    def _sqlite_batches(self, sql: str, schema: pa.Schema, batch_size: int, table: str) -> Iterator[pa.RecordBatch]:
        cursor = self._conn.execute(sql)
        while True:
            rows = cursor.fetchmany(batch_size)
            if not rows:
                return
            # The sqlite3 driver hands over Python rows; transposing them is the one per-row step it forces.
            columns = list(zip(*rows, strict=False))
            arrays = [_to_arrow(list(values), field, table) for values, field in zip(columns, schema, strict=False)]
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)

    def _postgres_batches(self, sql: str, schema: pa.Schema, batch_size: int, table: str) -> Iterator[pa.RecordBatch]:
        # PostgreSQL sends one CopyData message per row, so `batch_size` messages are exactly `batch_size` rows:
        # joined, they make one CSV block for Arrow to parse.
        read_types = {
            f.name: (pa.timestamp("us") if pa.types.is_timestamp(f.type) and f.type.tz else f.type) for f in schema
        }
        read_options = pacsv.ReadOptions(column_names=schema.names, block_size=1 << 26)
        parse_options = pacsv.ParseOptions(newlines_in_values=True)
        convert_options = pacsv.ConvertOptions(
            column_types=read_types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        )

        def parse(rows: list) -> pa.RecordBatch:
            block = pacsv.read_csv(
                pa.BufferReader(b"".join(rows)),
                read_options=read_options,
                parse_options=parse_options,
                convert_options=convert_options,
            )
            return _restore_time_zones(block.combine_chunks().to_batches()[0], schema)

        for rows in _copy_out_blocks(self._conn, f"COPY ({sql}) TO STDOUT (FORMAT csv)", batch_size):
            yield parse(rows)


def _restore_time_zones(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    if batch.schema.equals(schema):
        return batch
    arrays = [col.cast(field.type) for col, field in zip(batch.columns, schema, strict=False)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _to_arrow(values: list, field: pa.Field, table: str) -> pa.Array:
    try:
        return pa.array(values, type=field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        pass
    try:
        inferred = pa.array(values)
        if pa.types.is_integer(inferred.type) and pa.types.is_boolean(field.type):
            return pc.not_equal(inferred, 0)
        return inferred.cast(field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        raise JaneDoeInputError(
            f"values do not match the declared type ({field.type})", where=f"{table}.{field.name}"
        ) from None


def _copy_out_blocks(conn, sql: str, rows_per_block: int) -> Iterator[list[bytes]]:
    """The rows of a COPY ... TO STDOUT, straight from libpq, in lists of `rows_per_block` rows.

    psycopg's `Copy` iterator waits on the socket once per row (one CopyData message is one row), which costs more
    than the server's whole COPY; here rows already buffered by libpq are taken without waiting, and the socket is
    only polled when the buffer is empty. Runs inside the connection's open transaction, like any query on it.
    An abandoned iteration drains the rest, so the connection stays usable.
    """
    from psycopg import errors, pq

    pgconn = conn.pgconn
    pgconn.send_query(sql.encode())
    while pgconn.flush():
        select.select([], [pgconn.socket], [])
    started = _next_result(pgconn)
    if started is None or started.status != pq.ExecStatus.COPY_OUT:
        _drain_results(pgconn, started)
        raise errors.InterfaceError("COPY TO STDOUT did not start")
    done = False
    rows: list[bytes] = []
    try:
        while True:
            size, data = pgconn.get_copy_data(1)
            if size > 0:
                rows.append(bytes(data))
                if len(rows) >= rows_per_block:
                    yield rows
                    rows = []
            elif size == 0:
                select.select([pgconn.socket], [], [])
                pgconn.consume_input()
            elif size == -1:
                break
            else:
                raise errors.OperationalError(pgconn.get_error_message())
        done = True
    finally:
        if not done and pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
            _discard_copy_data(pgconn)
        _drain_results(pgconn, None)
    if rows:
        yield rows  # after the COPY has ended: the connection is free for the caller again


def _discard_copy_data(pgconn) -> None:
    while (size := pgconn.get_copy_data(1)[0]) >= 0:
        if size == 0:
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()


def _next_result(pgconn):
    pgconn.consume_input()
    while pgconn.is_busy():
        select.select([pgconn.socket], [], [])
        pgconn.consume_input()
    return pgconn.get_result()


def _drain_results(pgconn, first) -> None:
    """Read the results up to the end of the query; raise the server's error (as psycopg would) if there is one."""
    from psycopg import errors, pq

    failed = None
    result = first if first is not None else _next_result(pgconn)
    while result is not None:
        if result.status == pq.ExecStatus.FATAL_ERROR and failed is None:
            failed = result
        result = _next_result(pgconn)
    if failed is not None:
        raise errors.error_from_result(failed, encoding="utf-8")


def _psycopg_error():
    import psycopg

    return psycopg.Error
