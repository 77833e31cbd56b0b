"""Public column domains: every column becomes a small set of cells, declared in the policy and never read from data.

Categorical columns take their cells from declared categories (booleans need no declaration); integer, float and
temporal columns are cut into bins between declared bounds. Records that do not fit are handled per record (which
costs no privacy), never by an error: the fit is charged before the data is read, so no single record may decide
whether it succeeds.

Bins are equal-width between the bounds ("uniform"), or, with discretize="private", chosen from a noisy histogram
on a fine equal-width grid (dp_binning.py measures it, from the synthesizer's own budget): such a column has `grid`
fine cells, `bin_starts` (the first grid cell of each bin) and `grid_weights` (the noisy fine distribution that
values are drawn from inside a bin, within_bin.py). Explicit `bins:` in a column's declaration are always uniform,
and an integer column with at most DEFAULT_INTEGER_BINS values (or private_bins, if more) keeps one cell per value,
as with uniform bins: neither costs privacy. So private bins only replace equal-width bins that would merge values.

Values outside the bounds are clipped to them; NaN counts as missing; a record with a value outside its column's
declared categories, or missing where the column is not declared nullable, is dropped.
"""

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError
from janedoe.synthetic.within_bin import draw_grid_cells

DEFAULT_FLOAT_BINS = 32
DEFAULT_INTEGER_BINS = 64
DISCRETIZE_MODES = ("private", "uniform")
DEFAULT_PRIVATE_BINS = 16  # bins of roughly equal noisy mass per private-binned column (see dp_binning.py)
PRIVATE_GRID_CELLS = 1024  # the fine equal-width grid the noisy histogram is measured on (fewer for short integers)


@dataclass(frozen=True)
class ColumnDomain:
    """One column's cells. kind: "category" (cells are categories) or "integer"/"float" (cells are bins).

    grid > 0: privately chosen bins over `grid` equal-width fine cells; bin_starts and grid_weights are None until
    measured (dp_binning.measure_private_bins), and such a column cannot be encoded before.
    """

    name: str
    kind: str
    arrow_type: pa.DataType
    cells: int
    categories: pa.Array | None = None
    low: float = 0.0
    high: float = 0.0
    nullable: bool = False
    grid: int = 0
    bin_starts: tuple[int, ...] | None = None
    grid_weights: tuple[float, ...] | None = None

    @property
    def needs_private_bins(self) -> bool:
        return self.grid > 0 and self.bin_starts is None

    @property
    def grid_domain(self) -> "ColumnDomain":
        """The fine grid as an equal-width column (its cells are the grid's)."""
        return replace(self, cells=self.grid, grid=0, bin_starts=None, grid_weights=None)

    @property
    def size(self) -> int:
        """Number of cells including the trailing null cell of a nullable column."""
        return self.cells + int(self.nullable)


@dataclass(frozen=True)
class Domain:
    columns: tuple[ColumnDomain, ...]

    @property
    def names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def sizes(self) -> list[int]:
        return [column.size for column in self.columns]


def _field(spec, name: str):
    if spec is None:
        return None
    if isinstance(spec, Mapping):
        return spec.get(name)
    return getattr(spec, name, None)


def _is_temporal(arrow_type: pa.DataType) -> bool:
    return pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type)


def _temporal_storage(arrow_type: pa.DataType) -> pa.DataType:
    return pa.int32() if pa.types.is_date32(arrow_type) else pa.int64()


def _bound_as_number(value, arrow_type: pa.DataType, where: str) -> float:
    """Bounds of temporal columns are ISO strings; they become the column's integer storage (days or time units)."""
    if _is_temporal(arrow_type):
        text = pa.array([value]).cast(pa.string())
        # a zoned column (Spark's timestamps are UTC-zoned) reads a bound without an offset as UTC wall time
        types = [arrow_type, pa.timestamp(arrow_type.unit)] if getattr(arrow_type, "tz", None) else [arrow_type]
        for candidate in types:
            try:
                scalar = text.cast(candidate)
                break
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
                failure = error
        else:
            raise JaneDoeInputError("a bound is not a date or timestamp in ISO form", where=where) from failure
        return float(scalar.cast(_temporal_storage(arrow_type))[0].as_py())
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError as error:
            raise JaneDoeInputError("a bound is not a number", where=where) from error
    return float(value)


