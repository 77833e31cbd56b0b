"""SQL column types <-> Arrow types: what a batch column is while it passes through the masking engine.

Types Arrow cannot hold exactly (unbounded numeric, uuid, json, arrays, intervals, bytea...) travel as their text form,
which both engines parse back on load, so a `keep` column round-trips exactly.
"""

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def arrow_type_for(sql_type: sa.types.TypeEngine, dialect: str) -> pa.DataType:
    """SQLite stores every integer and real in 8 bytes; PostgreSQL's widths are kept so masked keys still fit."""
    sqlite = dialect == "sqlite"
    if isinstance(sql_type, sa.Boolean):
        return pa.bool_()
    if isinstance(sql_type, sa.SmallInteger):
        return pa.int64() if sqlite else pa.int16()
    if isinstance(sql_type, sa.BigInteger):
        return pa.int64()
    if isinstance(sql_type, sa.Integer):
        return pa.int64() if sqlite else pa.int32()
    if isinstance(sql_type, sa.REAL) and not sqlite:
        return pa.float32()
    if isinstance(sql_type, (postgresql.DOUBLE_PRECISION, sa.Float)):
        return pa.float64()
    if isinstance(sql_type, sa.Numeric):
        precision, scale = sql_type.precision, sql_type.scale
        if precision and precision <= 38:
            return pa.decimal128(precision, scale or 0)
        return pa.string()
    if isinstance(sql_type, sa.DateTime):
        return pa.timestamp("us", tz="UTC") if getattr(sql_type, "timezone", False) else pa.timestamp("us")
    if isinstance(sql_type, sa.Date):
        return pa.date32()
    if isinstance(sql_type, sa.Time) and not getattr(sql_type, "timezone", False):
        return pa.time64("us")
    return pa.string()


def sql_type_for(arrow_type: pa.DataType) -> sa.types.TypeEngine:
    """The target column type for a column whose masked values changed type (e.g. an integer id masked by `hash`)."""
    if pa.types.is_boolean(arrow_type):
        return sa.Boolean()
    if pa.types.is_int16(arrow_type) or pa.types.is_int8(arrow_type):
        return sa.SmallInteger()
    if pa.types.is_int32(arrow_type):
        return sa.Integer()
    if pa.types.is_integer(arrow_type):
        return sa.BigInteger()
    if pa.types.is_floating(arrow_type):
        return sa.Double()
    if pa.types.is_decimal(arrow_type):
        return sa.Numeric(arrow_type.precision, arrow_type.scale)
    if pa.types.is_timestamp(arrow_type):
        return sa.DateTime(timezone=arrow_type.tz is not None)
    if pa.types.is_date(arrow_type):
        return sa.Date()
    if pa.types.is_time(arrow_type):
        return sa.Time()
    return sa.Text()


def same_storage(a: pa.DataType, b: pa.DataType) -> bool:
    """Whether values of arrow type `b` can go into a column that was created for arrow type `a`."""
    if a == b:
        return True
    return pa.types.is_integer(a) and pa.types.is_integer(b)
