"""Whole-column `shuffle` when streaming: two passes, bounded memory.

A shuffle moves values between rows, so its output needs the column's values: they must be stored. The first pass
gives every non-null value a keyed 64-bit draw (of its row's identity and position, as the batch shuffle does) and
sorts by draw in runs of at most `memory_rows` values (default 1,000,000); a full run is spilled to a temporary Arrow
IPC file (in a private 0700 directory, removed at the end: it holds ORIGINAL values, so TMPDIR must be a place they
may be written). The second pass merges the runs by draw, reading 8,192 values per run at a time, and gives the k-th
non-null row the k-th value: a uniformly random permutation of the non-null values over the non-null rows (sorting
by independent uniform keys), the same for the same input, key and seed. Memory: at most `memory_rows` values in the
first pass, 8,192 per run in the second. NULLs stay where they are.
"""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
from janedoe.masking.random_rules import ShuffleMasker

MEMORY_ROWS = 1_000_000
RUN_CHUNK_ROWS = 8_192


class InputChangedError(RuntimeError):
    """The second pass saw other non-null values than the first: the input changed between them."""


class ShuffledColumn:
    """One column's values, collected in the first pass and handed out in shuffled order in the second."""

    def __init__(self, masker: ShuffleMasker, value_type: pa.DataType, directory: Path, name: str,
                 memory_rows: int) -> None:
        self.masker = masker
        self.value_type = value_type
        self.directory = directory
        self.name = name
        self.memory_rows = memory_rows
        self._keys: list[np.ndarray] = []
        self._values: list[pa.Array] = []
        self._buffered = 0
        self._position = 0
        self.runs: list[Path] = []
        self._merged: Iterator[pa.Array] | None = None  # set by start()
        self._pending: list[pa.Array] = []
        self._pending_rows = 0

    def add(self, values: pa.Array, identity: pa.Array) -> None:
        start = 0
        while start < len(values):  # a batch larger than the room left is split, so a run never exceeds the bound
            room = max(self.memory_rows - self._buffered, 1)
            self._add(values.slice(start, room), identity.slice(start, room))
            start += room

    def _add(self, values: pa.Array, identity: pa.Array) -> None:
        valid, words = self.masker.column_keys(values, identity, self._position)
        if len(valid):
            self._keys.append(words)
            self._values.append(values.take(pa.array(valid)))
            self._buffered += len(valid)
        self._position += len(values)
        if self._buffered >= self.memory_rows:
            self._spill()

    def _sorted_buffer(self) -> tuple[np.ndarray, pa.Array]:
        keys = np.concatenate(self._keys) if self._keys else np.empty(0, np.uint64)
        values = pa.concat_arrays(self._values) if self._values else pa.array([], self.value_type)
        self._keys, self._values, self._buffered = [], [], 0
        order = np.argsort(keys, kind="stable")
        return keys[order], values.take(pa.array(order))

    def _spill(self) -> None:
        keys, values = self._sorted_buffer()
        path = self.directory / f"{self.name}-{len(self.runs)}.arrow"
        table = pa.table({"key": pa.array(keys, pa.uint64()), "value": values})
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=RUN_CHUNK_ROWS)
        self.runs.append(path)

    def start(self) -> None:
        """End of the first pass: the values are ready to be handed out in shuffled order."""
        if self.runs:
            if self._buffered:
                self._spill()
            self._merged = _merge_runs(self.runs)
        else:
            keys, values = self._sorted_buffer()
            self._merged = iter([values] if len(values) else [])

    def take(self, count: int) -> pa.Array:
        """The next `count` values of the shuffled sequence."""
        assert self._merged is not None, "start() ends the first pass"
        while self._pending_rows < count:
            chunk = next(self._merged, None)
            if chunk is None:
                raise InputChangedError(f"column {self.name!r} has more values than in the first pass")
            self._pending.append(chunk)
            self._pending_rows += len(chunk)
        pending = pa.concat_arrays(self._pending) if len(self._pending) != 1 else self._pending[0]
        self._pending = [pending.slice(count)] if len(pending) > count else []
        self._pending_rows = len(pending) - count
        return pending.slice(0, count)

    def finished(self) -> bool:
        if self._pending_rows:
            return False
        assert self._merged is not None, "start() ends the first pass"
        chunk = next(self._merged, None)
        while chunk is not None and not len(chunk):
            chunk = next(self._merged, None)
        return chunk is None


