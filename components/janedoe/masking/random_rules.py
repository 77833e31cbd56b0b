"""Rules that draw randomness: noise, random_int, random_date, random_in, shuffle, fake.

Every column gets its own numpy generator from the run's seed sequence, so a fixed --seed reproduces a run and
columns do not share random streams. Nulls stay null.
"""

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker, is_number, is_text, null_mask
from janedoe.masking.faker_pools import fit_pool_to, public_faker_pool
from janedoe.policy import FakeRule, NoiseRule, RandomDateRule, RandomInRule, RandomIntRule, ShuffleRule

_TICKS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _with_nulls(result: np.ndarray, nulls: np.ndarray, kind: pa.DataType) -> pa.Array:
    return pa.array(result, type=kind, mask=nulls if nulls.any() else None)


class NumberNoiseMasker(ColumnMasker):
    """value * (1 + u), u uniform in [-ratio, ratio] (PostgreSQL Anonymizer's noise); integers stay integers and
    within the ratio after rounding."""

    def __init__(self, rule: NoiseRule, context: BuildContext) -> None:
        self.ratio = rule.ratio
        self.rng = context.rng()
        self.output_type = context.column_type

    def apply(self, values: pa.Array) -> pa.Array:
        kind = self.output_type
        nulls = null_mask(values)
        x = pc.cast(values, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        noisy = x * (1.0 + self.rng.uniform(-self.ratio, self.ratio, len(x)))
        if pa.types.is_integer(kind):
            spread = self.ratio * np.abs(x)
            info = np.iinfo(kind.to_pandas_dtype())
            low = np.maximum(np.ceil(x - spread), info.min)
            high = np.minimum(np.floor(x + spread), np.nextafter(float(info.max), 0.0))
            result = np.clip(np.rint(noisy), low, high)
            return _with_nulls(result.astype(kind.to_pandas_dtype()), nulls, kind)
        if pa.types.is_decimal(kind):
            rounded = pc.round(pa.array(noisy), kind.scale)
            return pc.if_else(pa.array(nulls), pa.scalar(None, kind), pc.cast(rounded, kind, safe=False))
        return _with_nulls(noisy.astype(kind.to_pandas_dtype()), nulls, kind)


class DateNoiseMasker(ColumnMasker):
    """Shift dates and timestamps by a uniform whole number of days (dates) or ticks (timestamps) in +- interval."""

    def __init__(self, rule: NoiseRule, context: BuildContext) -> None:
        seconds = rule.interval_seconds
        kind = context.column_type
        if pa.types.is_date(kind):
            self.storage = pa.int32() if pa.types.is_date32(kind) else pa.int64()
            per_unit = 86400 if pa.types.is_date32(kind) else 0.001
            self.spread = int(seconds // per_unit)
            if self.spread < 1:
                raise context.error("a noise interval shorter than one day cannot move a date")
        else:
            self.storage = pa.int64()
            self.spread = int(seconds * _TICKS_PER_SECOND[kind.unit])
        self.rng = context.rng()
        self.output_type = kind

    def apply(self, values: pa.Array) -> pa.Array:
        nulls = null_mask(values)
        raw = values.cast(self.storage).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        shifted = raw + self.rng.integers(-self.spread, self.spread, len(raw), endpoint=True)
        return _with_nulls(shifted, nulls, self.storage).cast(self.output_type)


class RandomIntMasker(ColumnMasker):
    """anon.random_int_between(min, max), inclusive."""

    def __init__(self, rule: RandomIntRule, context: BuildContext) -> None:
        self.low, self.high = rule.min, rule.max
        self.rng = context.rng()
        kind = context.column_type
        fits = pa.types.is_integer(kind) and _fits(kind, self.low, self.high)
        self.output_type = kind if fits else pa.int64()

    def apply(self, values: pa.Array) -> pa.Array:
        drawn = self.rng.integers(self.low, self.high, len(values), endpoint=True)
        return _with_nulls(drawn.astype(self.output_type.to_pandas_dtype()), null_mask(values), self.output_type)


def _fits(kind: pa.DataType, low: int, high: int) -> bool:
    info = np.iinfo(kind.to_pandas_dtype())
    return info.min <= low and high <= info.max


class RandomDateMasker(ColumnMasker):
    """anon.random_date_between(min, max): dates for date (or text) columns, timestamps for timestamp columns."""

    def __init__(self, rule: RandomDateRule, context: BuildContext) -> None:
        kind = context.column_type
        self.rng = context.rng()
        low, high = _as_datetime(rule.min), _as_datetime(rule.max)
        if pa.types.is_timestamp(kind):
            self.output_type = kind
            ticks = _TICKS_PER_SECOND[kind.unit]
            epoch = dt.datetime(1970, 1, 1)
            self.low = int((low - epoch).total_seconds()) * ticks
            self.high = int((high - epoch).total_seconds()) * ticks
            self.storage = pa.int64()
        else:
            self.output_type = pa.date32()
            self.low = (low.date() - dt.date(1970, 1, 1)).days
            self.high = (high.date() - dt.date(1970, 1, 1)).days
            self.storage = pa.int32()

    def apply(self, values: pa.Array) -> pa.Array:
        drawn = self.rng.integers(self.low, self.high, len(values), endpoint=True)
        return _with_nulls(drawn, null_mask(values), self.storage).cast(self.output_type)


def _as_datetime(value: dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime(value.year, value.month, value.day)


class RandomInMasker(ColumnMasker):
    """anon.random_in(values): one of the listed values, uniformly."""

    def __init__(self, rule: RandomInRule, context: BuildContext) -> None:
        try:
            choices = pa.array(rule.values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            choices = pa.array([str(value) for value in rule.values], pa.string())
        if is_text(context.column_type) and not is_text(choices.type):
            choices = pa.array([str(value) for value in rule.values], pa.string())
        self.choices = choices
        self.output_type = choices.type
        self.rng = context.rng()

    def apply(self, values: pa.Array) -> pa.Array:
        picks = self.rng.integers(0, len(self.choices), len(values))
        return _with_nulls_taken(self.choices, picks, null_mask(values))


def _with_nulls_taken(pool: pa.Array, picks: np.ndarray, nulls: np.ndarray) -> pa.Array:
    return pool.take(pa.array(picks, mask=nulls if nulls.any() else None))


class ShuffleMasker(ColumnMasker):
    """Permute the non-null values among the non-null rows.

    The permutation is global within each batch; when streaming, values move only within their batch (a
    whole-column shuffle would need the whole column in memory). Use a batch size at least the file's length
    for a global shuffle.
    """

    def __init__(self, rule: ShuffleRule, context: BuildContext) -> None:
        self.rng = context.rng()
        self.output_type = context.column_type

    def apply(self, values: pa.Array) -> pa.Array:
        valid = np.flatnonzero(~null_mask(values))
        order = np.arange(len(values))
        order[valid] = self.rng.permutation(valid)
        return values.take(pa.array(order))


class FakeMasker(ColumnMasker):
    """A random value from a pool of Faker values built for this run (seeded), drawn independently per row."""

    def __init__(self, rule: FakeRule, context: BuildContext) -> None:
        pool = public_faker_pool(rule.kind, rule.locale, rule.pool_size, context.where)  # draws are random: any order
        self.pool = fit_pool_to(pool, context.column_type)
        self.output_type = self.pool.type
        self.rng = context.rng()

    def apply(self, values: pa.Array) -> pa.Array:
        picks = self.rng.integers(0, len(self.pool), len(values))
        return _with_nulls_taken(self.pool, picks, null_mask(values))


def build_random_masker(rule, context: BuildContext) -> ColumnMasker:
    kind = context.column_type
    if isinstance(rule, NoiseRule):
        if rule.ratio is not None:
            if not is_number(kind):
                raise context.error(f"noise with a ratio needs a numeric column, not {kind}")
            return NumberNoiseMasker(rule, context)
        if not (pa.types.is_date(kind) or pa.types.is_timestamp(kind)):
            raise context.error(f"noise with an interval needs a date or timestamp column, not {kind}")
        return DateNoiseMasker(rule, context)
    if isinstance(rule, RandomIntRule):
        return RandomIntMasker(rule, context)
    if isinstance(rule, RandomDateRule):
        return RandomDateMasker(rule, context)
    if isinstance(rule, RandomInRule):
        return RandomInMasker(rule, context)
    if isinstance(rule, ShuffleRule):
        return ShuffleMasker(rule, context)
    return FakeMasker(rule, context)
