"""A role's `shuffle` columns permuted over the whole dataset, kept in a side file next to the data file.

Shuffled within each batch, a value would be known to belong to one of the rows of its batch (with the row's other
columns shown, a strong link); PostgreSQL Anonymizer's shuffle, and janedoe's own `mask_file` and `db copy`, hide it
among all rows. The masking component's two-pass WholeColumnShuffles (bounded memory) does it once per dataset, role
and key; the permuted columns (only those) go to a Parquet side file, written to a temp file and renamed, in row groups
of `GROUP_ROWS` rows so a page chunk reads one group. Reads and exports take them from there by row offset: every read,
export, process and restart shows the same permutation, whatever the batch size. The file's name carries an HMAC,
keyed by the server's key, of what determines the permutation (never the key or a bare hash of it): another key or
policy gives another file. It holds original values, like the data file beside it, and goes with the dataset; a role's
files under other digests (the server's key rotated) are removed when a view builds its own, so stale copies do not
pile up. The role's part of the name is an injective escape of the role (`a.b` and `a_b` get different files), so that
sweep never touches another role's file. Removal is safe for readers: an export opens the file once and reads on from
its open handle (unlinking keeps the inode), and a page chunk, which opens it per read, rebuilds a file that vanished.
"""

import contextlib
import glob
import hashlib
import hmac
import os
import re
import string
from collections.abc import Callable, Iterable, Iterator

import pyarrow as pa
from janedoe.errors import NotFoundError
from janedoe.masking import TableMasker, WholeColumnShuffles
from janedoe.service_store import DatasetRecord
from janedoe.tabular import AtomicTableWriter

GROUP_ROWS = 4096  # the row reads' chunk: chunk i is row group i
_PASS_ROWS = 65_536
_NAME_VERSION = b"janedoe shuffled columns v1"
_PLAIN_ROLE_CHARS = frozenset(string.ascii_letters + string.digits + "-")
_MAX_ROLE_PART = 64  # longer escaped role names are hashed, so a file name stays far below 255 bytes
_DIGEST_TAIL = re.compile(r"[0-9a-f]{32}\.parquet")


class ShuffledColumns:
    """A built side file: the shuffled columns of every row, in row order."""

    def __init__(self, path: str, schema: pa.Schema, record: DatasetRecord, rebuild: Callable[[], None]) -> None:
        self.path = path
        self.schema = schema
        self.record = record
        self._rebuild = rebuild

    def group(self, index: int) -> pa.RecordBatch:
        """Rows [index * GROUP_ROWS, (index + 1) * GROUP_ROWS): the shuffled columns of a page chunk."""
        with self._opened() as side:
            return _one_batch(side.read_row_group(index), self.schema)

    def batches(self, batch_size: int) -> Iterator[pa.RecordBatch]:
        """Every row in batches of exactly `batch_size` rows (the last one shorter), in bounded memory."""
        with self._opened() as side:
            yield from _rebatched(side.iter_batches(batch_size=batch_size), batch_size, self.schema)

    def _opened(self):
        """The file, opened once for the caller's whole read: removing it later leaves this handle readable."""
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except FileNotFoundError:
            pass
        if os.path.exists(self.record.data_path):  # removed as stale by a process under another key: built again
            self._rebuild()
            with contextlib.suppress(FileNotFoundError):
                return pq.ParquetFile(self.path)
        # the dataset was deleted (by another process, too)
        raise NotFoundError("no such dataset", where=f"datasets/{self.record.dataset_id}")

    def replace(self, masked: pa.RecordBatch, shuffled: pa.RecordBatch) -> pa.RecordBatch:
        """The masked batch with its shuffle columns taken from the side file's rows of the same offsets."""
        if shuffled.num_rows != masked.num_rows:
            raise RuntimeError(f"side file {os.path.basename(self.path)} is out of step with the data")
        for name in self.schema.names:
            index = masked.schema.get_field_index(name)
            masked = masked.set_column(index, masked.schema.field(index), shuffled.column(name))
        return masked


def shuffled_columns(
    record: DatasetRecord, role: str, new_masker: Callable[[], TableMasker], secret: bytes
) -> ShuffledColumns | None:
    """The role's side file, built on first use (None when the role has no `shuffle` rule); the role's stale side
    files (other digests) are removed.

    `new_masker` makes a fresh masker of the role for each build (a whole-column shuffle takes over its shuffle
    maskers, so it must not be the one serving reads). Concurrent builders (threads or processes) each write their own
    temp file and rename it: the last rename wins, and all of them hold the same values."""
    masker = new_masker()
    shuffles = masker.shuffle_maskers
    if not shuffles:
        return None
    schema = pa.schema([masker.output_schema.field(name) for name in shuffles])
    path = record.derived_path(side_file_name(record, role, secret))
    if not _is_complete(path, schema, record.row_count):
        _build_checked(path, record, masker, schema)
    _remove_stale(record, role, path)
    return ShuffledColumns(path, schema, record, lambda: _build_checked(path, record, new_masker(), schema))


