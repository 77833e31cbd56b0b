"""Output tables in and out: CSV, Parquet and JSON Lines through janedoe.tabular, and `.json` as the records or
columns layouts pandas writes. Whatever cannot be read is a JaneDoeInputError that names no value."""

import json
from pathlib import Path

import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.tabular import read_table, write_table_atomic, write_text_atomic

_READ_ERRORS = (JaneDoeInputError, pa.ArrowException, ValueError, TypeError, RecursionError, OverflowError)


def read_output_table(path: Path, data: bytes) -> pa.Table:
    """The table in a file whose bytes (`data`) were already read and size-checked."""
    try:
        if path.suffix.lower() == ".json":
            return _json_table(json.loads(data))
        return read_table(path)
    except _READ_ERRORS as error:
        line = _line_of(error)
        raise JaneDoeInputError(f"not a readable {path.suffix.lstrip('.').upper()} table{line}") from None


def _line_of(error: Exception) -> str:
    where = getattr(error, "where", None) or ""
    line = where.rsplit(":", 1)[-1] if ":" in where else ""
    return f" (line {line})" if line.isdigit() else ""


def _json_table(document) -> pa.Table:
    if isinstance(document, list) and all(isinstance(row, dict) for row in document):
        return pa.Table.from_pylist(document)
    if isinstance(document, dict) and all(isinstance(values, (list, dict)) for values in document.values()):
        columns = {name: list(values.values()) if isinstance(values, dict) else values
                   for name, values in document.items()}
        return pa.table(columns)
    raise ValueError("a JSON table is a list of records or an object of columns")


def write_output_table(table: pa.Table, path: Path) -> None:
    """Atomically, in the format of the path's suffix (`.json`: a list of records)."""
    if path.suffix.lower() == ".json":
        write_text_atomic(json.dumps(table.to_pylist(), ensure_ascii=False, default=str) + "\n", path)
    else:
        write_table_atomic(table, path)
