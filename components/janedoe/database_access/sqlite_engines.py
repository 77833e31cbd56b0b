"""SQLite under concurrent writers, one way for the ledger and the API's state: WAL, a busy timeout, a writer lock."""

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # SQLAlchemy is imported by whoever makes the engine, not by reading a database's location
    from sqlalchemy import Engine


def use_wal(engine: "Engine", *, busy_timeout_ms: int, synchronous: Literal["NORMAL", "FULL"] = "FULL") -> None:
    """Every new connection of the SQLite engine: WAL (readers never wait for the writer) and a busy timeout.

    synchronous=NORMAL may lose the last commits (never corrupt) on power loss: for state that can be redone, never
    for the privacy ledger, whose lost spend would be budget handed back."""
    def pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    from sqlalchemy import event

    event.listen(engine, "connect", pragmas)


class SqliteWriterLock:
    """A cross-process writer lock beside a SQLite file (`<file>-writer.lock`, flock), shared by whoever writes it.

    SQLite's own busy handler sleeps up to 100 ms per retry when another process holds the write lock; waiting on a
    kernel lock instead wakes the next writer as soon as the file is free. Threads queue on a lock first (one flock
    per process). PostgreSQL locks per row and needs none: `held()` is a no-op there.
    """

    def __init__(self, engine: "Engine") -> None:
        database = engine.url.database if engine.dialect.name == "sqlite" else None
        self.path = f"{os.path.abspath(database)}-writer.lock" if database and database != ":memory:" else None
        self._threads = threading.Lock()
        self._fd: int | None = None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
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

    def close(self) -> None:
        with self._threads:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
