"""`generalize` with `as: range` into PostgreSQL: the column a copy creates gets a real range type, so the masked
values can be queried as ranges (`@>`, `&&`, `lower()`); other targets keep the range literals as text."""

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def postgres_range_type(rule, source_type: pa.DataType) -> sa.types.TypeEngine | None:
    """int4range / int8range / numrange for numbers, daterange / tsrange / tstzrange for dates (and dates in text),
    as PostgreSQL Anonymizer's generalize_* functions return; None when the rule writes no range."""
    from janedoe.policy import GeneralizeRule

    if not isinstance(rule, GeneralizeRule) or rule.as_ != "range" or rule.when is not None:
        return None  # a conditional rule keeps the other rows' values: they are no ranges
    if rule.step is not None:
        if pa.types.is_integer(source_type) and float(rule.step).is_integer():
            fits_int4 = source_type.bit_width < 32 or (
                source_type.bit_width == 32 and pa.types.is_signed_integer(source_type))
            return postgresql.INT4RANGE() if fits_int4 else postgresql.INT8RANGE()
        return postgresql.NUMRANGE()
    if pa.types.is_timestamp(source_type):
        return postgresql.TSTZRANGE() if source_type.tz is not None else postgresql.TSRANGE()
    if pa.types.is_date(source_type) or pa.types.is_string(source_type) or pa.types.is_large_string(source_type):
        return postgresql.DATERANGE()
    return None
