"""Rules that draw randomness: noise, random_int, random_date, random_in, shuffle, fake.

Every draw comes from the rule's `Draws` (keyed_draws): by default a keyed function of the row's identity (the
`row_key` column's value, else the value itself), so a row gets the same masked value in every run, copy and export;
`fresh: true` draws anew each run. Nulls stay null.
"""

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker, is_date_or_time, is_number, is_text, null_mask
from janedoe.masking.faker_pools import fit_pool_to, picks_unlike_originals, public_faker_pool
from janedoe.masking.keyed_draws import integers_between, unit_floats
from janedoe.policy import FakeRule, NoiseRule, RandomDateRule, RandomInRule, RandomIntRule, ShuffleRule

_TICKS_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _with_nulls(result: np.ndarray, nulls: np.ndarray, kind: pa.DataType) -> pa.Array:
    return pa.array(result, type=kind, mask=nulls if nulls.any() else None)


class DrawingMasker(ColumnMasker):
    """A masker whose randomness comes from per-row draws; `apply` takes the values as their own identity."""

    def __init__(self, rule, context: BuildContext) -> None:
        self.draws = context.draws(rule)
        self.identity_column = rule.row_key

    def apply(self, values: pa.Array) -> pa.Array:
        return self.apply_rows(values, values)