def side_file_name(record: DatasetRecord, role: str, secret: bytes) -> str:
    """`shuffled-<role>-<digest>.parquet`; the digest is an HMAC keyed by the server's key (the permutation's key) of
    the dataset, table, role, policy and row count; <role> is `role_name_part(role)`."""
    message = b"\0".join(
        [_NAME_VERSION, *(part.encode() for part in (record.dataset_id, record.table_name, role, record.policy_text,
                                                     str(record.row_count)))]
    )
    digest = hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]
    return f"shuffled-{role_name_part(role)}-{digest}.parquet"


def role_name_part(role: str) -> str:
    """The role as a file name part, one to one: letters, digits and `-` kept, any other character's UTF-8 bytes as
    `_xx`; an escape longer than `_MAX_ROLE_PART` as `~` and a sha256 of the role (`~` is never in an escape)."""
    escaped = "".join(
        char if char in _PLAIN_ROLE_CHARS else "".join(f"_{byte:02x}" for byte in char.encode("utf-8", "surrogatepass"))
        for char in role
    )
    if len(escaped) <= _MAX_ROLE_PART:
        return escaped
    return "~" + hashlib.sha256(role.encode("utf-8", "surrogatepass")).hexdigest()[:40]


def _remove_stale(record: DatasetRecord, role: str, keep: str) -> None:
    """Removes the role's other side files of this dataset: `<id>.shuffled-<role part>-<32 hex>.parquet` exactly, so
    never another role's file (the digest has a fixed length) nor a builder's temp file (`.<name>.<random>.tmp`)."""
    prefix = record.derived_path(f"shuffled-{role_name_part(role)}-")
    for path in glob.glob(glob.escape(prefix) + "*.parquet"):
        if path != keep and _DIGEST_TAIL.fullmatch(path[len(prefix):]):
            with contextlib.suppress(FileNotFoundError):  # another process swept it first
                os.remove(path)


def _build_checked(path: str, record: DatasetRecord, masker: TableMasker, schema: pa.Schema) -> None:
    _build(path, record, masker, schema)
    if not os.path.exists(record.data_path):  # deleted while we built: leave nothing behind
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
        raise NotFoundError("no such dataset", where=f"datasets/{record.dataset_id}")


def _build(path: str, record: DatasetRecord, masker: TableMasker, schema: pa.Schema) -> None:
    import pyarrow.parquet as pq

    shuffle_maskers = masker.shuffle_maskers
    with WholeColumnShuffles(masker) as shuffles, pq.ParquetFile(record.data_path) as data:
        columns = shuffles.input_columns
        for batch in data.iter_batches(batch_size=_PASS_ROWS, columns=columns):
            shuffles.observe(batch)
        shuffles.start()
        with AtomicTableWriter(path, schema) as writer:
            batches = _rebatched(data.iter_batches(batch_size=GROUP_ROWS, columns=columns), GROUP_ROWS, None)
            for batch in batches:  # one write per row group of GROUP_ROWS rows
                arrays = []
                for field in schema:
                    values = batch.column(field.name)
                    kind = masker.input_schema.field(field.name).type
                    values = values.cast(kind) if values.type != kind else values
                    arrays.append(shuffle_maskers[field.name].apply_rows(values, values).cast(field.type))
                writer.write_batch(pa.RecordBatch.from_arrays(arrays, schema=schema))
        shuffles.check_finished()


def _is_complete(path: str, schema: pa.Schema, row_count: int) -> bool:
    """A side file of this shape: the columns, every row, groups of GROUP_ROWS (else it is rebuilt)."""
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as side:
            metadata = side.metadata
            groups = [metadata.row_group(index).num_rows for index in range(metadata.num_row_groups)]
            same_columns = side.schema_arrow.names == schema.names  # types: cast back on reading (timestamp[s]...)
    except FileNotFoundError:
        return False
    except (OSError, pa.ArrowException):  # damaged: built again
        return False
    expected = [GROUP_ROWS] * (row_count // GROUP_ROWS) + ([row_count % GROUP_ROWS] if row_count % GROUP_ROWS else [])
    return same_columns and groups == expected


def _rebatched(batches: Iterable[pa.RecordBatch], size: int, schema: pa.Schema | None) -> Iterator[pa.RecordBatch]:
    """Batches of exactly `size` rows (the last one shorter), whatever the reader's row-group boundaries."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        while rows >= size:
            table = pa.Table.from_batches(pending)
            yield _one_batch(table.slice(0, size), schema)
            rest = table.slice(size)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield _one_batch(pa.Table.from_batches(pending), schema)


def _one_batch(table: pa.Table, schema: pa.Schema | None) -> pa.RecordBatch:
    table = table.combine_chunks()
    batches = table.to_batches()
    batch = batches[0] if batches else pa.RecordBatch.from_pylist([], schema=table.schema)
    return batch.cast(schema) if schema is not None and batch.schema != schema else batch