def _merge_runs(paths: list[Path]) -> Iterator[pa.Array]:
    """The runs' values in draw order: a vectorized k-way merge that emits, each round, every buffered value whose
    draw is at most the smallest last draw among runs with more to read."""
    readers = [pa.ipc.open_file(pa.memory_map(str(path))) for path in paths]
    next_chunk = [0] * len(readers)
    keys: list[np.ndarray] = [np.empty(0, np.uint64)] * len(readers)  # a run's draws not yet emitted
    values: list[pa.Array] = [None] * len(readers)  # their values, read with them
    while True:
        for run, reader in enumerate(readers):
            if not len(keys[run]) and next_chunk[run] < reader.num_record_batches:
                batch = reader.get_batch(next_chunk[run])
                next_chunk[run] += 1
                keys[run] = batch.column(0).to_numpy()
                values[run] = batch.column(1)
        active = [run for run in range(len(readers)) if len(keys[run])]
        if not active:
            return
        more = [keys[run][-1] for run in active if next_chunk[run] < readers[run].num_record_batches]
        threshold = min(more) if more else np.iinfo(np.uint64).max
        taken_keys, taken_values = [], []
        for run in active:
            cut = int(np.searchsorted(keys[run], threshold, side="right"))
            taken_keys.append(keys[run][:cut])
            taken_values.append(values[run].slice(0, cut))
            keys[run], values[run] = keys[run][cut:], values[run].slice(cut)
        merged_keys = np.concatenate(taken_keys)
        order = np.argsort(merged_keys, kind="stable")
        yield pa.concat_arrays(taken_values).take(pa.array(order))


class WholeColumnShuffles:
    """The `shuffle` columns of a table masker, shuffled over the whole column instead of within each batch.

    `observe` every batch of the input (in row order: the first pass), `start`, then mask the batches (any order of
    rows gives a uniform permutation; the same order gives the same output). Use as a context manager: the spilled
    runs are removed on exit."""

    def __init__(self, table_masker, memory_rows: int | None = None) -> None:
        self.table_masker = table_masker
        self.memory_rows = memory_rows or MEMORY_ROWS
        self.shuffles = [
            (field, masker)
            for field, masker in zip(table_masker.input_schema, table_masker.maskers, strict=True)
            if isinstance(masker, ShuffleMasker)
        ]
        self.directory: Path | None = None
        self.columns: dict[str, ShuffledColumn] = {}

    def __bool__(self) -> bool:
        return bool(self.shuffles)

    @property
    def input_columns(self) -> list[str]:
        """The input columns the first pass reads."""
        names = {field.name for field, _ in self.shuffles}
        names |= {m.identity_column for _, m in self.shuffles if m.identity_column is not None}
        return [name for name in self.table_masker.input_schema.names if name in names]

    def __enter__(self) -> "WholeColumnShuffles":
        if self.shuffles:
            self.directory = Path(tempfile.mkdtemp(prefix="janedoe-shuffle-"))
            for index, (field, masker) in enumerate(self.shuffles):
                self.columns[field.name] = ShuffledColumn(masker, field.type, self.directory, f"c{index}",
                                                          self.memory_rows)
        return self

    def observe(self, batch: pa.RecordBatch) -> None:
        for field, masker in self.shuffles:
            values = batch.column(field.name)
            if values.type != field.type:
                values = values.cast(field.type)
            identity = values if masker.identity_column is None else batch.column(masker.identity_column)
            self.columns[field.name].add(values, identity)

    def start(self) -> None:
        for field, masker in self.shuffles:
            column = self.columns[field.name]
            column.start()
            masker.use_whole_column(column)

    def skip(self, counts: dict[str, int]) -> None:
        """After `start`: hand out and drop the next `counts[column]` values, those of rows already written (a resumed
        copy continues the same shuffled sequence)."""
        for name, count in counts.items():
            if count:
                self.columns[name].take(count)

    def check_finished(self) -> None:
        for name, column in self.columns.items():
            if not column.finished():
                raise InputChangedError(f"column {name!r} has fewer values than in the first pass")

    def __exit__(self, *exc) -> None:
        for _, masker in self.shuffles:
            masker.use_whole_column(None)
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None
