"""PostgreSQL rows straight into Arrow, through the ADBC driver (libpq + binary COPY, decoded in C++).

A query's result comes as Arrow record batches without a Python object per row or per value: the read side of a
database copy costs about what the server spends producing the rows. Used inside one read-only transaction.
"""

from collections.abc import Iterator

import pyarrow as pa
from janedoe.database_access import DatabaseUrl
from janedoe.errors import JaneDoeInputError

# Session settings that fix the text form of values the reader asks the server to send as text (intervals, arrays).
SESSION_SETTINGS = ("SET TIME ZONE 'UTC'", "SET DateStyle = 'ISO, YMD'", "SET IntervalStyle = 'iso_8601'")


class PostgresReadError(Exception):
    """The server failed while rows were streaming (e.g. a division by zero in a subset condition)."""


def driver_errors() -> tuple[type[Exception], ...]:
    from adbc_driver_manager import dbapi

    return (dbapi.Error, PostgresReadError)


def connect_snapshot(url: DatabaseUrl, scrub, snapshot: str | None = None):
    """An ADBC connection holding a REPEATABLE READ READ ONLY transaction: every later query sees one snapshot
    (`snapshot`, exported by another such transaction, makes it the same snapshot as that one's)."""
    from adbc_driver_postgresql import dbapi

    try:
        conn = dbapi.connect(_with_timeout(url), autocommit=True)
        with conn.cursor() as cursor:
            for statement in SESSION_SETTINGS:
                cursor.execute(statement)
            cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            if snapshot is not None:
                cursor.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            cursor.execute("SELECT 1")  # takes the snapshot now
            cursor.fetchall()
    except dbapi.Error as error:
        raise JaneDoeInputError(f"cannot connect: {scrub(error)}", where=url.redacted) from None
    return conn


def export_snapshot(conn) -> str:
    with conn.cursor() as cursor:
        cursor.execute("SELECT pg_export_snapshot()")
        return cursor.fetchone()[0]


def _with_timeout(url: DatabaseUrl) -> str:
    if "connect_timeout=" in url.conninfo:
        return url.conninfo
    joiner = "&" if "?" in url.conninfo else "?"
    return f"{url.conninfo}{joiner}connect_timeout={url.connect_timeout}"


def query_batches(conn, sql: str, schema: pa.Schema, batch_size: int) -> Iterator[pa.RecordBatch]:
    """The query's rows as batches of exactly `batch_size` rows (the last may be shorter), typed as `schema`."""
    with conn.cursor() as cursor:
        cursor.execute(sql)
        reader = cursor.fetch_record_batch()
        held: list[pa.RecordBatch] = []
        held_rows = 0
        try:
            for batch in reader:
                batch = conform(batch, schema)
                while batch.num_rows:
                    take = min(batch_size - held_rows, batch.num_rows)
                    held.append(batch.slice(0, take))
                    held_rows += take
                    batch = batch.slice(take)
                    if held_rows == batch_size:
                        yield _joined(held, schema)
                        held, held_rows = [], 0
            if held_rows:
                yield _joined(held, schema)
        except OSError as error:  # how the driver's stream reports a server error
            raise PostgresReadError(server_message(error)) from None
        finally:
            reader.close()


def server_message(error: Exception) -> str:
    """The server's own message from a driver error, without the driver's prefixes and context lines."""
    text = str(error)
    text = text.split("ERROR:", 1)[1] if "ERROR:" in text else text
    for marker in ("DETAIL:", "CONTEXT:", "SQLSTATE"):  # DETAIL may quote a row's values: never passed on
        text = text.split(marker, 1)[0]
    return " ".join(text.split()) or type(error).__name__


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Columns cast to the reflected types: numeric text to decimals, UTC timestamps back to time-zone-aware ones."""
    arrays = []
    for column, field in zip(batch.columns, schema, strict=True):
        if isinstance(column, pa.ExtensionArray):
            column = column.storage  # a type the driver passes through as its text (e.g. numeric)
        if column.type != field.type:
            column = column.cast(field.type)
        arrays.append(column)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _joined(parts: list[pa.RecordBatch], schema: pa.Schema) -> pa.RecordBatch:
    return parts[0] if len(parts) == 1 else pa.concat_batches(parts)


def text_expression(quoted: str, arrow_type: pa.DataType) -> str:
    """What to select for a column so the driver's Arrow type can be cast exactly to `arrow_type`.

    Columns that travel as text (uuid, json, enums, arrays, unbounded numeric...) and decimals are sent as their text
    form; timestamps with a time zone as UTC wall time.
    """
    if pa.types.is_string(arrow_type) or pa.types.is_decimal(arrow_type):
        return f"{quoted}::text"
    if pa.types.is_timestamp(arrow_type) and arrow_type.tz:
        return f"({quoted} AT TIME ZONE 'UTC')"
    return quoted
