"""use_wal and SqliteWriterLock: the one set-up of SQLite for concurrent writers (the ledger and the API's state)."""

import subprocess
import sys
import threading

from janedoe.database_access import SqliteWriterLock, use_wal
from sqlalchemy import create_engine, text

# Another process tries the same flock without waiting: exit 1 while this process holds it, 0 once it is free.
TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    sys.exit(1)
"""


def _pragmas(engine) -> tuple:
    with engine.connect() as connection:
        return tuple(connection.execute(text(f"PRAGMA {name}")).scalar() for name in
                     ("journal_mode", "synchronous", "busy_timeout"))


def test_every_connection_gets_wal_the_timeout_and_the_durability_asked_for(tmp_path):
    ledger_like = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    use_wal(ledger_like, busy_timeout_ms=60_000)
    state_like = create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    use_wal(state_like, busy_timeout_ms=30_000, synchronous="NORMAL")
    assert _pragmas(ledger_like) == ("wal", 2, 60_000)  # synchronous FULL: a spend, once committed, stays
    assert _pragmas(state_like) == ("wal", 1, 30_000)
    plain = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    assert _pragmas(plain)[0] != "wal"


def test_the_writer_lock_excludes_other_processes_and_threads(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    lock = SqliteWriterLock(engine)
    assert lock.path == f"{tmp_path / 'shared.db'}-writer.lock"
    probe = [sys.executable, "-c", TRY_LOCK, lock.path]
    entered = threading.Event()

    def other_thread():
        with lock.held():
            entered.set()

    with lock.held():
        assert subprocess.run(probe, check=False).returncode == 1
        thread = threading.Thread(target=other_thread)
        thread.start()
        assert not entered.wait(0.2)  # the second thread queues behind the first
    thread.join(5)
    assert entered.is_set()
    assert subprocess.run(probe, check=False).returncode == 0
    lock.close()
    with lock.held():  # reopens after close
        assert subprocess.run(probe, check=False).returncode == 1
    lock.close()


def test_no_lock_file_where_there_is_no_file(tmp_path):
    for engine in (create_engine("sqlite://"), create_engine("postgresql+psycopg://h/db")):
        lock = SqliteWriterLock(engine)
        assert lock.path is None
        with lock.held():
            pass
    assert list(tmp_path.iterdir()) == []
