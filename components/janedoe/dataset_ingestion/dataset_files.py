"""Turning an uploaded file into a registered dataset: validated against its policy, stored as Parquet, streamed."""

import os

from janedoe.dataset_masking import check_every_role, parse_dataset_policy, renamed_error
from janedoe.errors import JaneDoeInputError
from janedoe.policy import choose_table
from janedoe.service_store import DatasetRecord, StateStore
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