def column_domain(name: str, arrow_type: pa.DataType, spec, *, discretize: str = "uniform",
                  private_bins: int = DEFAULT_PRIVATE_BINS) -> ColumnDomain:
    """The declared domain of one column; `spec` has bounds/categories/bins/nullable (a policy column or a dict).

    discretize="private": a numeric or temporal column without explicit bins gets `private_bins` bins to be measured.
    """
    where = f"columns.{name}"
    nullable = bool(_field(spec, "nullable") or False)
    categories = _field(spec, "categories")
    bounds = _field(spec, "bounds")
    bins = _field(spec, "bins")
    if categories is None and bounds is None and pa.types.is_boolean(arrow_type):
        categories = [False, True]
    if categories is not None:
        if len(categories) < 2:
            raise JaneDoeInputError("a synthetic column needs at least two declared categories", where=where)
        try:
            values = pa.array(list(categories)).cast(arrow_type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as error:
            raise JaneDoeInputError("declared categories do not match the column's type", where=where) from error
        if len(pc.unique(values)) != len(values):
            raise JaneDoeInputError("declared categories repeat a value", where=where)
        return ColumnDomain(name, "category", arrow_type, len(values), categories=values, nullable=nullable)
    if bounds is None:
        raise JaneDoeInputError("a synthetic column needs declared bounds or categories", where=where)
    is_integer = pa.types.is_integer(arrow_type) or _is_temporal(arrow_type)
    if not (is_integer or pa.types.is_floating(arrow_type)):
        raise JaneDoeInputError("bounds need a numeric, date or timestamp column; declare categories", where=where)
    low, high = (_bound_as_number(bound, arrow_type, where) for bound in bounds)
    if not np.isfinite(low) or not np.isfinite(high) or high < low:
        raise JaneDoeInputError("bounds must be finite with low <= high", where=where)
    grid = 0
    if is_integer:
        low, high = float(np.ceil(low)), float(np.floor(high))
        span = int(high - low) + 1
        if discretize == "private" and not bins and span > max(private_bins, DEFAULT_INTEGER_BINS):
            cells, grid = private_bins, min(PRIVATE_GRID_CELLS, span)
        else:
            cells = min(int(bins) if bins else DEFAULT_INTEGER_BINS, span)
    elif discretize == "private" and not bins:
        cells, grid = private_bins, PRIVATE_GRID_CELLS
    else:
        cells = int(bins) if bins else DEFAULT_FLOAT_BINS
    if cells < 2 or high == low:
        raise JaneDoeInputError("bounds leave a single value: a constant column carries no information", where=where)
    return ColumnDomain(name, "integer" if is_integer else "float", arrow_type, cells, low=low, high=high,
                        nullable=nullable, grid=grid)


def build_domain(schema: pa.Schema, specs: Mapping, *, discretize: str = "uniform",
                 private_bins: int = DEFAULT_PRIVATE_BINS) -> Domain:
    """A Domain for every column of `schema`; specs maps column name to its declaration.

    discretize: "uniform" (equal-width bins) or "private" (bins to be measured, see dp_binning.py).
    """
    if len(schema) == 0:
        raise JaneDoeInputError("the table has no columns")
    if discretize not in DISCRETIZE_MODES:
        raise JaneDoeInputError("discretize must be private or uniform", where="synthetic.discretize")
    if isinstance(private_bins, bool) or not isinstance(private_bins, int | np.integer) or private_bins < 2:
        raise JaneDoeInputError("private_bins must be an integer of at least 2", where="synthetic.private_bins")
    return Domain(tuple(column_domain(field.name, field.type, specs.get(field.name), discretize=discretize,
                                      private_bins=int(private_bins)) for field in schema))


def _numeric_values(column: pa.ChunkedArray | pa.Array, domain: ColumnDomain) -> np.ndarray:
    if _is_temporal(domain.arrow_type):
        column = column.cast(_temporal_storage(domain.arrow_type))
    return column.to_numpy(zero_copy_only=False).astype(np.float64)


DROPPED = -1  # the cell of a value that does not fit its column's declared domain: the record is left out


def encode_column(column: pa.ChunkedArray | pa.Array, domain: ColumnDomain) -> np.ndarray:
    """Cell index of every value (int64); the null cell is the last one; DROPPED where the value does not fit."""
    if domain.grid:
        return _encode_private_bins(column, domain)
    is_null = column.is_null(nan_is_null=True).to_numpy(zero_copy_only=False)
    missing = domain.cells if domain.nullable else DROPPED
    if domain.kind == "category":
        index = pc.index_in(column, value_set=domain.categories)
        codes = index.fill_null(DROPPED).to_numpy(zero_copy_only=False).astype(np.int64)
        codes[is_null] = missing
        return codes
    values = np.clip(_numeric_values(column, domain), domain.low, domain.high)
    values = np.nan_to_num(values, nan=domain.low)  # nulls and NaN: their cells are set below
    if domain.kind == "integer":
        width = (domain.high - domain.low + 1.0) / domain.cells
    else:
        width = (domain.high - domain.low) / domain.cells
    codes = np.minimum(np.floor((values - domain.low) / width).astype(np.int64), domain.cells - 1)
    codes[is_null] = missing
    return codes


def _encode_private_bins(column: pa.ChunkedArray | pa.Array, domain: ColumnDomain) -> np.ndarray:
    if domain.bin_starts is None:
        raise ValueError(f"column {domain.name!r}: its private bins are not measured yet")
    fine = encode_column(column, domain.grid_domain)
    inside = (fine >= 0) & (fine < domain.grid)
    codes = np.where(fine == DROPPED, DROPPED, domain.cells)  # the null cell (nullable columns only)
    codes[inside] = np.searchsorted(np.asarray(domain.bin_starts), fine[inside], side="right") - 1
    return codes


def encode(table: pa.Table, domain: Domain) -> np.ndarray:
    """The table as an (rows, columns) int64 matrix of cell indices, without the records that were DROPPED."""
    codes = np.empty((table.num_rows, len(domain.columns)), dtype=np.int64)
    for position, column_domain_ in enumerate(domain.columns):
        codes[:, position] = encode_column(table.column(column_domain_.name), column_domain_)
    return codes[(codes != DROPPED).all(axis=1)]


def decode_column(codes: np.ndarray, domain: ColumnDomain, rng: np.random.Generator) -> pa.Array:
    """Cells back to values of the column's type: a category, or a uniform draw inside the bin (a private bin: a
    fine cell drawn from the measured fine distribution, then a uniform draw inside that cell)."""
    is_null = codes >= domain.cells if domain.nullable else None
    safe = np.where(is_null, 0, codes) if is_null is not None else codes
    if domain.grid:
        if domain.bin_starts is None:
            raise ValueError(f"column {domain.name!r}: its private bins are not measured yet")
        fine = draw_grid_cells(safe, np.asarray(domain.bin_starts), np.asarray(domain.grid_weights), rng)
        values = decode_column(fine, replace(domain.grid_domain, nullable=False), rng)
    elif domain.kind == "category":
        assert domain.categories is not None  # a category column is built with its categories
        values = domain.categories.take(pa.array(safe))
    elif domain.kind == "integer":
        width = (domain.high - domain.low + 1.0) / domain.cells
        first = np.ceil(domain.low + safe * width)
        last = np.minimum(np.ceil(domain.low + (safe + 1) * width) - 1.0, domain.high)
        drawn = first + np.floor(rng.random(len(safe)) * (last - first + 1.0))
        storage = _temporal_storage(domain.arrow_type) if _is_temporal(domain.arrow_type) else domain.arrow_type
        values = pa.array(np.minimum(drawn, last).astype(np.int64)).cast(storage).cast(domain.arrow_type)
    else:
        width = (domain.high - domain.low) / domain.cells
        drawn = domain.low + (safe + rng.random(len(safe))) * width
        values = pa.array(np.minimum(drawn, domain.high)).cast(domain.arrow_type)
    if is_null is not None and is_null.any():
        values = pc.if_else(pa.array(is_null), pa.nulls(len(values), domain.arrow_type), values)
    return values


def decode(codes: np.ndarray, domain: Domain, schema: pa.Schema, rng: np.random.Generator) -> pa.Table:
    arrays = [decode_column(codes[:, position], column, rng) for position, column in enumerate(domain.columns)]
    return pa.Table.from_arrays(arrays, schema=schema)
