"""One SQLAlchemy engine for the service state: a SQLite file by default, PostgreSQL by URL.

SQLite runs in WAL mode with a busy timeout so request threads can write concurrently; PostgreSQL lets several API
processes share one state (and one privacy budget).
"""

from janedoe.database_access import DatabaseUrl, use_wal
from janedoe.service_store.tables import metadata
from sqlalchemy import Engine, create_engine, text

_SCHEMA_LOCK_ID = 0x6A616E65  # pg advisory lock: two processes starting at once must not race on CREATE TABLE


def open_engine(location: DatabaseUrl) -> Engine:
    location.check_directory(where="--state")
    url = location.sqlalchemy_url()
    if location.dialect == "sqlite":
        engine = create_engine(url, pool_size=16, max_overflow=16, connect_args={"check_same_thread": False})
        use_wal(engine, busy_timeout_ms=30_000, synchronous="NORMAL")
    else:
        # Pooled (not overflow) connections for the request threads: an overflow one is closed on return and reopening
        # costs a PostgreSQL backend start. Cap unchanged (24 per process).
        engine = create_engine(url, pool_size=16, max_overflow=8, pool_pre_ping=True)
    _create_tables(engine)
    return engine


def _create_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _SCHEMA_LOCK_ID})
        metadata.create_all(conn, checkfirst=True)

