"""Turning an uploaded file into a registered dataset: validated against its policy, stored as Parquet, streamed."""

import os
import shutil
import tempfile
import weakref

from janedoe.errors import JaneDoeInputError
from janedoe.policy import choose_table
from janedoe.service_state.datasets import DatasetRecord
from janedoe.service_state.leftovers import UPLOAD_DIR_PREFIX, hold_upload_lock
from janedoe.service_state.role_masking import check_every_role, parse_dataset_policy
from janedoe.service_state.store import StateStore
from janedoe.service_state.upload_masking import renamed_error
from janedoe.tabular import AtomicTableWriter, iter_batches, read_schema

_BATCH_ROWS = 65_536


def ingest_dataset(
    state: StateStore, *, upload_path: str, shown_name: str, name: str, table_name: str | None, policy_text: str,
    created_by: str, encoding: str | None = None,
) -> DatasetRecord:
    """Registers the file at upload_path under `name`; errors name `shown_name`, never the server's temp path.

    The data is rewritten as Parquet in the service's data dir (atomic), so row reads and exports stream from one
    format; the upload itself is left for the caller to delete. `encoding` is the upload's text encoding (default: the
    policy table's, else UTF-8); the stored copy is UTF-8.
    """
    try:
        policy = parse_dataset_policy(policy_text)
        table_name = table_name or os.path.splitext(os.path.basename(shown_name))[0]
        table_name, table_policy = choose_table(
            policy, table_name, table_name, where=f"policy: tables.{table_name}", option="the table field"
        )
        encoding = encoding or table_policy.encoding
        schema = read_schema(upload_path, encoding=encoding)
        check_every_role(policy, table_name, schema)
        dataset_id, data_path = state.datasets.new_data_path(".parquet")
        with AtomicTableWriter(data_path, schema) as writer:
            for batch in iter_batches(upload_path, batch_size=_BATCH_ROWS, encoding=encoding):
                writer.write_batch(batch)
        row_count = writer.rows_written
    except JaneDoeInputError as error:
        raise renamed_error(error, {upload_path: shown_name}) from None
    columns = [{"name": field.name, "type": str(field.type)} for field in schema]
    try:
        return state.datasets.register(
            dataset_id=dataset_id, name=name, table_name=table_name, data_path=data_path, policy_text=policy_text,
            row_count=row_count, columns=columns, created_by=created_by,
        )
    except BaseException:
        os.remove(data_path)
        raise


class UploadDir:
    """A private temp directory for uploads inside the data dir (same filesystem), removed with everything in it.

    It stays locked while this object lives, so a start-up sweep (remove_leftovers) removes only dirs of dead processes.
    """

    def __init__(self, state: StateStore) -> None:
        base = state.datasets.data_dir
        if base is None:
            raise JaneDoeInputError("this server has no data directory for uploads", where="--data-dir")
        while True:
            self.path = tempfile.mkdtemp(prefix=UPLOAD_DIR_PREFIX, dir=base)
            lock = hold_upload_lock(self.path)
            if lock is not None:
                break
        self._unlock = weakref.finalize(self, os.close, lock)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self._unlock()

    def file(self, filename: str) -> str:
        """A path for an uploaded file, keeping only the extension of the client's name (never its directories)."""
        extension = os.path.splitext(os.path.basename(filename or ""))[1].lower()[:12]
        return os.path.join(self.path, f"upload{extension}")

    def __enter__(self) -> "UploadDir":
        return self

    def __exit__(self, *_exc) -> None:
        self.remove()
