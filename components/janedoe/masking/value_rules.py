"""Rules that do not look at values: keep, null, constant (nulls stay null)."""

import pyarrow as pa
import pyarrow.compute as pc
from janedoe.masking.column_masker import BuildContext, ColumnMasker, is_text
from janedoe.policy import ConstantRule, KeepRule, NullRule


class KeepMasker(ColumnMasker):
    def __init__(self, column_type: pa.DataType) -> None:
        self.output_type = column_type

    def apply(self, values: pa.Array) -> pa.Array:
        return values


class NullMasker(ColumnMasker):
    def __init__(self, column_type: pa.DataType) -> None:
        self.output_type = column_type

    def apply(self, values: pa.Array) -> pa.Array:
        return pa.nulls(len(values), self.output_type)


class ConstantMasker(ColumnMasker):
    """Every non-null value (every value with `fill_nulls`) becomes `value`, in the column's type when it fits."""

    def __init__(self, rule: ConstantRule, column_type: pa.DataType) -> None:
        value = rule.value
        if is_text(column_type):
            scalar = pa.scalar(value if isinstance(value, str) else str(value), pa.string())
        else:
            scalar = pa.scalar(value)
            try:
                scalar = scalar.cast(column_type)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
                pass
        self.scalar = scalar
        self.output_type = scalar.type
        self.fills_nulls = rule.fill_nulls

    def apply(self, values: pa.Array) -> pa.Array:
        if self.fills_nulls:
            return pa.repeat(self.scalar, len(values))
        return pc.if_else(pc.is_null(values), pa.scalar(None, self.output_type), self.scalar)


def build_value_masker(rule, context: BuildContext) -> ColumnMasker:
    if isinstance(rule, KeepRule):
        return KeepMasker(context.column_type)
    if isinstance(rule, NullRule):
        return NullMasker(context.column_type)
    return ConstantMasker(rule, context.column_type)
