"""Applying a policy's rules to one table's record batches; everything is checked against the schema first.

Building the masker validates the whole table (unknown columns per `default`, types that do not suit a rule, a
missing secret, unknown Faker providers) before a single row is read.
"""

from collections.abc import Callable
from typing import Any

import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.masking.column_masker import BuildContext, ColumnMasker
from janedoe.masking.column_shuffle import WholeColumnShuffles
from janedoe.masking.conditional import ConditionalMasker, build_conditional_masker
from janedoe.masking.generalize import build_generalize_masker
from janedoe.masking.keyed_permutation import KeyedPermutationMasker
from janedoe.masking.keyed_rules import PrepassMissingError, PseudonymizeMasker, build_keyed_masker
from janedoe.masking.random_rules import ShuffleMasker, build_random_masker
from janedoe.masking.random_values import build_random_value_masker
from janedoe.masking.redact_rule import RedactRule, build_redact_masker
from janedoe.masking.secret import check_secret_length, missing_secret_error, rule_needs_secret
from janedoe.masking.text_rules import build_text_masker
from janedoe.masking.unique_prepass import PrepassAccumulator, PrepassState
from janedoe.masking.value_rules import NullMasker, build_value_masker
from janedoe.policy import (
    ConstantRule,
    FakeRule,
    GeneralizeRule,
    HashRule,
    KeepRule,
    KeyedPermutationRule,
    MaskRule,
    NoiseRule,
    NullRule,
    PartialEmailRule,
    PartialRule,
    Policy,
    PseudonymizeRule,
    RandomDateRule,
    RandomIdIntRule,
    RandomIdRule,
    RandomInRule,
    RandomIntRule,
    RandomPhoneRule,
    RandomStringRule,
    RegexReplaceRule,
    ShuffleRule,
)

_BUILDERS: dict[type, Callable[[Any, BuildContext], ColumnMasker]] = {
    PartialRule: build_text_masker,
    PartialEmailRule: build_text_masker,
    RegexReplaceRule: build_text_masker,
    KeepRule: build_value_masker,
    NullRule: build_value_masker,
    ConstantRule: build_value_masker,
    NoiseRule: build_random_masker,
    RandomIntRule: build_random_masker,
    RandomDateRule: build_random_masker,
    RandomInRule: build_random_masker,
    RandomStringRule: build_random_value_masker,
    RandomIdRule: build_random_value_masker,
    RandomIdIntRule: build_random_value_masker,
    RandomPhoneRule: build_random_value_masker,
    ShuffleRule: build_random_masker,
    FakeRule: build_random_masker,
    PseudonymizeRule: build_keyed_masker,
    HashRule: build_keyed_masker,
    KeyedPermutationRule: lambda rule, context: KeyedPermutationMasker(rule, context),
    GeneralizeRule: build_generalize_masker,
    RedactRule: build_redact_masker,
}

