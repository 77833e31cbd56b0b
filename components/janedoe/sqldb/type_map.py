"""The type map: what a column is while its values pass through the masking engine, and what it becomes in the
target, for every pair of engines (the table in README.md, "Types"). A kept column must arrive exactly as it left.

Same engine: the source's own declared type. SQLite -> PostgreSQL: every SQLite integer is 8 bytes (bigint), every
SQLite real is a double (double precision, never the 4-byte `real`), declared lengths are dropped (SQLite never
enforced them: text). PostgreSQL -> SQLite: what SQLite has no type for (numeric, uuid, json, arrays, enums,
intervals, time-zone-aware timestamps...) is stored as TEXT holding PostgreSQL's own text form, exactly.
A column whose type cannot be named in the target (no declared type in SQLite, a composite or domain type in
PostgreSQL) is refused, naming the table and the column.
"""

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from janedoe.errors import JaneDoeInputError
from sqlalchemy.dialects import postgresql


def transit_type(sql_type: sa.types.TypeEngine, dialect: str) -> pa.DataType:
    """The Arrow type of a column's values between source and target.

    Types Arrow cannot hold exactly (unbounded numeric, uuid, json, arrays, intervals, enums...) travel as their text
    form, and blobs as PostgreSQL's bytea text (`\\x` and hex digits), which both writers turn back into values.
    SQLite stores every integer and real in 8 bytes; PostgreSQL's widths are kept so masked keys still fit."""
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
    if isinstance(sql_type, sa.Float):
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


def is_blob(sql_type: sa.types.TypeEngine) -> bool:
    return isinstance(sql_type, sa.LargeBinary)


def kept_type(table: str, column: str, sql_type: sa.types.TypeEngine, source: str, target: str) -> sa.types.TypeEngine:
    """The target column type for values of `sql_type` in a `source` database, carried unchanged."""
    if isinstance(sql_type, sa.types.NullType):
        raise JaneDoeInputError(
            "the column's type cannot be carried exactly (no declared type in SQLite, or a PostgreSQL type such as a"
            " composite or domain that janedoe does not map): declare a type, or leave the table out with --tables",
            where=f"{table}.{column}",
        )
    if source == target:
        return sql_type
    if source == "sqlite":
        return _sqlite_to_postgres(sql_type)
    return _postgres_to_sqlite(sql_type)


def _sqlite_to_postgres(sql_type: sa.types.TypeEngine) -> sa.types.TypeEngine:
    if isinstance(sql_type, sa.Boolean):
        return sa.Boolean()
    if isinstance(sql_type, sa.Integer):
        return sa.BigInteger()
    if isinstance(sql_type, sa.Float):
        return postgresql.DOUBLE_PRECISION()
    if isinstance(sql_type, sa.Numeric):
        if sql_type.precision and sql_type.precision <= 38:  # values were checked to fit when read
            return sa.Numeric(sql_type.precision, sql_type.scale or 0)
        return sa.Numeric()
    if isinstance(sql_type, sa.DateTime):
        return sa.DateTime()
    if isinstance(sql_type, sa.Date):
        return sa.Date()
    if isinstance(sql_type, sa.Time):
        return sa.Time()
    if is_blob(sql_type):
        return postgresql.BYTEA()
    if isinstance(sql_type, sa.JSON):
        return postgresql.JSON()  # json keeps the text as written; jsonb would reorder and deduplicate keys
    return sa.Text()


def _postgres_to_sqlite(sql_type: sa.types.TypeEngine) -> sa.types.TypeEngine:
    if isinstance(sql_type, sa.Boolean):
        return sa.Boolean()
    if isinstance(sql_type, sa.BigInteger):
        return sa.BigInteger()
    if isinstance(sql_type, sa.Integer):
        return sa.Integer()
    if isinstance(sql_type, sa.Float):
        return sa.REAL()  # 8 bytes in SQLite: a PostgreSQL real widens exactly
    if isinstance(sql_type, sa.DateTime) and not getattr(sql_type, "timezone", False):
        return sa.DateTime()
    if isinstance(sql_type, sa.Date):
        return sa.Date()
    if isinstance(sql_type, sa.Time) and not getattr(sql_type, "timezone", False):
        return sa.Time()
    if is_blob(sql_type):
        return sa.LargeBinary()
    return sa.Text()  # numeric (SQLite would round it to a double), uuid, json, arrays, enums, timestamptz...


def enum_types(metadata: sa.MetaData) -> list[tuple[str, tuple[str, ...]]]:
    """PostgreSQL enum types the target's columns use, (name, labels), each once, so a copy or dump can create them."""
    found: dict[str, tuple[str, ...]] = {}
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, postgresql.ENUM) and column.type.name:
                found.setdefault(column.type.name, tuple(column.type.enums))
    return list(found.items())


def check_sqlite_floats(values: pa.Array, where: str) -> None:
    """SQLite stores NaN as NULL and -0.0 as 0.0: a column holding either is refused rather than changed."""
    if not pa.types.is_floating(values.type) or len(values) == 0:
        return
    nan = pc.any(pc.is_nan(values)).as_py()
    negative_zero = pc.any(pc.and_(pc.equal(values, 0), pc.less(pc.divide(1.0, values), 0))).as_py()
    if nan or negative_zero:
        raise JaneDoeInputError(
            f"holds {'NaN' if nan else '-0.0'}, which SQLite cannot store (it keeps NULL or 0.0):"
            " the value cannot be carried exactly, so the copy is refused",
            where=where,
        )


def blob_values(hex_text: pa.Array, where: str) -> list[bytes | None]:
    """Blobs back from their transit form (`\\x` and hex digits) for SQLite's driver."""
    try:
        return [None if text is None else _hex_bytes(text) for text in hex_text.to_pylist()]
    except ValueError:
        raise JaneDoeInputError("a masked value is not a blob (\\x and hex digits)", where=where) from None


def _hex_bytes(text: str) -> bytes:
    if not text.startswith("\\x"):
        raise ValueError(text[:2])
    return bytes.fromhex(text[2:])


def decimal_text(values: pa.Array) -> pa.Array:
    """Decimals as PostgreSQL prints them (every digit of the scale, never an exponent), for SQLite's TEXT."""
    return pa.array([None if d is None else format(d, "f") for d in values.to_pylist()], type=pa.string())
