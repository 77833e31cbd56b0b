"""The API's state opens its SQLite through database_access, and its ledger shares the file."""

from janedoe.ledger import Ledger
from janedoe.service_store import StateStore
from sqlalchemy import text


def _pragmas(engine) -> tuple:
    with engine.connect() as connection:
        return tuple(connection.execute(text(f"PRAGMA {name}")).scalar() for name in
                     ("journal_mode", "synchronous", "busy_timeout"))


def test_the_state_and_its_ledger_share_one_sqlite_file(tmp_path):
    state = StateStore.open(str(tmp_path / "state.db"))
    try:
        assert _pragmas(state.engine) == ("wal", 1, 30_000)  # NORMAL: state can be redone, budgets cannot
        with Ledger.open(state.ledger_url) as ledger:
            assert ledger.engine.url.database == str(tmp_path / "state.db")
    finally:
        state.close()
