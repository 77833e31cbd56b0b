"""An output table: readable, flat, within the row cap, no identifier column, no real identifier among its values
or its column names, and its count columns suppressed and rounded in the checked copy."""

from pathlib import Path

import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.output_checks.count_cells import suppress_and_round
from janedoe.output_checks.identifier_columns import identifier_column_hits
from janedoe.output_checks.identifier_index import IdentifierIndex
from janedoe.output_checks.kind_result import KindResult
from janedoe.output_checks.model import DeclaredOutput, OutputRules
from janedoe.output_checks.table_files import read_output_table, write_output_table
from janedoe.output_checks.text_checks import identifier_lines


def _scanned(data_type: pa.DataType) -> bool:
    kind = data_type.value_type if pa.types.is_dictionary(data_type) else data_type
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_integer(kind)


def check_table(path: Path, data: bytes, declared: DeclaredOutput, rules: OutputRules,
                identifiers: IdentifierIndex | None) -> KindResult:
    result = KindResult()
    try:
        table = read_output_table(path, data)
    except JaneDoeInputError as error:
        return result.block("file_type", str(error))
    if table.num_rows > rules.max_rows:
        result.block("rows", f"{table.num_rows:,} rows, more than the {rules.max_rows:,} allowed")
    for position, field in enumerate(table.schema):
        if pa.types.is_nested(field.type) or pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            result.block("file_type", f"column {position + 1} is {field.type}: released tables hold plain values")
    for position, policy_name in identifier_column_hits(table.column_names, rules.identifier_columns):
        result.block("identifier_column", f"column {position + 1} is the policy's identifier column {policy_name!r}")
    if identifiers is not None:
        _scan_identifiers(result, table, path, data, identifiers)
    counts = suppress_and_round(table, declared.count_columns, rules.min_count, rules.rounding_base)
    for name in counts.missing:
        result.block("small_cells", f"declared count column {name!r} is not in the table")
    for name in counts.not_numeric:
        result.block("small_cells", f"declared count column {name!r} does not hold numbers")
    if counts.suppressed:
        result.note("small_cells", f"{counts.suppressed} count(s) below {rules.min_count} suppressed (now empty)")
    if counts.rounded:
        result.note("rounded", f"{counts.rounded} count(s) rounded to a multiple of {rules.rounding_base}")
    if not result.blocked:
        result.write = lambda target: write_output_table(counts.table, target)
    return result


def _scan_identifiers(result: KindResult, table: pa.Table, path: Path, data: bytes,
                      identifiers: IdentifierIndex) -> None:
    """Column by column to say where; then a text file's raw lines too, since reading infers types ('0612345678'
    read as a number loses its zero and would no longer match)."""
    if identifiers.occurrences(table.column_names):
        result.block("identifier_values", "a column name is a real identifier value")
    for position, field in enumerate(table.schema):
        found = identifiers.occurrences(table.column(position)) if _scanned(field.type) else 0
        if found:
            result.block("identifier_values", f"{found} real identifier value(s) in column {position + 1}")
    if not result.blocked and path.suffix.lower() != ".parquet":
        found = identifier_lines(data.decode("utf-8").splitlines(), identifiers)
        if found:
            result.block("identifier_values", f"{found} real identifier value(s) in the file's text")
