"""Encodes a stream of masked record batches as CSV, Parquet or JSON Lines bytes, chunk by chunk, in bounded memory.

Rendering only: the batches arrive already masked by the dataset_masking component.
"""

import io
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from janedoe.tabular import encode_jsonl

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "jsonl": "application/x-ndjson",
}


class _Chunks(io.RawIOBase):
    """A write-only file whose bytes are taken out after each batch (pyarrow writers write into it)."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def encode(batches: Iterable[pa.RecordBatch], schema: pa.Schema, file_format: str) -> Iterator[bytes]:
    if file_format == "jsonl":
        yield from encode_jsonl(batches, schema)
        return
    sink = _Chunks()
    writer = pacsv.CSVWriter(sink, schema) if file_format == "csv" else pq.ParquetWriter(sink, schema)
    try:
        for batch in batches:
            writer.write_batch(batch)
            chunk = sink.take()
            if chunk:
                yield chunk
    finally:
        writer.close()
    tail = sink.take()
    if tail:
        yield tail

