"""Loading batches into PostgreSQL with binary COPY through ADBC, for tables whose every column has an exact binary
form in Arrow; the server then skips parsing text, which is most of its work during a load.

Binary COPY needs each value in the column type's own wire format: an int4 column takes exactly 4 bytes, a uuid 16,
a jsonb a version byte. So a table goes this way only when every column's SQL type is in the map below; any other
type (uuid, json, arrays, intervals, enums, bytea, unbounded numeric...) travels as text, and its table is loaded
with text COPY instead.
"""

import pyarrow as pa
import sqlalchemy as sa
from janedoe.errors import JaneDoeInputError
from janedoe.sqldb.database_url import DatabaseUrl
from janedoe.sqldb.postgres_arrow import server_message

_TEXT_TYPES = (sa.TEXT, sa.VARCHAR, sa.CHAR, sa.Text, sa.String)
_INTEGER_TYPES = {sa.SMALLINT: pa.int16(), sa.SmallInteger: pa.int16(), sa.INTEGER: pa.int32(),
                  sa.Integer: pa.int32(), sa.BIGINT: pa.int64(), sa.BigInteger: pa.int64()}


def binary_schema(table: sa.Table, schema: pa.Schema) -> pa.Schema | None:
    """The Arrow schema a batch must be cast to for binary COPY into `table`, or None when a column has no exact
    binary form."""
    fields = []
    for field in schema:
        arrow_type = _binary_type(table.c[field.name].type, field.type)
        if arrow_type is None:
            return None
        fields.append(pa.field(field.name, arrow_type))
    return pa.schema(fields)


def _binary_type(sql_type: sa.types.TypeEngine, arrow_type: pa.DataType) -> pa.DataType | None:
    kind = type(sql_type)
    if kind in _TEXT_TYPES:
        return pa.string() if pa.types.is_string(arrow_type) else None
    if kind in _INTEGER_TYPES:
        return _INTEGER_TYPES[kind] if pa.types.is_integer(arrow_type) else None
    if kind in (sa.BOOLEAN, sa.Boolean):
        return pa.bool_() if pa.types.is_boolean(arrow_type) else None
    if kind in (sa.REAL,):
        return pa.float32() if pa.types.is_floating(arrow_type) else None
    if kind in (sa.DOUBLE_PRECISION, sa.DOUBLE, sa.Double, sa.FLOAT, sa.Float):
        return pa.float64() if pa.types.is_floating(arrow_type) else None
    if kind in (sa.NUMERIC, sa.Numeric, sa.DECIMAL):
        same = pa.types.is_decimal(arrow_type) and (arrow_type.precision, arrow_type.scale) == (
            sql_type.precision, sql_type.scale or 0)
        return arrow_type if same else None
    if kind in (sa.DATE, sa.Date):
        return pa.date32() if pa.types.is_date32(arrow_type) else None
    if kind in (sa.TIMESTAMP, sa.DateTime):
        return arrow_type if pa.types.is_timestamp(arrow_type) and arrow_type.unit == "us" else None
    if kind in (sa.TIME, sa.Time) and not getattr(sql_type, "timezone", False):
        return arrow_type if arrow_type == pa.time64("us") else None
    return None


def connect_loader(url: DatabaseUrl, scrub):
    """An ADBC connection for loading: each batch and its resume state commit together."""
    from adbc_driver_postgresql import dbapi

    try:
        return dbapi.connect(url.conninfo, autocommit=False)
    except dbapi.Error as error:
        raise JaneDoeInputError(f"cannot connect: {scrub(error)}", where=url.redacted) from None


def load_batch(conn, table: str, batch: pa.RecordBatch, state_sql: str, state_params: tuple) -> None:
    """Rows by binary COPY, then the state update, in one transaction; a server error names the table."""
    from adbc_driver_manager import dbapi

    try:
        with conn.cursor() as cursor:
            if batch.num_rows:
                cursor.adbc_ingest(table, batch, mode="append")
            cursor.execute(state_sql, state_params)
        conn.commit()
    except dbapi.Error as error:
        conn.rollback()
        raise JaneDoeInputError(f"the target refused the rows: {server_message(error)}", where=table) from None
