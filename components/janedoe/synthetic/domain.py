"""Public column domains: every column becomes a small set of cells, declared in the policy and never read from data.

Categorical columns take their cells from declared categories (booleans need no declaration); integer, float and
temporal columns are cut into bins between declared bounds. Records that do not fit are handled per record (which
costs no privacy), never by an error: the fit is charged before the data is read, so no single record may decide
whether it succeeds. Values outside the bounds are clipped to them; NaN counts as missing; a record with a value
outside its column's declared categories, or missing where the column is not declared nullable, is dropped.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError

DEFAULT_FLOAT_BINS = 32
DEFAULT_INTEGER_BINS = 64


@dataclass(frozen=True)
class ColumnDomain:
    """One column's cells. kind: "category" (cells are categories) or "integer"/"float" (cells are bins)."""

    name: str
    kind: str
    arrow_type: pa.DataType
    cells: int
    categories: pa.Array | None = None
    low: float = 0.0
    high: float = 0.0
    nullable: bool = False

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


def column_domain(name: str, arrow_type: pa.DataType, spec) -> ColumnDomain:
    """The declared domain of one column; `spec` has bounds/categories/bins/nullable (a policy column or a dict)."""
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
    if is_integer:
        low, high = float(np.ceil(low)), float(np.floor(high))
        span = int(high - low) + 1
        cells = min(int(bins) if bins else DEFAULT_INTEGER_BINS, span)
    else:
        cells = int(bins) if bins else DEFAULT_FLOAT_BINS
    if cells < 2 or high == low:
        raise JaneDoeInputError("bounds leave a single value: a constant column carries no information", where=where)
    return ColumnDomain(name, "integer" if is_integer else "float", arrow_type, cells, low=low, high=high,
                        nullable=nullable)


def build_domain(schema: pa.Schema, specs: Mapping) -> Domain:
    """A Domain for every column of `schema`; specs maps column name to its declaration."""
    if len(schema) == 0:
        raise JaneDoeInputError("the table has no columns")
    return Domain(tuple(column_domain(field.name, field.type, specs.get(field.name)) for field in schema))


def _numeric_values(column: pa.ChunkedArray | pa.Array, domain: ColumnDomain) -> np.ndarray:
    if _is_temporal(domain.arrow_type):
        column = column.cast(_temporal_storage(domain.arrow_type))
    return column.to_numpy(zero_copy_only=False).astype(np.float64)


DROPPED = -1  # the cell of a value that does not fit its column's declared domain: the record is left out


def encode_column(column: pa.ChunkedArray | pa.Array, domain: ColumnDomain) -> np.ndarray:
    """Cell index of every value (int64); the null cell is the last one; DROPPED where the value does not fit."""
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


def encode(table: pa.Table, domain: Domain) -> np.ndarray:
    """The table as an (rows, columns) int64 matrix of cell indices, without the records that were DROPPED."""
    codes = np.empty((table.num_rows, len(domain.columns)), dtype=np.int64)
    for position, column_domain_ in enumerate(domain.columns):
        codes[:, position] = encode_column(table.column(column_domain_.name), column_domain_)
    return codes[(codes != DROPPED).all(axis=1)]


def decode_column(codes: np.ndarray, domain: ColumnDomain, rng: np.random.Generator) -> pa.Array:
    """Cells back to values of the column's type: a category, or a uniform draw inside the bin."""
    is_null = codes >= domain.cells if domain.nullable else None
    safe = np.where(is_null, 0, codes) if is_null is not None else codes
    if domain.kind == "category":
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
