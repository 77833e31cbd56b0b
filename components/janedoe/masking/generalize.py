"""generalize: numbers to the range that contains them, dates to their day, month, year or decade (as text)."""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker, is_date_or_time, is_number, is_text
from janedoe.policy import GeneralizeRule


class NumberRangeMasker(ColumnMasker):
    """Integers with an integer step become 'low-high' inclusive ('30-39'); other numbers '[low, high)'."""

    output_type = pa.string()

    def __init__(self, rule: GeneralizeRule, context: BuildContext) -> None:
        self.step = rule.step
        self.integral = pa.types.is_integer(context.column_type) and float(rule.step).is_integer()

    def apply(self, values: pa.Array) -> pa.Array:
        if self.integral:
            step = int(self.step)
            low = pc.dictionary_encode(pc.multiply(_floor_div(values.cast(pa.int64()), step), step))
            # few distinct ranges: build each label once, then spread them with a take
            starts = low.dictionary
            labels = pc.binary_join_element_wise(
                pc.cast(starts, pa.string()), pc.cast(pc.add(starts, step - 1), pa.string()), "-"
            )
            return labels.take(low.indices)
        x = pc.cast(values, pa.float64())
        low = pc.multiply(pc.floor(pc.divide(x, float(self.step))), float(self.step))
        low = pc.if_else(pc.less(x, low), pc.subtract(low, float(self.step)), low)  # x / step underflowed to -0.0
        high = pc.add(low, float(self.step))
        return pc.binary_join_element_wise("[", pc.cast(low, pa.string()), ", ", pc.cast(high, pa.string()), ")", "")


def _floor_div(ints: pa.Array, step: int) -> pa.Array:
    nulls = ints.is_null().to_numpy(zero_copy_only=False)
    raw = ints.fill_null(0).to_numpy(zero_copy_only=False)
    return pa.array(np.floor_divide(raw, step), mask=nulls if nulls.any() else None)


class DateLevelMasker(ColumnMasker):
    """'1987-03-15' (day), '1987-W11' (ISO week), '1987-03' (month), '1987' (year), '1980-1989' (decade) or
    '1900-1999' (century)."""

    output_type = pa.string()

    def __init__(self, rule: GeneralizeRule, context: BuildContext) -> None:
        self.level = rule.to
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


def build_generalize_masker(rule: GeneralizeRule, context: BuildContext) -> ColumnMasker:
    kind = context.column_type
    if rule.step is not None:
        if not is_number(kind):
            raise context.error(f"generalize with a step needs a numeric column, not {kind}")
        return NumberRangeMasker(rule, context)
    if not (is_date_or_time(kind) or is_text(kind)):
        raise context.error(f"generalize to a date level needs a date, timestamp or text column, not {kind}")
    return DateLevelMasker(rule, context)
