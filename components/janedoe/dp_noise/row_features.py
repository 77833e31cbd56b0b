"""What a private query needs of each row, as a small table any engine can aggregate exactly.

Each input row becomes (user, group, value[, square]): the person, the row's group (the index of its public key, or
the key itself when keys are read from the data; null when the row is in no group), and the row's clamped value as an
integer number of grid steps (fixed_point), or for a quantile the index of the first candidate at or above it (null
when the value is missing or NaN). The function is per row, so it gives the same output on a whole table or on any
batch of it: one process and Spark tasks compute exactly the same features, and sum them as integers.
"""

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.dp_noise.fixed_point import grid_bounds, to_grid_units
from janedoe.errors import JaneDoeInputError

QUANTILE_CANDIDATES = 1025
USER, GROUP, VALUE, SQUARE = "user", "group", "value", "square"


def centre(bounds: tuple[float, float], column: str) -> tuple[float, float]:
    """(middle, half range) of the bounds, refused when a mean or variance cannot use them."""
    low, high = bounds
    middle, half_range = low / 2 + high / 2, high / 2 - low / 2  # halves first: no overflow near the float limit
    if half_range == 0:
        raise JaneDoeInputError("bounds must not be equal for mean or variance", where=f"columns.{column}.bounds")
    if not math.isfinite(half_range * half_range):
        raise JaneDoeInputError("bounds are too wide for a variance", where=f"columns.{column}.bounds")
    return middle, half_range


def quantile_candidates(low: float, high: float, integer_typed: bool) -> np.ndarray:
    """The values a quantile can answer: every integer for a short integer range, else an even grid."""
    if integer_typed and float(low).is_integer() and high - low <= 10_000:
        return np.arange(low, high + 1)
    return np.linspace(low, high, QUANTILE_CANDIDATES)


def _numeric(column) -> np.ndarray:
    return np.asarray(pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


@dataclass(frozen=True)
class RowFeatures:
    """The per-row part of a query plan (public parameters only: it is shipped to Spark tasks)."""

    USER: ClassVar[str] = USER  # the output's column names
    GROUP: ClassVar[str] = GROUP
    VALUE: ClassVar[str] = VALUE
    SQUARE: ClassVar[str] = SQUARE
    user_id: str | None
    by: str | None
    column: str | None
    aggregate: str  # count, sum, mean, variance, quantile
    bounds: tuple[float, float] | None
    exponent: int = 0
    square_exponent: int = 0
    integer_typed: bool = False
    categories: tuple | None = None
    categories_as_text: bool = False
    bins: int | None = None
    bin_bounds: tuple[float, float] | None = None

    @property
    def observed_keys(self) -> bool:
        """Whether the group column holds the keys themselves (keys not listed in the policy)."""
        return self.by is not None and not self.categories and not self.bins

    @property
    def input_columns(self) -> list[str]:
        return list(dict.fromkeys(c for c in (self.user_id, self.by, self.column) if c is not None))

    def output_schema(self, input_schema: pa.Schema) -> pa.Schema:
        fields = [pa.field(USER, input_schema.field(self.user_id).type)] if self.user_id else []
        group_type = input_schema.field(self.by).type if self.observed_keys else pa.int64()
        fields.append(pa.field(GROUP, group_type))
        if self.aggregate != "count":
            fields.append(pa.field(VALUE, pa.int64()))
        if self.aggregate == "variance":
            fields.append(pa.field(SQUARE, pa.int64()))
        return pa.schema(fields)

    def compute(self, data: pa.Table | pa.RecordBatch) -> pa.Table:
        """The features of every row of DATA, in its order."""
        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        columns = {USER: table.column(self.user_id)} if self.user_id else {}
        columns[GROUP] = self._groups(table)
        if self.aggregate != "count":
            raw = _numeric(table.column(self.column))
            present = ~np.isnan(raw)
            values, squares = self._values(raw[present])
            columns[VALUE] = _scatter(values, present)
            if squares is not None:
                columns[SQUARE] = _scatter(squares, present)
        return pa.table(columns)

    def _groups(self, table: pa.Table):
        if self.by is None:
            return pa.array(np.zeros(table.num_rows, dtype=np.int64))
        column = table.column(self.by)
        if self.categories:
            if self.categories_as_text:
                codes = pc.index_in(pc.cast(column, pa.string()), value_set=pa.array([str(c) for c in self.categories]))
            else:
                codes = pc.index_in(column, value_set=pa.array(list(self.categories)).cast(column.type))
            return pc.cast(codes, pa.int64())
        if self.bins:
            assert self.bin_bounds is not None  # the plan gives binned groups their bounds
            low, high = self.bin_bounds
            values = _numeric(column)
            edges = np.linspace(low, high, self.bins + 1)
            codes = np.clip(np.searchsorted(edges, np.clip(values, low, high), side="right") - 1, 0, self.bins - 1)
            return pa.array(codes.astype(np.int64), mask=np.isnan(values))
        return column

    def _value_bounds(self) -> tuple[tuple[float, float], str]:
        # The plan gives every aggregate but a count its column and bounds.
        assert self.bounds is not None and self.column is not None, self.aggregate
        return self.bounds, self.column

    def _values(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        bounds, column = self._value_bounds()
        low, high = bounds
        if self.aggregate == "quantile":
            candidates = quantile_candidates(low, high, self.integer_typed)
            return np.searchsorted(candidates, np.clip(raw, low, high), side="left").astype(np.int64), None
        if self.aggregate == "sum":
            return to_grid_units(raw, low, high, self.exponent), None
        middle, half_range = centre(bounds, column)
        units = to_grid_units(np.clip(raw, low, high) - middle, -half_range, half_range, self.exponent)
        if self.aggregate == "mean":
            return units, None
        cap = half_range * half_range
        grid_centred = np.ldexp(units.astype(np.float64), self.exponent)
        return units, to_grid_units(grid_centred * grid_centred, 0.0, cap, self.square_exponent)

    def value_bound(self) -> tuple[int, int]:
        """Bounds on |value| and |square| in grid steps (for exact sums)."""
        if self.aggregate == "sum":
            (low, high), _column = self._value_bounds()
            low_units, high_units = grid_bounds(low, high, self.exponent)
            return max(abs(low_units), abs(high_units)), 0
        if self.aggregate in ("mean", "variance"):
            _middle, half_range = centre(*self._value_bounds())
            cap = half_range * half_range
            square = grid_bounds(0.0, cap, self.square_exponent)[1] if self.aggregate == "variance" else 0
            return grid_bounds(-half_range, half_range, self.exponent)[1], square
        return 0, 0


def _scatter(values: np.ndarray, present: np.ndarray) -> pa.Array:
    out = np.zeros(present.size, dtype=np.int64)
    out[present] = values
    return pa.array(out, mask=~present)
