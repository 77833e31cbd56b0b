"""The service's own tables. Prefixed `api_` so they can share one database with the ledger's tables."""

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("salt", String(64), nullable=False),
    Column("digest", String(128), nullable=False),
    Column("role", String(128), nullable=False),
    Column("name", String(128), nullable=False),
    Column("admin", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

# What a key may do beyond reading datasets as its role (e.g. "tools": /v1/mask and /v1/kanon/* on its own uploads).
# A table of its own so state databases created before it need no migration.
api_key_permissions = Table(
    "api_key_permissions",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("permission", String(32), primary_key=True),
)

api_datasets = Table(
    "api_datasets",
    metadata,
    Column("dataset_id", String(32), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("table_name", String(256), nullable=False),
    Column("data_path", Text, nullable=False),
    Column("policy_text", Text, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("columns", JSON, nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# Where a dataset was copied from (a database URL with its password redacted); uploads have no row. A table of its own
# so state databases created before it need no migration.
api_dataset_sources = Table(
    "api_dataset_sources",
    metadata,
    Column("dataset_id", String(32), primary_key=True),
    Column("source", Text, nullable=False),
)

api_jobs = Table(
    "api_jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("owner", String(128), nullable=False),
    Column("dataset_id", String(32), nullable=True),
    Column("params", JSON, nullable=False),
    Column("runner", String(256), nullable=True),
    Column("result_path", Text, nullable=True),
    Column("result_format", String(16), nullable=True),
    Column("error_code", String(64), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

api_audit = Table(
    "api_audit",
    metadata,
    Column("entry_id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("analyst", String(128), nullable=False),
    Column("role", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("dataset_id", String(32), nullable=True),
    Column("detail", Text, nullable=False, default=""),
    Column("rows", Integer, nullable=True),
    Index("api_audit_by_dataset", "dataset_id", "at"),
)