class NumberNoiseMasker(DrawingMasker):
    """value * (1 + u), u uniform in [-ratio, ratio] (PostgreSQL Anonymizer's noise); integers stay integers and
    within the ratio after rounding."""

    def __init__(self, rule: NoiseRule, context: BuildContext) -> None:
        super().__init__(rule, context)
        assert rule.ratio is not None  # build_random_masker picks this masker for ratio rules
        self.ratio = rule.ratio
        self.output_type = context.column_type

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        kind = self.output_type
        nulls = null_mask(values)
        x = pc.cast(values, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        u = unit_floats(self.draws.words(identity)[:, 0])
        noisy = x * (1.0 + self.ratio * (2.0 * u - 1.0))
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


class DateNoiseMasker(DrawingMasker):
    """Shift dates and timestamps by a uniform whole number of days (dates) or ticks (timestamps) in +- interval."""

    def __init__(self, rule: NoiseRule, context: BuildContext) -> None:
        super().__init__(rule, context)
        seconds = rule.interval_seconds
        assert seconds is not None  # a noise rule without a ratio has an interval (the policy validates it)
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
        self.output_type = kind

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        nulls = null_mask(values)
        raw = values.cast(self.storage).fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        shifted = raw + integers_between(self.draws.words(identity)[:, 0], -self.spread, self.spread)
        return _with_nulls(shifted, nulls, self.storage).cast(self.output_type)


class RandomIntMasker(DrawingMasker):
    """anon.random_int_between(min, max), inclusive."""

    def __init__(self, rule: RandomIntRule, context: BuildContext) -> None:
        super().__init__(rule, context)
        self.low, self.high = rule.min, rule.max
        kind = context.column_type
        fits = pa.types.is_integer(kind) and _fits(kind, self.low, self.high)
        self.output_type = kind if fits else pa.int64()

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        drawn = integers_between(self.draws.words(identity)[:, 0], self.low, self.high)
        return _with_nulls(drawn.astype(self.output_type.to_pandas_dtype()), null_mask(values), self.output_type)


def _fits(kind: pa.DataType, low: int, high: int) -> bool:
    info = np.iinfo(kind.to_pandas_dtype())
    return info.min <= low and high <= info.max


class RandomDateMasker(DrawingMasker):
    """anon.random_date_between(min, max): dates for date (or text) columns, timestamps for timestamp columns."""

    def __init__(self, rule: RandomDateRule, context: BuildContext) -> None:
        super().__init__(rule, context)
        kind = context.column_type
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

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        drawn = integers_between(self.draws.words(identity)[:, 0], self.low, self.high)
        return _with_nulls(drawn, null_mask(values), self.storage).cast(self.output_type)


def _as_datetime(value: dt.date) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    return dt.datetime(value.year, value.month, value.day)


class RandomInMasker(DrawingMasker):
    """anon.random_in(values): one of the listed values, uniformly."""

    def __init__(self, rule: RandomInRule, context: BuildContext) -> None:
        super().__init__(rule, context)
        try:
            choices = pa.array(rule.values)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            choices = pa.array([str(value) for value in rule.values], pa.string())
        if is_text(context.column_type) and not is_text(choices.type):
            choices = pa.array([str(value) for value in rule.values], pa.string())
        self.choices = choices
        self.output_type = choices.type

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        picks = integers_between(self.draws.words(identity)[:, 0], 0, len(self.choices) - 1)
        return _with_nulls_taken(self.choices, picks, null_mask(values))


def _with_nulls_taken(pool: pa.Array, picks: np.ndarray, nulls: np.ndarray) -> pa.Array:
    return pool.take(pa.array(picks, mask=nulls if nulls.any() else None))


class ShuffleMasker(DrawingMasker):
    """Permute the non-null values among the non-null rows: the i-th value (in row order) goes to the row whose draw
    ranks i-th. A row's draw is keyed by its identity (its `row_key`, else its value and its position) and by a keyed
    digest of the whole batch's identities, so the same rows get the same permutation on every run, and knowing the
    originals of one batch tells nothing about the permutation of another.

    Alone, the permutation is global within each batch. Files, databases and the API's views shuffle the whole column
    (column_shuffle: a first pass collects the values, spilling sorted runs past a memory bound; then
    `use_whole_column` hands this masker the shuffled values in order).
    """

    def __init__(self, rule: ShuffleRule, context: BuildContext) -> None:
        super().__init__(rule, context)
        self.output_type = context.column_type
        self.whole_column = None

    def use_whole_column(self, column) -> None:
        """From now on the non-null rows take the next values of `column.take(n)` (None: shuffle within batches)."""
        self.whole_column = column

    def column_keys(self, values: pa.Array, identity: pa.Array, first_position: int) -> tuple[np.ndarray, np.ndarray]:
        """(indices of the non-null rows, their keys) for the whole-column shuffle, where `values[0]` is the column's
        row `first_position`: the values sorted by key (stable, i.e. ties in row order) are the shuffled column."""
        valid = np.flatnonzero(~null_mask(values))
        if not len(valid):
            return valid, np.empty(0, np.uint64)
        words = self.draws.words(identity.take(pa.array(valid)))[:, 0]
        if self.identity_column is None:  # equal values are told apart by their position in the column
            positions = (valid + first_position).astype(np.uint64)
            words = self.draws.words(pa.array(words ^ (positions * np.uint64(0x9E3779B97F4A7C15)), pa.uint64()))[:, 0]
        return valid, words

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        if self.whole_column is not None:
            valid = pc.is_valid(values)
            shuffled = self.whole_column.take(len(values) - values.null_count)
            positions = pc.subtract(pc.cumulative_sum(pc.cast(valid, pa.int64())), 1)
            return shuffled.take(pc.if_else(valid, positions, pa.scalar(None, pa.int64())))
        valid = np.flatnonzero(~null_mask(values))
        words = self.draws.words(identity.take(pa.array(valid)))[:, 0]
        mixed = words + np.uint64(int(words.sum(dtype=np.uint64)))
        if self.identity_column is None:  # equal values are told apart by their position
            mixed ^= valid.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        ranks = self.draws.words(pa.array(mixed, pa.uint64()))[:, 0]
        order = np.arange(len(values))
        order[valid[np.argsort(ranks, kind="stable")]] = valid
        return values.take(pa.array(order))


def _hashable_args(args: dict) -> tuple:
    return tuple(sorted((name, tuple(value) if isinstance(value, list) else value) for name, value in args.items()))


class FakeMasker(DrawingMasker):
    """A value from a pool of Faker values, picked by the row's draw; never the row's own value (the next pool entry
    that differs is taken instead)."""

    def __init__(self, rule: FakeRule, context: BuildContext) -> None:
        super().__init__(rule, context)
        pool = public_faker_pool(rule.kind, rule.locale, rule.pool_size, context.where,  # the draws are secret
                                 _hashable_args(rule.args), rule.separator)
        self.pool = fit_pool_to(pool, context.column_type)
        self.output_type = self.pool.type

    def apply_rows(self, values: pa.Array, identity: pa.Array) -> pa.Array:
        picks = integers_between(self.draws.words(identity)[:, 0], 0, len(self.pool) - 1)
        picks = picks_unlike_originals(self.pool, picks, values)
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
        if not (is_date_or_time(kind) or is_text(kind)):
            raise context.error(f"random_date needs a date, timestamp or text column, not {kind}")
        return RandomDateMasker(rule, context)
    if isinstance(rule, RandomInRule):
        return RandomInMasker(rule, context)
    if isinstance(rule, ShuffleRule):
        return ShuffleMasker(rule, context)
    return FakeMasker(rule, context)
