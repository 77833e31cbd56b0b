"""What `default: null` (privacy by default) writes into a NOT NULL column: the column's own default when it is a
plain literal, else a neutral value of the column's type (0, '', false, 1970-01-01, the nil UUID, {}, 0.0.0.0, an
empty range...), so the target's NOT NULL constraint holds and no source value is carried. `db copy` and
`db anonymize` (in place) both use it."""

import datetime as dt
import re

import pyarrow as pa
import sqlalchemy as sa
from janedoe.policy import ConstantRule
from janedoe.sqldb.schema_model import ColumnSchema
from sqlalchemy.dialects import postgresql

# 'text', 'text'::type, 42, -1.5, (0)::numeric, true: defaults that are a value, not an expression such as now()
_QUOTED = re.compile(r"^\(?'((?:[^']|'')*)'\)?(::[\w .\"\[\]()]+)?$")
_NUMBER = re.compile(r"^\(?(-?\d+(?:\.\d+)?)\)?(::[\w .\"]+)?$")


def not_null_rule(column: ColumnSchema) -> ConstantRule:
    """A constant rule for a NOT NULL column the policy's `default: null` would otherwise leave empty."""
    return ConstantRule(mask="constant", value=_default_value(column) if column.default else _neutral(column))


def _default_value(column: ColumnSchema):
    text = (column.default or "").strip()  # called only for a column with a default
    match = _QUOTED.match(text) or _NUMBER.match(text)
    literal = match.group(1).replace("''", "'") if match else None
    if literal is None and text.lower() in ("true", "false"):
        literal = text.lower()
    if literal is None:
        return _neutral(column)
    kind = column.arrow_type
    if pa.types.is_string(kind):
        return literal
    try:
        value = pa.scalar(literal).cast(kind).as_py()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return _neutral(column)
    if pa.types.is_decimal(kind):
        return literal  # the rule's value cannot be a Decimal; its text is cast back exactly
    return _neutral(column) if isinstance(value, dt.time) else value


def _neutral(column: ColumnSchema):
    kind, sql_type = column.arrow_type, column.sql_type
    if pa.types.is_boolean(kind):
        return False
    if pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        return 0
    if pa.types.is_floating(kind):
        return 0.0
    if pa.types.is_timestamp(kind):
        return dt.datetime(1970, 1, 1, tzinfo=dt.UTC if kind.tz else None)
    if pa.types.is_date(kind):
        return dt.date(1970, 1, 1)
    if pa.types.is_time(kind):
        return dt.datetime(1970, 1, 1)  # the rule's value cannot be a time; midnight is cast from it
    if isinstance(sql_type, sa.Enum) and sql_type.enums:
        return sql_type.enums[0]
    if isinstance(sql_type, sa.Uuid):
        return "00000000-0000-0000-0000-000000000000"
    if isinstance(sql_type, sa.JSON):
        return "{}"
    if isinstance(sql_type, sa.ARRAY):
        return "{}"
    if isinstance(sql_type, sa.LargeBinary):
        return "\\x"
    if isinstance(sql_type, postgresql.INTERVAL):
        return "PT0S"
    if isinstance(sql_type, sa.Time):  # with a time zone (without one it is a time above)
        return "00:00:00+00"
    postgres_text = _postgres_neutral_text(sql_type)
    if postgres_text is not None:
        return postgres_text
    if isinstance(sql_type, sa.Numeric):
        return "0"
    return ""


def _postgres_neutral_text(sql_type) -> str | None:
    """PostgreSQL types whose text form has no empty value: the all-zero address, bits, or an empty range."""
    if isinstance(sql_type, postgresql.ranges.AbstractMultiRange):
        return "{}"
    if isinstance(sql_type, postgresql.ranges.AbstractRange):
        return "empty"
    if isinstance(sql_type, postgresql.BIT):
        return "" if sql_type.varying else "0" * (sql_type.length or 1)
    for kind, text in _ZERO_ADDRESSES:
        if isinstance(sql_type, kind):
            return text
    return None


_ZERO_ADDRESSES = (
    (postgresql.CIDR, "0.0.0.0/32"),
    (postgresql.INET, "0.0.0.0"),
    (postgresql.MACADDR8, "00:00:00:00:00:00:00:00"),
    (postgresql.MACADDR, "00:00:00:00:00:00"),
    (postgresql.OID, "0"),
)
