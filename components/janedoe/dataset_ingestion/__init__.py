"""Registering a dataset with the API service: an uploaded file or a snapshot of a SQL table, checked against its
policy (every role's masker must build) and stored as Parquet in the service's data dir.

A brick of its own because it is the one way data enters the service: whatever a caller sends, what gets registered
is a file the service owns, in one format, under a policy already known to mask it.
"""

from janedoe.dataset_ingestion.dataset_files import ingest_dataset
from janedoe.dataset_ingestion.sql_datasets import ingest_sql_table

__all__ = [
    "ingest_dataset",
    "ingest_sql_table",
]
