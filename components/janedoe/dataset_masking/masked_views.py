"""Masked reads of a registered dataset for one role: a page of rows, or the whole dataset as a stream of batches.

Parsed policies, maskers, (small) tables and masked pages are cached per process; the data file is the source of
truth. Deterministic rules (pseudonymize and hash, keyed by the server's key; partial, generalize) and the random ones
(noise, random_*, fake: each draw derived from the server's key, the column and the row's identity) give a row the same
masked value on every read, every export, after a restart and in every process, so repeated exports cannot be averaged
to undo the noise (registration refuses rules marked `fresh`, which would draw anew per export). `shuffle` permutes
the whole column, as `mask_file` does: a role's shuffled columns are built once into a side file next to the data
(shuffled_columns) and row reads and exports take them from it by row offset, so both show one permutation, the same
on every read and after a restart. Row reads are served from a role's masked view, materialized in chunks of rows on
first use.
"""

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from janedoe.dataset_masking.formula_escape import escape_formulas
from janedoe.dataset_masking.role_masking import role_masker, server_secret
from janedoe.dataset_masking.shuffled_columns import GROUP_ROWS, ShuffledColumns, shuffled_columns
from janedoe.errors import JaneDoeInputError
from janedoe.masking import TableMasker
from janedoe.policy import parse_policy
from janedoe.service_store import DatasetRecord
from janedoe.tabular import iter_batches, read_schema, read_table

_EXPORT_BATCH_ROWS = 65_536
_CACHED_TABLE_MAX_ROWS = 5_000_000
_MASKED_CHUNK_ROWS = GROUP_ROWS  # a chunk's shuffled columns are one row group of the side file
_MASKED_CACHE_MAX_ROWS = 2_000_000


@dataclass
class RoleView:
    """What one role sees of one dataset."""

    record: DatasetRecord
    masker: TableMasker | None  # None for a raw role
    output_schema: pa.Schema
    shuffled: ShuffledColumns | None = None  # the whole-column `shuffle` columns, by row offset
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def mask(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        if self.masker is None:
            return batch
        with self._lock:  # a masker's random state is not meant for concurrent threads
            return self.masker.mask_batch(batch)

    def batches(self, *, csv_formula_escape: bool = False) -> Iterator[pa.RecordBatch]:
        """The whole dataset, masked, in bounded memory; `csv_formula_escape` for a CSV download (OWASP)."""
        shuffled = self.shuffled.batches(_EXPORT_BATCH_ROWS) if self.shuffled is not None else None
        for batch in iter_batches(self.record.data_path, batch_size=_EXPORT_BATCH_ROWS):
            masked = self.mask(batch)
            if self.shuffled is not None and shuffled is not None:
                masked = self.shuffled.replace(masked, next(shuffled))
            yield escape_formulas(masked) if csv_formula_escape else masked


@dataclass
class _MaskedChunk:
    batch: pa.RecordBatch
    json_rows: list[str] | None = None


def json_row_texts(batch: pa.RecordBatch) -> list[str]:
    """One JSON object text per row, JSON-safe: temporal, decimal and binary values as text, NaN and infinities null.

    Runs once per cached chunk, not per request.
    """
    columns = []
    for column in batch.columns:
        kind = column.type
        if pa.types.is_temporal(kind) or pa.types.is_decimal(kind):
            column = pc.cast(column, pa.string())
        elif pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            column = pa.array([None if value is None else value.hex() for value in column.to_pylist()], pa.string())
        if pa.types.is_floating(kind):
            column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, kind))
        columns.append(column)
    rows = pa.RecordBatch.from_arrays(columns, names=batch.schema.names).to_pylist()
    return [json.dumps(row, separators=(",", ":")) for row in rows]


