"""Small-cell suppression and rounding of count columns, as OpenSAFELY's output checkers ask of released counts.

A count below `min_count` becomes null; every other count is rounded to the nearest multiple of `rounding_base`
(halves up). Limits: a total row or column (or a percentage, a mean or a second table cut another way) can let a
reader recompute a suppressed cell, and counts in columns neither declared nor named like counts are left as they
are; both are for the reviewers, who see the checked table with these findings.
"""

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from janedoe.detection import normalize_header
from janedoe.output_checks.identifier_columns import compact_name

COUNT_WORDS = frozenset({"count", "counts", "n", "freq", "frequency", "total", "totals", "num"})


@dataclass(frozen=True)
class CountCells:
    table: pa.Table
    suppressed: int
    rounded: int
    columns: tuple[int, ...]  # positions of the count columns
    missing: tuple[str, ...]  # declared count columns the table does not have
    not_numeric: tuple[str, ...]  # declared count columns that do not hold numbers


def default_count_columns(table: pa.Table) -> list[str]:
    """Integer columns named like counts: count, n, freq, total, num_* (any case, any separator)."""
    return [
        field.name for field in table.schema
        if pa.types.is_integer(field.type) and COUNT_WORDS & set(normalize_header(field.name).split())
    ]


def suppress_and_round(table: pa.Table, declared: tuple[str, ...], min_count: int, base: int) -> CountCells:
    names = list(declared) if declared else default_count_columns(table)
    by_compact = {compact_name(name): i for i, name in enumerate(table.column_names)}
    suppressed = rounded = 0
    positions, missing, not_numeric = [], [], []
    for name in names:
        position = table.column_names.index(name) if name in table.column_names else by_compact.get(compact_name(name))
        if position is None:
            missing.append(name)
            continue
        column = table.column(position)
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type)):
            not_numeric.append(name)
            continue
        values = pc.cast(column, pa.float64())
        small = pc.fill_null(pc.less(values, min_count), False)
        as_multiple = pc.round_to_multiple(values, multiple=base, round_mode="half_up")
        kept = pc.if_else(small, pa.scalar(None, pa.float64()), as_multiple)
        suppressed += pc.sum(small).as_py() or 0
        rounded += pc.sum(pc.fill_null(pc.not_equal(kept, values), False)).as_py() or 0
        table = table.set_column(position, table.field(position), pc.cast(kept, column.type))
        positions.append(position)
    return CountCells(table, suppressed, rounded, tuple(positions), tuple(missing), tuple(not_numeric))
