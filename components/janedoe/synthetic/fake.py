"""Non-private fake data for test fixtures: N rows from a schema, reproducible from a seed, fast.

Faker is slow per call, so each Faker kind fills a pool of values once and rows are drawn from it with vectorized
numpy choices; uniqueness appends a row number (inside the local part for e-mails), ranges are uniform draws, and
foreign keys draw from the referenced table's generated column. Nothing here looks at real data.
"""

import datetime as dt
from collections.abc import Mapping
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

POOL_SIZE = 2000


class FakeColumn(BaseModel):
    """One column: a Faker kind, choices, a numeric/date range, or a reference to another table's column."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["int", "float", "string", "bool", "date", "timestamp"] | None = None
    faker: str | None = None
    choices: list[str | int | float | bool] | None = None
    weights: list[float] | None = None
    min: float | str | None = None
    max: float | str | None = None
    unique: bool = False
    references: str | None = Field(default=None, pattern=r"^[^.]+\.[^.]+$")
    null_fraction: float = Field(default=0.0, ge=0.0, le=1.0)
    probability: float = Field(default=0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _one_source(self):
        sources = [self.faker is not None, self.choices is not None, self.references is not None]
        if sum(sources) > 1:
            raise ValueError("give only one of faker, choices, references")
        if self.weights is not None and (self.choices is None or len(self.weights) != len(self.choices)):
            raise ValueError("weights need choices of the same length")
        return self


class FakeTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rows: int | None = Field(default=None, ge=0)
    columns: dict[str, FakeColumn]


class FakeSchema(BaseModel):
    model_config = ConfigDict(extra="forbid")
    locale: str = "en_US"
    tables: dict[str, FakeTable]


def _validated(model, spec, where: str):
    if isinstance(spec, model):
        return spec
    try:
        return model.model_validate(spec)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        raise JaneDoeInputError(first["msg"], where=f"{where}.{location}" if location else where) from error


class _Faker:
    """One seeded Faker instance, building a pool per kind once."""

    def __init__(self, locale: str, seed: int) -> None:
        from faker import Faker

        try:
            self.faker = Faker(locale)
        except AttributeError as error:
            raise JaneDoeInputError("unknown Faker locale", where="schema.locale") from error
        self.faker.seed_instance(seed)
        self.pools: dict[str, pa.Array] = {}

    def pool(self, kind: str, where: str) -> pa.Array:
        if kind not in self.pools:
            method = getattr(self.faker, kind, None) if not kind.startswith("_") else None
            if not callable(method):
                raise JaneDoeInputError("unknown Faker kind", where=where)
            try:
                self.pools[kind] = pa.array([method() for _ in range(POOL_SIZE)])
            except TypeError as error:
                raise JaneDoeInputError("this Faker kind needs arguments; use choices instead", where=where) from error
        return self.pools[kind]


def _day(value, where: str) -> int:
    try:
        return (dt.date.fromisoformat(str(value)) - dt.date(1970, 1, 1)).days
    except ValueError as error:
        raise JaneDoeInputError("a date bound is not an ISO date", where=where) from error


def _make_unique(values: pa.Array, kind: str | None) -> pa.Array:
    """Append the row number; e-mails get it at the end of the local part so they stay valid addresses."""
    numbers = pc.cast(pa.array(np.arange(len(values))), pa.string())
    text = values.cast(pa.string())
    if kind is not None and "email" in kind:
        parts = pc.split_pattern(text, "@", max_splits=1)
        local, domain = pc.list_element(parts, 0), pc.list_element(parts, 1)
        return pc.binary_join_element_wise(local, pa.scalar("+"), numbers, pa.scalar("@"), domain, "")
    return pc.binary_join_element_wise(text, numbers, "-")


def _column(spec: FakeColumn, rows: int, rng: np.random.Generator, faker: _Faker, done: Mapping,
            where: str) -> pa.Array:
    if spec.references is not None:
        table_name, column_name = spec.references.split(".")
        if table_name not in done or column_name not in done[table_name].column_names:
            raise JaneDoeInputError("the referenced table or column does not exist", where=where)
        parent = done[table_name].column(column_name).combine_chunks()
        if len(parent) == 0 and rows:
            raise JaneDoeInputError("the referenced table has no rows", where=where)
        if spec.unique:
            if rows > len(parent):
                raise JaneDoeInputError("more unique references than referenced rows", where=where)
            return parent.take(pa.array(rng.permutation(len(parent))[:rows]))
        return parent.take(pa.array(rng.integers(0, len(parent), size=rows)))
    if spec.faker is not None:
        pool = faker.pool(spec.faker, where)
        values = pool.take(pa.array(rng.integers(0, len(pool), size=rows)))
        return _make_unique(values, spec.faker) if spec.unique else values
    if spec.choices is not None:
        choices = pa.array(spec.choices)
        if spec.unique:
            raise JaneDoeInputError("choices cannot be unique; use a range or a Faker kind", where=where)
        weights = None if spec.weights is None else np.asarray(spec.weights, dtype=float)
        if weights is not None and (weights.min() < 0 or weights.sum() <= 0):
            raise JaneDoeInputError("weights must be non-negative with a positive sum", where=where)
        picks = rng.choice(len(choices), size=rows, p=None if weights is None else weights / weights.sum())
        return choices.take(pa.array(picks))
    kind = spec.type or "int"
    if kind == "bool":
        return pa.array(rng.random(rows) < spec.probability)
    if kind == "string":
        if spec.unique:
            return pc.cast(pa.array(rng.permutation(rows)), pa.string())
        return pc.cast(pa.array(rng.integers(0, 1_000_000, size=rows)), pa.string())
    if kind in ("date", "timestamp"):
        low = _day(spec.min or "2000-01-01", where)
        high = _day(spec.max or "2030-12-31", where)
        if high < low:
            raise JaneDoeInputError("min is after max", where=where)
        if kind == "date":
            days = _integers(low, high, rows, spec.unique, rng, where)
            return pa.array(days.astype(np.int32)).cast(pa.date32())
        seconds = _integers(low * 86400, high * 86400 + 86399, rows, spec.unique, rng, where)
        return pa.array(seconds).cast(pa.timestamp("s"))
    lowest = float(spec.min) if spec.min is not None else (1.0 if spec.unique else 0.0)
    highest = float(spec.max) if spec.max is not None else (lowest + rows - 1 if spec.unique else 1_000_000.0)
    if highest < lowest:
        raise JaneDoeInputError("min is above max", where=where)
    if kind == "float":
        return pa.array(lowest + rng.random(rows) * (highest - lowest))
    return pa.array(_integers(int(np.ceil(lowest)), int(np.floor(highest)), rows, spec.unique, rng, where))


def _integers(low: int, high: int, rows: int, unique: bool, rng: np.random.Generator, where: str) -> np.ndarray:
    if not unique:
        return rng.integers(low, high + 1, size=rows)
    if high - low + 1 < rows:
        raise JaneDoeInputError("the range is smaller than the number of unique values asked for", where=where)
    if high - low + 1 == rows:
        return low + rng.permutation(rows)
    return low + rng.choice(high - low + 1, size=rows, replace=False)


def _with_nulls(values: pa.Array, fraction: float, rng: np.random.Generator) -> pa.Array:
    if fraction <= 0:
        return values
    mask = pa.array(rng.random(len(values)) < fraction)
    return pc.if_else(mask, pa.nulls(len(values), values.type), values)


def _cast(values: pa.Array, kind: str | None, where: str) -> pa.Array:
    target = {"int": pa.int64(), "float": pa.float64(), "string": pa.string(), "bool": pa.bool_()}.get(kind or "")
    if target is None or values.type == target:
        return values
    try:
        return values.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        raise JaneDoeInputError("values cannot be converted to the declared type", where=where) from error


def _table(name: str, spec: FakeTable, rows: int, seed: int, faker: _Faker, done: Mapping) -> pa.Table:
    arrays = {}
    for position, (column_name, column) in enumerate(spec.columns.items()):
        rng = np.random.default_rng([seed, position, sum(map(ord, name))])
        where = f"tables.{name}.columns.{column_name}"
        values = _cast(_column(column, rows, rng, faker, done, where), column.type, where)
        arrays[column_name] = _with_nulls(values, column.null_fraction, rng)
    return pa.table(arrays)


def _dependency_order(schema: FakeSchema) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name in visiting:
            raise JaneDoeInputError("foreign keys form a cycle", where=f"tables.{name}")
        visiting.add(name)
        for column_name, column in schema.tables[name].columns.items():
            if column.references is not None:
                parent = column.references.split(".")[0]
                if parent not in schema.tables:
                    raise JaneDoeInputError("the referenced table does not exist",
                                            where=f"tables.{name}.columns.{column_name}")
                visit(parent)
        visiting.discard(name)
        order.append(name)

    for name in schema.tables:
        visit(name)
    return order


def generate_fake_tables(schema_spec, *, seed: int = 0, rows: Mapping[str, int] | None = None) -> dict[str, pa.Table]:
    """Every table of a schema ({locale, tables: {name: {rows, columns}}}), parents before children."""
    schema = _validated(FakeSchema, schema_spec, "schema")
    faker = _Faker(schema.locale, seed)
    done: dict[str, pa.Table] = {}
    for name in _dependency_order(schema):
        count = (rows or {}).get(name, schema.tables[name].rows)
        if count is None:
            raise JaneDoeInputError("the table needs a number of rows", where=f"tables.{name}.rows")
        done[name] = _table(name, schema.tables[name], int(count), seed, faker, done)
    return {name: done[name] for name in schema.tables}


def generate_fake(schema_spec, rows: int, seed: int = 0) -> pa.Table:
    """One table from {columns: {...}} (no foreign keys): `rows` rows, identical for the same seed."""
    table_spec = _validated(FakeTable, schema_spec, "schema")
    if rows < 0:
        raise JaneDoeInputError("the number of rows must be non-negative", where="rows")
    return _table("table", table_spec, int(rows), seed, _Faker("en_US", seed), {})
