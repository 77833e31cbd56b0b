"""Reading tables by extension, whole or as a stream of record batches of a fixed row count."""

from collections.abc import Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.tabular.csv_reading import iter_csv_batches, read_csv_schema
from janedoe.tabular.formats import table_format
from janedoe.tabular.input_limits import check_column_count
from janedoe.tabular.jsonl_io import iter_jsonl_batches, read_jsonl_schema
from janedoe.tabular.parquet_footer import parquet_schema_elements
from janedoe.tabular.text_encoding import text_encoding

if TYPE_CHECKING:  # imported where a Parquet file is read: CSV and JSON Lines inputs do not pay for it
    import pyarrow.parquet as pq


def _existing(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise JaneDoeInputError("no such file", where=str(path))
    if not path.is_file():
        raise JaneDoeInputError("not a regular file", where=str(path))
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        raise JaneDoeInputError(f"cannot read the file ({error.strerror})", where=str(path)) from None
    return path


def _parquet_file(path: Path) -> "pq.ParquetFile":
    import pyarrow.parquet as pq

    elements = parquet_schema_elements(path)
    if elements is not None:
        check_column_count(elements - 1, str(path))  # the root is an element too
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise JaneDoeInputError(f"not a readable Parquet file ({str(error).split(':')[0]})", where=str(path)) from None
    check_column_count(parquet.metadata.num_columns, str(path))
    return parquet


def read_schema(path: str | Path, delimiter: str | None = None, *, encoding: str | None = None) -> pa.Schema:
    """The schema a stream of this file will have, without reading its data.

    `encoding` names a CSV or JSON Lines file's text encoding (default UTF-8, where other bytes are an error).
    """
    path = _existing(path)
    kind = table_format(path)
    encoding = text_encoding(encoding)
    if kind == "csv":
        return read_csv_schema(path, delimiter, encoding)[0]
    if kind == "parquet":
        parquet = _parquet_file(path)
        try:
            return parquet.schema_arrow
        finally:
            parquet.close()
    return read_jsonl_schema(path, encoding)


def _parquet_batches(path: Path, batch_size: int) -> Iterator[pa.RecordBatch]:
    parquet = _parquet_file(path)
    try:
        yield from parquet.iter_batches(batch_size=batch_size)
    except (pa.ArrowInvalid, OSError) as error:
        raise JaneDoeInputError(f"corrupt Parquet data ({str(error).split(':')[0]})", where=str(path)) from None
    finally:
        parquet.close()  # here, in the reading thread: never left to the interpreter's exit


def _raw_batches(
    path: Path, kind: str, delimiter: str | None, batch_size: int, encoding: str | None
) -> Generator[pa.RecordBatch, None, None]:
    if kind == "csv":
        yield from iter_csv_batches(path, delimiter, encoding)
    elif kind == "parquet":
        yield from _parquet_batches(path, batch_size)
    else:
        yield from iter_jsonl_batches(path, encoding)


def _rebatch(batches: Iterator[pa.RecordBatch], batch_size: int) -> Iterator[pa.RecordBatch]:
    """Re-cut a stream into batches of exactly batch_size rows (the last may be shorter), copying nothing."""
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            take = min(batch_size - pending_rows, batch.num_rows - offset)
            pending.append(batch.slice(offset, take))
            pending_rows += take
            offset += take
            if pending_rows == batch_size:
                yield _combine(pending)
                pending, pending_rows = [], 0
    if pending_rows:
        yield _combine(pending)


def _combine(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]


def iter_batches(
    path: str | Path, *, batch_size: int = 65536, delimiter: str | None = None, encoding: str | None = None
) -> Iterator[pa.RecordBatch]:
    """Stream a CSV, Parquet or JSON Lines file as record batches of batch_size rows, in bounded memory."""
    if batch_size < 1:
        raise JaneDoeInputError("batch size must be at least 1")
    path = _existing(path)
    encoding = text_encoding(encoding)
    raw = _raw_batches(path, table_format(path), delimiter, batch_size, encoding)
    try:
        yield from _rebatch(raw, batch_size)
    finally:
        raw.close()


def read_table(path: str | Path, *, delimiter: str | None = None, encoding: str | None = None) -> pa.Table:
    """A whole file as one Arrow table (for files that fit in memory)."""
    path = _existing(path)
    schema = read_schema(path, delimiter, encoding=encoding)
    batches = list(iter_batches(path, batch_size=1 << 20, delimiter=delimiter, encoding=encoding))
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches)