class MaskedViews:
    """Per-process cache of datasets' tables and each role's masker, keyed by dataset id (ids are never reused)."""

    def __init__(self, max_datasets: int = 8) -> None:
        self.max_datasets = max_datasets
        self._tables: OrderedDict[str, pa.Table] = OrderedDict()
        self._views: dict[tuple[str, str], RoleView] = {}
        self._policies: dict[str, object] = {}
        self._lock = threading.Lock()
        self._building: dict[tuple[str, str], threading.Lock] = {}
        # Masked chunks per (dataset id, role, chunk index), least recently used first, bounded in rows.
        self._masked: OrderedDict[tuple[str, str, int], _MaskedChunk] = OrderedDict()
        self._masked_rows = 0

    def view(self, record: DatasetRecord, role: str) -> RoleView:
        key = (record.dataset_id, role)
        with self._lock:
            cached = self._views.get(key)
            building = self._building.setdefault(key, threading.Lock())
        if cached is not None:
            return cached
        # One thread builds a role's masker (Faker pools can take seconds); concurrent first readers wait for it.
        with building:
            with self._lock:
                cached = self._views.get(key)
            if cached is not None:
                return cached
            schema = read_schema(record.data_path)
            policy = self.policy(record)
            masker = role_masker(policy, record.table_name, schema, role)
            if masker is not None and masker.needs_prepass:  # unique pseudonyms: from the whole dataset's values
                masker.prepass(iter_batches(record.data_path, batch_size=_EXPORT_BATCH_ROWS))
            shuffled = None
            if masker is not None and masker.shuffle_maskers:  # built with a masker of its own: it takes over shuffles
                secret = server_secret(policy)
                if secret is None:  # the masker above could not have been built keyless: fail closed all the same
                    raise JaneDoeInputError("a shuffle rule needs the server's key", where=f"roles.{role}")
                shuffled = shuffled_columns(
                    record, role, lambda: role_masker(policy, record.table_name, schema, role, secret=secret), secret
                )
            view = RoleView(record, masker, schema if masker is None else masker.output_schema, shuffled)
            with self._lock:
                self._views[key] = view
            return view

    def rows(self, record: DatasetRecord, role: str, *, offset: int, limit: int) -> pa.Table:
        """Rows [offset, offset+limit) as `role` sees them, sliced from the role's cached masked chunks."""
        view, pieces = self._pieces(record, role, offset, limit)
        return pa.Table.from_batches([chunk.batch.slice(start, stop - start) for chunk, start, stop in pieces],
                                     schema=view.output_schema)

    def rows_json(self, record: DatasetRecord, role: str, *, offset: int, limit: int) -> tuple[pa.Schema, list[str]]:
        """The same rows as JSON object texts (temporal, decimal and binary values as text; NaN, inf as null).

        Each chunk is encoded once and kept with it, so a page read costs a slice and a join.
        """
        view, pieces = self._pieces(record, role, offset, limit)
        texts: list[str] = []
        for chunk, start, stop in pieces:
            if chunk.json_rows is None:  # two threads may both encode a chunk: the same texts either way
                chunk.json_rows = json_row_texts(chunk.batch)
            texts.extend(chunk.json_rows[start:stop])
        return view.output_schema, texts

    def _pieces(self, record: DatasetRecord, role: str, offset: int, limit: int):
        view = self.view(record, role)
        table = self.raw_table(record)
        end = min(offset + limit, table.num_rows)
        pieces = []
        for index in range(offset // _MASKED_CHUNK_ROWS, (end - 1) // _MASKED_CHUNK_ROWS + 1) if offset < end else ():
            chunk = self._masked_chunk(view, role, table, index)
            first = index * _MASKED_CHUNK_ROWS
            pieces.append((chunk, max(offset - first, 0), min(end - first, chunk.batch.num_rows)))
        return view, pieces

    def _masked_chunk(self, view: RoleView, role: str, table: pa.Table, index: int) -> "_MaskedChunk":
        key = (view.record.dataset_id, role, index)
        with self._lock:
            chunk = self._masked.get(key)
            if chunk is not None:
                self._masked.move_to_end(key)
                return chunk
            building = self._building.setdefault(key[:2], threading.Lock())
        with building:  # one thread masks a chunk: concurrent readers of it must all see the same draw
            with self._lock:
                chunk = self._masked.get(key)
            if chunk is not None:
                return chunk
            raw = table.slice(index * _MASKED_CHUNK_ROWS, _MASKED_CHUNK_ROWS).combine_chunks().to_batches()
            masked = pa.Table.from_batches([view.mask(batch) for batch in raw], schema=view.output_schema)
            batch = masked.combine_chunks().to_batches()[0]
            if view.shuffled is not None:
                batch = view.shuffled.replace(batch, view.shuffled.group(index))
            chunk = _MaskedChunk(batch)
            with self._lock:
                self._masked[key] = chunk
                self._masked_rows += chunk.batch.num_rows
                while self._masked_rows > _MASKED_CACHE_MAX_ROWS and len(self._masked) > 1:
                    self._masked_rows -= self._masked.popitem(last=False)[1].batch.num_rows
            return chunk

    def forget(self, dataset_id: str) -> None:
        with self._lock:
            self._tables.pop(dataset_id, None)
            self._policies.pop(dataset_id, None)
            for key in [key for key in self._views if key[0] == dataset_id]:
                del self._views[key]
            for masked_key in [key for key in self._masked if key[0] == dataset_id]:
                self._masked_rows -= self._masked.pop(masked_key).batch.num_rows
            for building_key in [key for key in self._building if key[0] == dataset_id]:
                del self._building[building_key]

    def policy(self, record: DatasetRecord):
        """The dataset's parsed policy (cached)."""
        with self._lock:
            policy = self._policies.get(record.dataset_id)
        if policy is None:
            policy = parse_policy(record.policy_text, f"datasets/{record.dataset_id}/policy")
            with self._lock:
                self._policies[record.dataset_id] = policy
        return policy

    def raw_table(self, record: DatasetRecord) -> pa.Table:
        """The dataset's original data (cached): only for components that release noisy or masked results."""
        with self._lock:
            table = self._tables.get(record.dataset_id)
            if table is not None:
                self._tables.move_to_end(record.dataset_id)
                return table
            loading = self._building.setdefault((record.dataset_id, ""), threading.Lock())
        if record.row_count > _CACHED_TABLE_MAX_ROWS:
            raise JaneDoeInputError("dataset too large for paged reads; use the export endpoint", where="rows")
        with loading:  # one thread reads the file; concurrent first readers wait for its table
            with self._lock:
                table = self._tables.get(record.dataset_id)
            if table is not None:
                return table
            table = read_table(record.data_path)
            with self._lock:
                self._tables[record.dataset_id] = table
                while len(self._tables) > self.max_datasets:
                    self._tables.popitem(last=False)
        return table

