"""A ledger's location is read by database_access (as sqldb's and the API state's are), its SQLite set up there."""

import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.ledger import Ledger
from sqlalchemy import text


def _pragmas(engine) -> tuple:
    with engine.connect() as connection:
        values = tuple(connection.execute(text(f"PRAGMA {name}")).scalar() for name in
                       ("journal_mode", "synchronous", "busy_timeout"))
        connection.rollback()
    return values


def test_any_path_or_sqlite_url_opens_a_durable_wal_ledger(tmp_path):
    for location in (str(tmp_path / "budgets.ledger"), f"sqlite:///{tmp_path / 'other.db'}"):
        with Ledger.open(location) as ledger:
            ledger.set_budget("d", "a", epsilon=1.0)
            assert _pragmas(ledger.engine) == ("wal", 2, 60_000)  # FULL: a committed spend survives power loss
    assert (tmp_path / "budgets.ledger").exists()


@pytest.mark.parametrize("location", ["mysql://root:Hunter2@h/x", "postgresql://u:Hunter2@h:port/db", "sqlite://"])
def test_a_bad_location_is_a_one_line_error_without_its_password(location):
    with pytest.raises(JaneDoeInputError) as refused:
        Ledger.open(location)
    assert refused.value.where == "ledger" and "Hunter2" not in str(refused.value)
