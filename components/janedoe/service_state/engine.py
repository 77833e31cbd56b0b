"""One SQLAlchemy engine for the service state: a SQLite file by default, PostgreSQL by URL.

SQLite runs in WAL mode with a busy timeout so request threads can write concurrently; PostgreSQL lets several API
processes share one state (and one privacy budget).
"""

import contextlib
import fcntl
import os
import threading

from janedoe.errors import JaneDoeInputError
from janedoe.service_state.tables import metadata
from sqlalchemy import Engine, create_engine, event, text

_SCHEMA_LOCK_ID = 0x6A616E65  # pg advisory lock: two processes starting at once must not race on CREATE TABLE


def normalize_state_url(url_or_path: str) -> str:
    """A bare path means a SQLite file; `postgresql://` is served by psycopg 3."""
    if "://" not in url_or_path:
        return "sqlite:///" + os.path.abspath(url_or_path)
    if url_or_path.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url_or_path.split("://", 1)[1]
    if url_or_path.startswith(("sqlite://", "postgresql+psycopg://")):
        return url_or_path
    raise JaneDoeInputError("state must be a SQLite path, sqlite:///FILE or postgresql://...", where="--state")


def _tune_sqlite(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_engine(url_or_path: str) -> Engine:
    url = normalize_state_url(url_or_path)
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:" and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            raise JaneDoeInputError("the directory of the SQLite state file does not exist", where="--state")
        engine = create_engine(url, pool_size=16, max_overflow=16, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _tune_sqlite)
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


class SqliteWriterLock:
    """A cross-process writer lock beside a SQLite file (`<file>-writer.lock`, flock), shared with the ledger.

    SQLite's own busy handler sleeps up to 100 ms per retry when another process holds the write lock; waiting on a
    kernel lock instead wakes the next writer as soon as the file is free. PostgreSQL needs none (a no-op there).
    """

    def __init__(self, engine: Engine) -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.path = f"{os.path.abspath(database)}-writer.lock" if database and database != ":memory:" else None
        self._threads = threading.Lock()
        self._fd: int | None = None

    @contextlib.contextmanager
    def held(self):
        if self.path is None:
            yield
            return
        with self._threads:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
