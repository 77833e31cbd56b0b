"""Atomic table writing: data goes to a temp file in the target directory and is renamed into place on success.

A failure (or Ctrl-C) leaves no output file and never a half-written one.
"""

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import pyarrow as pa
import pyarrow.csv as pacsv
from janedoe.errors import JaneDoeInputError
from janedoe.tabular.formats import table_format
from janedoe.tabular.jsonl_io import jsonl_bytes

if TYPE_CHECKING:  # imported where Parquet is written: CSV and JSON Lines outputs do not pay for it
    import pyarrow.parquet as pq


class AtomicTableWriter:
    """Context manager writing record batches to CSV, Parquet or JSON Lines (by extension), all or nothing."""

    def __init__(self, path: str | Path, schema: pa.Schema) -> None:
        self.path = Path(path)
        self.schema = schema
        self.format = table_format(self.path)
        self.rows_written = 0
        self._temp_path: Path | None = None
        self._sink: BinaryIO | None = None
        self._writer: pacsv.CSVWriter | pq.ParquetWriter | None = None


    def __enter__(self) -> "AtomicTableWriter":
        directory = self.path.parent if str(self.path.parent) else Path(".")
        if not directory.is_dir():
            raise JaneDoeInputError("the output directory does not exist", where=str(self.path))
        if self.path.is_dir():
            raise JaneDoeInputError("the output path is a directory", where=str(self.path))
        try:
            handle, name = tempfile.mkstemp(dir=directory, prefix=f".{self.path.name}.", suffix=".tmp")
        except OSError as error:
            raise JaneDoeInputError(f"cannot write here ({error.strerror})", where=str(self.path)) from None
        os.close(handle)
        os.chmod(name, 0o644)  # mkstemp's 0600 would surprise whoever the masked output is shared with
        self._temp_path = Path(name)
        try:
            self._open_writer()
        except BaseException:
            self._discard()
            raise
        return self

    def _open_writer(self) -> None:
        assert self._temp_path is not None  # __enter__ made the temporary file first
        if self.format == "csv":
            self._writer = pacsv.CSVWriter(str(self._temp_path), self.schema)
        elif self.format == "parquet":
            import pyarrow.parquet as pq

            self._writer = pq.ParquetWriter(str(self._temp_path), self.schema)
        else:
            self._sink = open(self._temp_path, "wb")

    def write_batch(self, batch: pa.RecordBatch) -> None:
        if batch.schema != self.schema:
            batch = batch.cast(self.schema)
        if self.format == "jsonl":
            assert self._sink is not None, "write inside the with block"
            self._sink.write(jsonl_bytes(batch))
        else:
            assert self._writer is not None, "write inside the with block"
            self._writer.write_batch(batch)
        self.rows_written += batch.num_rows

    def write_table(self, table: pa.Table) -> None:
        for batch in table.to_batches():
            self.write_batch(batch)

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._sink is not None:
            self._sink.close()
            self._sink = None

    def _discard(self) -> None:
        try:
            self._close()
        finally:
            if self._temp_path is not None:
                self._temp_path.unlink(missing_ok=True)
                self._temp_path = None

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is not None:
            self._discard()
            return
        assert self._temp_path is not None  # __enter__ made it
        try:
            self._close()
            os.replace(self._temp_path, self.path)
            self._temp_path = None
        except OSError as error:
            self._discard()
            raise JaneDoeInputError(f"cannot write the output ({error.strerror})", where=str(self.path)) from None
        except BaseException:
            self._discard()
            raise


def write_table_atomic(table: pa.Table, path: str | Path) -> None:
    """Write a whole table atomically, format by extension."""
    with AtomicTableWriter(path, table.schema) as writer:
        writer.write_table(table)
