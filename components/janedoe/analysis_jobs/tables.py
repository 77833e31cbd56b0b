"""The analysis jobs' own tables, in the service state's database (SQLite or PostgreSQL), created when missing."""

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()
_SCHEMA_LOCK_ID = 0x6A6F6273  # pg advisory lock: two processes starting at once must not race on CREATE TABLE

analysis_jobs = Table(
    "api_analysis_jobs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("author", String(128), nullable=False),
    Column("author_role", String(128), nullable=False),
    Column("dataset_id", String(32), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("state", String(24), nullable=False),
    Column("folder_sha256", String(64), nullable=False),
    Column("folder_path", Text, nullable=False),
    Column("manifest", JSON, nullable=False),
    Column("runner", String(256), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("exit_code", Integer, nullable=True),
    Column("limit_hit", String(32), nullable=True),
    Column("reason", Text, nullable=True),
    Column("seconds", Float, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Index("api_analysis_jobs_by_state", "state", "created_at"),
    Index("api_analysis_jobs_by_author", "author", "state"),
)

# One row per (job, checker): a checker approving twice is still one approval.
analysis_approvals = Table(
    "api_analysis_approvals",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("checker", String(128), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

# A job's outputs after the automatic checks (review mode) or its DP answers (dp mode); `sha256` is of the stored file
# a release hands out, verified on every read.
analysis_outputs = Table(
    "api_analysis_outputs",
    metadata,
    Column("job_id", String(32), primary_key=True),
    Column("path", String(512), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("findings", JSON, nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("stored_path", Text, nullable=True),
    Column("released", Boolean, nullable=False, default=False),
)


def create_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _SCHEMA_LOCK_ID})
        metadata.create_all(conn, checkfirst=True)
