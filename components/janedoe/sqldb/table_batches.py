"""One table of a database as Arrow record batches, read inside one read-only snapshot (the source is never written).

What a service needs to take a copy of a single table: it registers the table like an uploaded file.
"""

import dataclasses
from collections.abc import Generator

import pyarrow as pa
import sqlalchemy as sa
from janedoe.database_access import DatabaseUrl, parse_database_url
from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.sqldb.reflection import reflect_schema
from janedoe.sqldb.schema_model import TableSchema
from janedoe.sqldb.snapshot_reader import SnapshotReader


def iter_table_batches(
    url: str | DatabaseUrl, table: str, *, batch_size: int = 65_536, connect_timeout: int | None = None
) -> Generator[pa.RecordBatch, None, None]:
    """Batches of at most `batch_size` rows, in primary-key order when the table has one.

    The first batch carries the schema, so an empty table still yields one (empty) batch: a caller can validate and
    open its writer before any row arrives. Errors name the table and the URL without its password.
    """
    if batch_size < 1:
        raise JaneDoeInputError("batch_size must be at least 1", where="batch_size")
    source = _source(url, connect_timeout)
    schema = _table_schema(source, table)
    with SnapshotReader(source) as reader:
        empty = True
        for batch in reader.read_batches(schema, batch_size=batch_size):
            empty = False
            yield batch
        if empty:
            yield pa.RecordBatch.from_pylist([], schema=_read_schema(schema))


def table_row_count(url: str | DatabaseUrl, table: str, *, connect_timeout: int | None = None) -> int:
    """Rows in `table`, counted in one read-only snapshot (progress totals, limits checked before a copy)."""
    source = _source(url, connect_timeout)
    schema = _table_schema(source, table)
    with SnapshotReader(source) as reader:
        return reader.count_rows(schema.name)


def _source(url: str | DatabaseUrl, connect_timeout: int | None) -> DatabaseUrl:
    source = url if isinstance(url, DatabaseUrl) else parse_database_url(url)
    if connect_timeout is not None:
        source = dataclasses.replace(source, connect_timeout=max(1, int(connect_timeout)))
    return source


def _table_schema(source: DatabaseUrl, table: str) -> TableSchema:
    try:
        schema = reflect_schema(source)
    except JaneDoeInputError:  # a ValueError too, and already a clean message
        raise
    except (ValueError, sa.exc.ArgumentError, sa.exc.NoSuchModuleError):  # a URL SQLAlchemy cannot parse
        raise JaneDoeInputError("unusable database URL", where=source.redacted) from None
    if table not in schema.tables:
        raise NotFoundError(f"no table named {table!r} in the database", where=source.redacted)
    return schema.tables[table]


def _read_schema(table: TableSchema) -> pa.Schema:
    """The schema SnapshotReader.read_batches gives its batches (every field nullable)."""
    return pa.schema([pa.field(c.name, c.arrow_type) for c in table.columns])
