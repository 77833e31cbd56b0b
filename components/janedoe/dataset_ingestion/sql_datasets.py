"""Registering a dataset from a SQL table: a snapshot of the table, stored as Parquet like an uploaded file.

The database URL may carry a password: only its redacted form is stored (as the dataset's source) or shown.
"""

import os

from janedoe.database_access import parse_database_url
from janedoe.dataset_masking import check_every_role, parse_dataset_policy
from janedoe.errors import JaneDoeInputError
from janedoe.policy import choose_table
from janedoe.service_store import DatasetRecord, StateStore
from janedoe.sqldb import iter_table_batches
from janedoe.tabular import AtomicTableWriter

_BATCH_ROWS = 65_536
# A server the API cannot reach must give the client a quick 4xx, not hold a request thread for libpq's default.
CONNECT_TIMEOUT_SECONDS = 5


def ingest_sql_table(
    state: StateStore, *, url: str, table: str, name: str, policy_text: str, created_by: str,
    policy_table: str | None = None,
) -> DatasetRecord:
    """Copies `table` (one read-only snapshot) into the data dir; the policy must name `policy_table` (or `table`)."""
    policy = parse_dataset_policy(policy_text)
    policy_table = policy_table or table
    try:
        source = parse_database_url(url, where="url")
    except ValueError:  # its message would quote the URL, and a string that is not a URL cannot be redacted
        raise JaneDoeInputError("use sqlite:///file.db or postgresql://... as the database URL", where="url") from None
    batches = iter_table_batches(source, table, batch_size=_BATCH_ROWS, connect_timeout=CONNECT_TIMEOUT_SECONDS)
    try:
        first = next(batches)  # always one, even for an empty table: it carries the schema
        schema = first.schema
        # checked once the table is known to exist: a wrong name is a 404
        choose_table(policy, policy_table, policy_table, where=f"policy: tables.{policy_table}", option="policy_table")
        check_every_role(policy, policy_table, schema)
        dataset_id, data_path = state.datasets.new_data_path(".parquet")
        with AtomicTableWriter(data_path, schema) as writer:
            writer.write_batch(first)
            for batch in batches:
                writer.write_batch(batch)
        row_count = writer.rows_written
    finally:
        batches.close()  # ends the snapshot transaction even when validation refused the table
    columns = [{"name": field.name, "type": str(field.type)} for field in schema]
    try:
        return state.datasets.register(
            dataset_id=dataset_id, name=name, table_name=policy_table, data_path=data_path, policy_text=policy_text,
            row_count=row_count, columns=columns, created_by=created_by, source=f"{source.redacted} table {table}",
        )
    except BaseException:
        os.remove(data_path)
        raise
