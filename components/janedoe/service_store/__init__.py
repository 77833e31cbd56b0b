"""The API service's persistent store: API keys (salted HMAC only), dataset and job records, the audit log, in SQLite
or PostgreSQL, and the data dir beside them (uploads in flight, what a crash left behind).

A brick of its own because every part of the service reads and writes it, while it knows nothing of masking, privacy
or where datasets come from. Several API processes pointed at one PostgreSQL state share keys, datasets, jobs and
(through the ledger, in the same database) one budget.
"""

from janedoe.service_store.api_keys import KeyInfo, Principal, check_name
from janedoe.service_store.audit import AuditEntry, AuditLog
from janedoe.service_store.datasets import DatasetRecord
from janedoe.service_store.jobs import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    JobRecord,
    dead_runner_on_this_host,
    this_runner,
)
from janedoe.service_store.leftovers import remove_leftovers
from janedoe.service_store.store import StateStore
from janedoe.service_store.upload_dirs import UploadDir

__all__ = [
    "StateStore",
    "Principal",
    "KeyInfo",
    "DatasetRecord",
    "JobRecord",
    "AuditEntry",
    "AuditLog",
    "UploadDir",
    "remove_leftovers",
    "check_name",
    "this_runner",
    "dead_runner_on_this_host",
    "QUEUED",
    "RUNNING",
    "DONE",
    "FAILED",
]
