"""The API service's state: API keys (salted HMAC only), datasets registry, jobs and audit log, in SQLite or PostgreSQL.

Several API processes pointed at one PostgreSQL state share keys, datasets, jobs and (through the ledger) one budget.
"""

from janedoe.service_state.api_keys import KeyInfo, Principal, check_name
from janedoe.service_state.audit import AuditEntry, AuditLog
from janedoe.service_state.dataset_files import UploadDir, ingest_dataset
from janedoe.service_state.datasets import DatasetRecord
from janedoe.service_state.formula_escape import escape_formulas, formula_safe_batches
from janedoe.service_state.jobs import (
    DONE,
    FAILED,
    QUEUED,
    RUNNING,
    JobRecord,
    dead_runner_on_this_host,
    this_runner,
)
from janedoe.service_state.leftovers import remove_leftovers
from janedoe.service_state.masked_views import MaskedViews, RoleView
from janedoe.service_state.privacy_budgets import DatasetPrivacy
from janedoe.service_state.role_masking import RoleNotAllowedError, parse_dataset_policy, role_masker
from janedoe.service_state.sql_datasets import ingest_sql_table
from janedoe.service_state.store import StateStore
from janedoe.service_state.synthetic_jobs import SyntheticJobs
from janedoe.service_state.upload_masking import MIN_SECRET_BYTES, mask_upload, renamed_error

__all__ = [
    "StateStore",
    "Principal",
    "KeyInfo",
    "DatasetRecord",
    "JobRecord",
    "AuditEntry",
    "AuditLog",
    "MaskedViews",
    "DatasetPrivacy",
    "SyntheticJobs",
    "RoleView",
    "RoleNotAllowedError",
    "role_masker",
    "ingest_dataset",
    "ingest_sql_table",
    "UploadDir",
    "remove_leftovers",
    "mask_upload",
    "parse_dataset_policy",
    "MIN_SECRET_BYTES",
    "escape_formulas",
    "formula_safe_batches",
    "renamed_error",
    "check_name",
    "this_runner",
    "dead_runner_on_this_host",
    "QUEUED",
    "RUNNING",
    "DONE",
    "FAILED",
]
