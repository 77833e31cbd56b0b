"""generalize: numbers to the range that contains them, dates to their day, week, month, year, decade or century.

The output is text: labels ('30-39', '[2.5, 5)', '1987-03') by default, or with `as: range` PostgreSQL range literals
('[30,40)', '[2.5,5)', '[1987-03-01,1987-04-01)') that PostgreSQL reads with ::int4range, ::numrange, ::daterange.
"""

from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import (
    BuildContext,
    ColumnMasker,
    is_date_or_time,
    is_number,
    is_text,
    null_mask,
)
from janedoe.policy import GeneralizeRule


def _decimals(step: float) -> int:
    """How many decimals a multiple of `step` needs (2.5 -> 1, 0.05 -> 2): low and high are rounded to them, so
    3 * 0.1 prints as 0.3, not 0.30000000000000004."""
    exponent = Decimal(repr(float(step))).normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # a step is a finite number
    return max(0, -exponent)


class NumberRangeMasker(ColumnMasker):
    """Integers with an integer step become 'low-high' inclusive ('30-39'); other numbers '[low, high)'."""

    output_type = pa.string()

    def __init__(self, rule: GeneralizeRule, context: BuildContext) -> None:
        assert rule.step is not None  # the builder picks this masker for rules with a step
        self.step = rule.step
        self.as_range = rule.as_ == "range"
        self.integral = pa.types.is_integer(context.column_type) and float(rule.step).is_integer()
        self.decimals = _decimals(rule.step)

    def apply(self, values: pa.Array) -> pa.Array:
        if self.integral:
            step = int(self.step)
            low = pc.dictionary_encode(pc.multiply(_floor_div(values.cast(pa.int64()), step), step))
            # few distinct ranges: build each label once, then spread them with a take
            starts = low.dictionary
            if self.as_range:
                labels = pc.binary_join_element_wise(
                    "[", pc.cast(starts, pa.string()), ",", pc.cast(pc.add(starts, step), pa.string()), ")", "")
            else:
                labels = pc.binary_join_element_wise(
                    pc.cast(starts, pa.string()), pc.cast(pc.add(starts, step - 1), pa.string()), "-"
                )
            return labels.take(low.indices)
        nulls = null_mask(values)
        x = pc.cast(values, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        index = np.floor(x / self.step)
        # x / step is off by one ulp near a boundary (0.3 / 0.1 = 2.9999999999999996): the bounds as printed decide
        index = np.where(x < self._bound(index), index - 1, index)
        index = np.where(x >= self._bound(index + 1), index + 1, index)
        low, high = _number_text(self._bound(index), nulls), _number_text(self._bound(index + 1), nulls)
        separator = "," if self.as_range else ", "
        return pc.binary_join_element_wise("[", low, separator, high, ")", "")

    def _bound(self, index: np.ndarray) -> np.ndarray:
        return np.round(index * self.step, self.decimals) + 0.0  # + 0.0: never '-0'


def _number_text(numbers: np.ndarray, nulls: np.ndarray) -> pa.Array:
    """The shortest text that reads back as the number ('5' rather than '5.0')."""
    return pc.cast(pa.array(numbers, pa.float64(), mask=nulls if nulls.any() else None), pa.string())


def _floor_div(ints: pa.Array, step: int) -> pa.Array:
    nulls = ints.is_null().to_numpy(zero_copy_only=False)
    raw = ints.fill_null(0).to_numpy(zero_copy_only=False)
    return pa.array(np.floor_divide(raw, step), mask=nulls if nulls.any() else None)


class DateLevelMasker(ColumnMasker):
    """'1987-03-15' (day), '1987-W11' (ISO week), '1987-03' (month), '1987' (year), '1980-1989' (decade) or
    '1900-1999' (century); with `as: range`, the dates the level spans, '[1987-03-01,1987-04-01)'."""

    output_type = pa.string()

    def __init__(self, rule: GeneralizeRule, context: BuildContext) -> None:
        self.level = rule.to
        self.as_range = rule.as_ == "range"
        self.from_text = is_text(context.column_type)
        self.error = context.error

    def _dates(self, values: pa.Array) -> pa.Array:
        if not self.from_text:
            return values
        for target in (pa.date32(), pa.timestamp("s")):
            try:
                return pc.cast(values, target)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                continue
        raise self.error("generalize to a date level needs dates (YYYY-MM-DD or ISO timestamps) in this column")

    def apply(self, values: pa.Array) -> pa.Array:
        dates = self._dates(values)
        if self.as_range:
            return self._range(dates)
        if self.level == "day":
            stamps = pc.cast(dates, pa.timestamp("s")) if pa.types.is_date(dates.type) else dates
            return pc.strftime(stamps, "%Y-%m-%d")
        if self.level == "week":
            weeks = pc.utf8_lpad(pc.cast(pc.iso_week(dates), pa.string()), 2, "0")
            return pc.binary_join_element_wise(pc.cast(pc.iso_year(dates), pa.string()), weeks, "-W")
        years = pc.year(dates)
        if self.level == "century":
            century = pc.multiply(_floor_div(years, 100), 100)
            return pc.binary_join_element_wise(
                pc.cast(century, pa.string()), pc.cast(pc.add(century, 99), pa.string()), "-"
            )
        if self.level == "year":
            return pc.cast(years, pa.string())
        if self.level == "month":
            months = pc.cast(pc.month(dates), pa.string())
            padded = pc.utf8_lpad(months, 2, "0")
            return pc.binary_join_element_wise(pc.cast(years, pa.string()), padded, "-")
        decade = pc.multiply(_floor_div(years, 10), 10)
        return pc.binary_join_element_wise(pc.cast(decade, pa.string()), pc.cast(pc.add(decade, 9), pa.string()), "-")

    def _range(self, dates: pa.Array) -> pa.Array:
        if self.level in ("decade", "century"):
            width = 10 if self.level == "decade" else 100
            start = pc.multiply(_floor_div(pc.year(dates), width), width)
            low, high = _january_first(start), _january_first(pc.add(start, width))
        else:
            days = pc.cast(pc.floor_temporal(dates, unit=self.level, week_starts_monday=True), pa.date32())
            low = pc.cast(days, pa.string())
            high = pc.cast(pc.cast(pc.ceil_temporal(days, unit=self.level, week_starts_monday=True,
                                                    ceil_is_strictly_greater=True), pa.date32()), pa.string())
        return pc.binary_join_element_wise("[", low, ",", high, ")", "")


def _january_first(years: pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(pc.utf8_lpad(pc.cast(years, pa.string()), 4, "0"), "01-01", "-")


def build_generalize_masker(rule: GeneralizeRule, context: BuildContext) -> ColumnMasker:
    kind = context.column_type
    if rule.step is not None:
        if not is_number(kind):
            raise context.error(f"generalize with a step needs a numeric column, not {kind}")
        return NumberRangeMasker(rule, context)
    if not (is_date_or_time(kind) or is_text(kind)):
        raise context.error(f"generalize to a date level needs a date, timestamp or text column, not {kind}")
    return DateLevelMasker(rule, context)
