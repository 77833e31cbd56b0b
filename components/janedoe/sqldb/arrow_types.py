"""Target column types for masked values whose Arrow type the rule changed (kept columns: type_map.py)."""

import pyarrow as pa
import sqlalchemy as sa


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
