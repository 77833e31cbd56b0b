"""Tables in and out as Apache Arrow: CSV (delimiter sniffed), Parquet and JSON Lines, streamed in record batches.

Outputs are written atomically; malformed input is a JaneDoeInputError naming the file and line. Every reader
refuses, before Arrow parses, what could crash or stall it (JSON nested deeper than 64, more than 4,096 columns) and
text that is not the UTF-8 or the `encoding` it is declared in.
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from janedoe.tabular.formats import table_format
    from janedoe.tabular.jsonl_io import encode_jsonl
    from janedoe.tabular.pandas_guard import keep_pandas_out
    from janedoe.tabular.pipelining import WriteBehind, read_ahead
    from janedoe.tabular.reading import iter_batches, read_schema, read_table
    from janedoe.tabular.text_writing import write_text_atomic
    from janedoe.tabular.writing import AtomicTableWriter, write_table_atomic

# Imported on first use (PEP 562): `keep_pandas_out` and `write_text_atomic` must not cost a CLI's start pyarrow.
_MODULE_OF = {
    "table_format": "formats",
    "encode_jsonl": "jsonl_io",
    "keep_pandas_out": "pandas_guard",
    "WriteBehind": "pipelining",
    "read_ahead": "pipelining",
    "iter_batches": "reading",
    "read_schema": "reading",
    "read_table": "reading",
    "write_text_atomic": "text_writing",
    "AtomicTableWriter": "writing",
    "write_table_atomic": "writing",
}

__all__ = [
    "read_table",
    "iter_batches",
    "read_schema",
    "AtomicTableWriter",
    "write_table_atomic",
    "write_text_atomic",
    "encode_jsonl",
    "table_format",
    "read_ahead",
    "WriteBehind",
    "keep_pandas_out",
]


def __getattr__(name: str):
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"janedoe.tabular.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
