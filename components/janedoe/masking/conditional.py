"""Conditional rules (`when:`, PostgreSQL Anonymizer's ternary): mask every row, then keep the masked value where
the condition holds and the original (or the `otherwise:` rule's output) where it does not.

Fail closed: a row whose condition is NULL (a NULL in the condition's column, `equals`/`in`/`not` on it) is masked.
The condition reads the row's ORIGINAL values, even of a column the policy masks: reading the masked value would let
a shuffled or randomized `is_public` expose a private row. Which rows come out masked still tells one bit of the
condition's original per row, so condition columns should be ones the output may reveal.
"""

import dataclasses

import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError
from janedoe.masking.column_masker import BuildContext, ColumnMasker, is_date_or_time, is_number, is_text
from janedoe.masking.value_rules import KeepMasker
from janedoe.policy import Condition, KeyedPermutationRule, PseudonymizeRule, ShuffleRule

_WHOLE_COLUMN_RULES = (ShuffleRule, KeyedPermutationRule)


class ConditionTest:
    """A condition compiled against the input schema: `holds(batch)` is a bool array, NULL where unknown."""

    def __init__(self, condition: Condition, schema: pa.Schema, where: str) -> None:
        self.condition = condition
        self.schema = schema
        self.value_sets: dict[int, pa.Array] = {}
        self._compile(condition, f"{where}.when")

    def _compile(self, condition: Condition, where: str) -> None:
        if condition.column is not None:
            if condition.column not in self.schema.names:
                raise JaneDoeInputError(f"condition column {condition.column!r} is not a column of the input",
                                        where=f"{where}.column")
            listed = [condition.equals] if condition.equals is not None else condition.in_
            if listed is not None:
                field = "equals" if condition.equals is not None else "in"
                self.value_sets[id(condition)] = _value_set(listed, self.schema.field(condition.column),
                                                            f"{where}.{field}")
        inner = [("not", condition.not_)] if condition.not_ is not None else []
        inner += [(f"all.{i}", c) for i, c in enumerate(condition.all or [])]
        inner += [(f"any.{i}", c) for i, c in enumerate(condition.any or [])]
        for name, part in inner:
            self._compile(part, f"{where}.{name}")

    def holds(self, batch: pa.RecordBatch) -> pa.Array:
        return self._evaluate(self.condition, batch)

    def _evaluate(self, condition: Condition, batch: pa.RecordBatch) -> pa.Array:
        if condition.not_ is not None:
            return pc.invert(self._evaluate(condition.not_, batch))
        if condition.all is not None or condition.any is not None:
            combine = pc.and_kleene if condition.all is not None else pc.or_kleene
            parts = [self._evaluate(inner, batch) for inner in condition.all or condition.any or ()]
            result = parts[0]
            for part in parts[1:]:
                result = combine(result, part)
            return result
        column = batch.column(condition.column)
        kind = _plain(self.schema.field(condition.column).type)
        if column.type != kind:
            column = column.cast(kind)
        if condition.is_null is not None:
            nulls = pc.is_null(column)
            return nulls if condition.is_null else pc.invert(nulls)
        found = pc.is_in(column, value_set=self.value_sets[id(condition)], skip_nulls=True)
        return pc.if_else(pc.is_null(column), pa.scalar(None, pa.bool_()), found)  # NULL = x is unknown


def _value_set(listed: list, field: pa.Field, where: str) -> pa.Array:
    """The condition's values in the column's type (text columns compare with the values' text, booleans 'true')."""
    kind = _plain(field.type)
    try:
        if is_text(kind):
            return pa.array([str(v).lower() if isinstance(v, bool) else str(v) for v in listed], kind)
        return pa.array(listed).cast(kind)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        raise JaneDoeInputError(f"the condition's values do not fit column {field.name!r} ({kind})",
                                where=where) from None


def _plain(kind: pa.DataType) -> pa.DataType:
    return kind.value_type if pa.types.is_dictionary(kind) else kind


class ConditionalMasker(ColumnMasker):
    """`masked` where the condition holds or is NULL, else `otherwise` (the original value by default)."""

    reads_row = True

    def __init__(self, test: ConditionTest, masked: ColumnMasker, otherwise: ColumnMasker, where: str) -> None:
        self.test = test
        self.masked = masked
        self.otherwise = otherwise
        self.output_type = masked.output_type
        self.fills_nulls = masked.fills_nulls or otherwise.fills_nulls
        field = "when" if isinstance(otherwise, KeepMasker) else "otherwise"
        if not _can_hold(self.output_type, _plain(otherwise.output_type)):
            raise JaneDoeInputError(f"the rows the rule leaves ({otherwise.output_type}) cannot share a column with"
                                    f" the masked rows ({self.output_type})", where=f"{where}.{field}")

    def apply_batch(self, values: pa.Array, batch: pa.RecordBatch) -> pa.Array:
        chosen = pc.fill_null(self.test.holds(batch), True)  # fail closed: an unknown condition masks the row
        masked = _applied(self.masked, values, batch)
        if pc.all(chosen).as_py():
            return masked
        kept = _applied(self.otherwise, values, batch)
        if kept.type != self.output_type:
            kept = kept.cast(self.output_type)
        return pc.if_else(chosen, masked, kept)

    def apply(self, values: pa.Array) -> pa.Array:
        raise TypeError("a conditional rule reads the whole row: call apply_batch")


def _can_hold(target: pa.DataType, source: pa.DataType) -> bool:
    """Whether the rows a rule leaves can be cast to the masked rows' type without losing their kind."""
    if target == source or is_text(target):
        return True
    return (is_number(target) and is_number(source)) or (is_date_or_time(target) and is_date_or_time(source))


def _applied(masker: ColumnMasker, values: pa.Array, batch: pa.RecordBatch) -> pa.Array:
    if values.null_count == len(values) and not masker.fills_nulls:
        return pa.nulls(len(values), masker.output_type)
    if masker.identity_column is not None:
        masked = masker.apply_rows(values, batch.column(masker.identity_column))
    else:
        masked = masker.apply(values)
    if isinstance(masked, pa.ChunkedArray):
        masked = masked.combine_chunks()
    return masked if masked.type == masker.output_type else masked.cast(masker.output_type)


def build_conditional_masker(rule, context: BuildContext, schema: pa.Schema, build) -> ColumnMasker:
    """`build(rule, context)` builds an unconditional rule (the table masker's builders)."""
    if isinstance(rule, _WHOLE_COLUMN_RULES) or (isinstance(rule, PseudonymizeRule) and rule.unique):
        raise context.error(f"{rule.mask} keeps the column's values distinct or permuted as a whole: it cannot apply"
                            " to some rows only (drop when)")
    test = ConditionTest(rule.when, schema, context.where)
    masked = build(rule.model_copy(update={"when": None, "otherwise": None}), context)
    if rule.otherwise is None:
        otherwise = KeepMasker(context.column_type)
    elif isinstance(rule.otherwise, _WHOLE_COLUMN_RULES) or getattr(rule.otherwise, "unique", False):
        raise context.error(f"otherwise cannot be {rule.otherwise.mask}: it keeps the column's values distinct or"
                            " permuted as a whole")
    else:
        row_key = getattr(rule.otherwise, "row_key", None)
        if row_key is not None and row_key not in schema.names:
            raise JaneDoeInputError(f"row_key {row_key!r} is not a column of the input",
                                    where=f"{context.where}.otherwise.row_key")
        otherwise = build(rule.otherwise, dataclasses.replace(context, where=f"{context.where}.otherwise"))
    return ConditionalMasker(test, masked, otherwise, context.where)
