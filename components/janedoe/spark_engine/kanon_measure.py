"""k-anonymity measurement on Spark: one groupBy builds the equivalence-class frequency table, the driver measures it.

The frequency table (distinct quasi-identifier and sensitive combinations with their record counts) is what
janedoe.k_anonymity measures on one machine too, so both engines run the same measuring code on the same table.
Counts are Spark's exact int64 `count`; the table collected to the driver has one row per combination that occurs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from janedoe.errors import JaneDoeInputError
from janedoe.k_anonymity import FREQUENCY_COLUMN, Measurement, frequency_columns, measure_frequencies

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import Column, DataFrame


def column_reference(name: str) -> Column:
    """A column by its exact name (dots, dashes and backticks in names are not parsed)."""
    from pyspark.sql import functions as F

    return F.col("`" + name.replace("`", "``") + "`")


def spark_class_frequencies(frame: DataFrame, columns: list[str]) -> pa.Table:
    """COLUMNS' distinct combinations (nulls included) with their record counts, collected as an Arrow table: one
    Spark job (a groupBy and its count)."""
    from pyspark.sql import functions as F

    for name in columns:
        if name not in frame.columns:
            raise JaneDoeInputError(f"column '{name}' is not in the table")
    grouped = frame.groupBy(*[column_reference(name) for name in columns])
    return grouped.agg(F.count(F.lit(1)).alias(FREQUENCY_COLUMN)).toArrow()


def spark_measure(
    frame: DataFrame,
    quasi_identifiers: list[str],
    sensitive: list[str] | str | None = None,
    k: int | None = None,
    *,
    recursive_c: float = 3.0,
    risk_threshold: float = 0.2,
) -> Measurement:
    """The Measurement `janedoe.k_anonymity.measure` gives for FRAME's rows (k, class sizes, l, t, risks), from one
    Spark groupBy over the quasi-identifiers and sensitive columns; only the class frequency table reaches the
    driver. Sensitive columns of numeric type are measured with the ordered distance, as on one machine."""
    if not quasi_identifiers:
        raise JaneDoeInputError("at least one quasi-identifier is needed")
    sensitive_columns = [sensitive] if isinstance(sensitive, str) else list(sensitive or [])
    for name in sensitive_columns:
        if name not in frame.columns:
            raise JaneDoeInputError(f"sensitive column '{name}' is not in the table")
    frequencies = spark_class_frequencies(frame, frequency_columns(quasi_identifiers, sensitive_columns))
    return measure_frequencies(
        frequencies, quasi_identifiers, sensitive_columns, k, recursive_c=recursive_c, risk_threshold=risk_threshold
    )