class TableMasker:
    """Masks record batches of one table; `output_schema` is fixed before any data is read.

    Rules whose output depends on the whole set of a column's values (unique pseudonyms) make `needs_prepass` true:
    `observe` every batch (in any order, split in any way, in any process), `merge` the states, `use_prepass` the
    result, then `mask_batch`. `prepass` does it for batches at hand; `mask_table` does it by itself.
    """

    def __init__(self, table: str, input_schema: pa.Schema, maskers: list[ColumnMasker], rules: list[str]) -> None:
        self.table = table
        self.input_schema = input_schema
        self.maskers = maskers
        self.rule_names = dict(zip(input_schema.names, rules, strict=True))
        self.output_schema = pa.schema(
            [pa.field(f.name, m.output_type) for f, m in zip(input_schema, maskers, strict=True)]
        )
        self._set_dependent = [
            (field.name, masker)
            for field, masker in zip(input_schema, maskers, strict=True)
            if isinstance(masker, PseudonymizeMasker) and masker.prepass_id is not None
        ]
        self.prepared = False

    @property
    def shuffle_maskers(self) -> dict[str, ColumnMasker]:
        """The `shuffle` columns' maskers, for an engine shuffling whole columns itself: `column_keys(values,
        identity, first_position)` gives each non-null value's key; the values in key order are the shuffled column."""
        return {field.name: masker for field, masker in zip(self.input_schema, self.maskers, strict=True)
                if isinstance(masker, ShuffleMasker)}

    @property
    def needs_prepass(self) -> bool:
        return bool(self._set_dependent)

    @property
    def prepass_columns(self) -> list[str]:
        """The input columns `observe` reads (a first pass can read only these)."""
        names = {name for name, _ in self._set_dependent}
        names |= {m.identity_column for _, m in self._set_dependent if m.identity_column is not None}
        return [name for name in self.input_schema.names if name in names]

    def observe(self, batch: pa.RecordBatch) -> PrepassState:
        """What this batch contributes to the set-dependent rules (a batch may hold only `prepass_columns`)."""
        state = PrepassState()
        for name, masker in self._set_dependent:
            values = batch.column(name)
            if values.type != self.input_schema.field(name).type:
                values = values.cast(self.input_schema.field(name).type)
            identity = None if masker.identity_column is None else batch.column(masker.identity_column)
            state = state.merge(masker.observe(values, identity))
        return state

    def use_prepass(self, state: PrepassState) -> None:
        """Fix the set-dependent rules to the merged state of every batch (and every table sharing their key)."""
        for _, masker in self._set_dependent:
            masker.use_prepass(state)
        self.prepared = True

    def prepass(self, batches) -> PrepassState:
        """Observe these batches, merge and use the result; returns the merged state."""
        states = PrepassAccumulator()
        for batch in batches:
            states.add(self.observe(batch))
        state = states.result()
        self.use_prepass(state)
        return state

    def mask_batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self._set_dependent and not self.prepared:
            raise PrepassMissingError(
                f"table {self.table!r}: {self._set_dependent[0][0]!r} uses a rule that depends on the whole set of"
                " values (unique pseudonyms): call observe/use_prepass (or prepass) before mask_batch"
            )
        arrays = []
        for field, masker, out_field in zip(self.input_schema, self.maskers, self.output_schema, strict=True):
            values = batch.column(field.name)
            if values.type != field.type:
                values = values.cast(field.type)
            if values.null_count == len(values) and not masker.fills_nulls:
                masked = pa.nulls(len(values), out_field.type)
            elif isinstance(masker, ConditionalMasker):  # a conditional rule reads its condition's columns
                masked = masker.apply_batch(values, batch)
            elif masker.identity_column is not None:
                masked = masker.apply_rows(values, batch.column(masker.identity_column))
            else:
                masked = masker.apply(values)
            if isinstance(masked, pa.ChunkedArray):
                masked = masked.combine_chunks()
            if masked.type != out_field.type:
                masked = masked.cast(out_field.type)
            arrays.append(masked)
        return pa.RecordBatch.from_arrays(arrays, schema=self.output_schema)

    def mask_table(self, table: pa.Table) -> pa.Table:
        """The whole table masked; a masker not yet prepared is prepared on this table's values, and `shuffle`
        permutes each column over the whole table."""
        if self.needs_prepass and not self.prepared:
            self.prepass(table.to_batches())
        with WholeColumnShuffles(self, memory_rows=table.num_rows + 1) as shuffles:  # in memory already: no spill
            for batch in table.to_batches() if shuffles else []:
                shuffles.observe(batch)
            shuffles.start()
            batches = [self.mask_batch(batch) for batch in table.to_batches()]
        return pa.Table.from_batches(batches, schema=self.output_schema)


def build_table_masker(
    policy: Policy,
    table_name: str,
    schema: pa.Schema,
    *,
    secret: bytes | None,
    seed: int | None = None,
    rules: dict[str, MaskRule] | None = None,
    stream: str = "",
) -> TableMasker:
    """A masker for `table_name` with this input schema; `rules` replaces the policy's per-column rules (roles).

    `stream` names this masker's share of a distributed run: seeded `fresh` rules draw another stream per name."""
    table_policy = policy.tables.get(table_name)
    if table_policy is None and rules is None and policy.default == "error":
        known = ", ".join(sorted(policy.tables)) or "none"
        raise JaneDoeInputError(f"table {table_name!r} is not in the policy (its tables: {known})", where="tables")
    if rules is not None:
        column_rules = dict(rules)
    else:
        column_rules = {name: column.mask for name, column in (table_policy.columns if table_policy else {}).items()}
    missing = [name for name in column_rules if name not in schema.names]
    if missing:
        raise JaneDoeInputError(
            "column named by the policy is not in the input", where=f"tables.{table_name}.columns.{missing[0]}"
        )
    check_secret_length(secret, policy)
    maskers: list[ColumnMasker] = []
    names: list[str] = []
    for field in schema:
        where = f"tables.{table_name}.columns.{field.name}"
        rule = column_rules.get(field.name)
        if rule is None:
            if policy.default == "error":
                raise JaneDoeInputError(
                    "the input has a column the policy does not name (policy default: error)", where=where
                )
            rule = NullRule(mask="null") if policy.default == "null" else KeepRule()
        if rule_needs_secret(rule) and not secret:
            raise missing_secret_error(policy, where, rule.mask)
        row_key = getattr(rule, "row_key", None)
        if row_key is not None and row_key not in schema.names:
            raise JaneDoeInputError(f"row_key {row_key!r} is not a column of the input", where=f"{where}.row_key")
        context = BuildContext(where=where, secret=secret, seed=seed, column_type=field.type, table=table_name,
                               column=field.name, stream=stream)
        masker: ColumnMasker
        if pa.types.is_null(field.type):
            masker = NullMasker(field.type)  # a column with no values (e.g. a header-only file): nothing to mask
        elif rule.when is not None:
            masker = build_conditional_masker(rule, context, schema, lambda r, c: _BUILDERS[type(r)](r, c))
        else:
            masker = _BUILDERS[type(rule)](rule, context)
        maskers.append(masker)
        names.append(rule.mask)
    return TableMasker(table_name, schema, maskers, names)
