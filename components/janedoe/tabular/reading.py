"""Reading tables by extension, whole or as a stream of record batches of a fixed row count."""

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from janedoe.errors import JaneDoeInputError
from janedoe.tabular.csv_reading import iter_csv_batches, read_csv_schema
from janedoe.tabular.formats import table_format
from janedoe.tabular.jsonl_io import iter_jsonl_batches, read_jsonl_schema


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


def _parquet_file(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as error:
        raise JaneDoeInputError(f"not a readable Parquet file ({str(error).split(':')[0]})", where=str(path)) from None


def read_schema(path: str | Path, delimiter: str | None = None) -> pa.Schema:
    """The schema a stream of this file will have, without reading its data."""
    path = _existing(path)
    kind = table_format(path)
    if kind == "csv":
        return read_csv_schema(path, delimiter)[0]
    if kind == "parquet":
        return _parquet_file(path).schema_arrow
    return read_jsonl_schema(path)


def _raw_batches(path: Path, kind: str, delimiter: str | None, batch_size: int) -> Iterator[pa.RecordBatch]:
    if kind == "csv":
        yield from iter_csv_batches(path, delimiter)
    elif kind == "parquet":
        parquet = _parquet_file(path)
        try:
            yield from parquet.iter_batches(batch_size=batch_size)
        except (pa.ArrowInvalid, OSError) as error:
            raise JaneDoeInputError(f"corrupt Parquet data ({str(error).split(':')[0]})", where=str(path)) from None
    else:
        yield from iter_jsonl_batches(path)


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
    path: str | Path, *, batch_size: int = 65536, delimiter: str | None = None
) -> Iterator[pa.RecordBatch]:
    """Stream a CSV, Parquet or JSON Lines file as record batches of batch_size rows, in bounded memory."""
    if batch_size < 1:
        raise JaneDoeInputError("batch size must be at least 1")
    path = _existing(path)
    yield from _rebatch(_raw_batches(path, table_format(path), delimiter, batch_size), batch_size)


def read_table(path: str | Path, *, delimiter: str | None = None) -> pa.Table:
    """A whole file as one Arrow table (for files that fit in memory)."""
    path = _existing(path)
    schema = read_schema(path, delimiter)
    batches = list(iter_batches(path, batch_size=1 << 20, delimiter=delimiter))
    if not batches:
        return schema.empty_table()
    return pa.Table.from_batches(batches)
