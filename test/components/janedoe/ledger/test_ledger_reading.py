"""read_ledger: budgets and spends as the Ledger reports them; SQLite files read with the standard library's sqlite3."""

import sqlite3
import subprocess
import sys
import time

import pytest
from janedoe.dp_noise import PrivacyCost
from janedoe.errors import JaneDoeInputError
from janedoe.ledger import Ledger, read_ledger


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request, tmp_path):
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return request.getfixturevalue("postgres_url")


def _fill(location) -> None:
    with Ledger.open(location) as ledger:
        ledger.set_budget("census", "ana", epsilon=1.0)
        ledger.set_budget("census", "bob", rho=0.5)
        ledger.set_budget("survey", "ana", epsilon=2.0, delta=1e-6)
        ledger.spend("census", "ana", PrivacyCost(epsilon=0.25), query="count", mechanism="laplace")
        ledger.spend("survey", "ana", PrivacyCost(epsilon=0.5, delta=1e-7), query="sum(x)", mechanism="gaussian")
        ledger.spend("census", "bob", PrivacyCost(rho=0.125), query="mean(y)", mechanism="gaussian")


@pytest.mark.parametrize("dataset, analyst", [(None, None), ("census", None), (None, "ana"), ("census", "bob")])
def test_reads_what_the_ledger_reports(ledger_url, dataset, analyst):
    _fill(ledger_url)
    with Ledger.open(ledger_url) as ledger:
        expected = (ledger.budgets(dataset, analyst), ledger.spends(dataset, analyst))
    assert read_ledger(ledger_url, dataset, analyst) == expected
    assert expected[0] and expected[1]  # each filter selects something, so the comparison says something


def test_a_ledger_that_does_not_exist_is_empty_and_is_not_created(tmp_path):
    for location in (tmp_path / "new.db", f"sqlite:///{tmp_path / 'other.db'}"):
        assert read_ledger(location) == ([], [])
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_ledger_is_a_one_line_error(tmp_path):
    (tmp_path / "notes.db").write_text("not a database\n" * 100, encoding="utf-8")
    with pytest.raises(JaneDoeInputError) as refused:
        read_ledger(tmp_path / "notes.db")
    assert refused.value.where == "ledger" and "\n" not in str(refused.value)
    sqlite3.connect(tmp_path / "empty.db").close()  # a database without the ledger's tables: nothing budgeted
    assert read_ledger(tmp_path / "empty.db") == ([], [])


def test_reads_the_committed_state_while_a_writer_holds_the_lock(tmp_path):
    """WAL: the reader neither waits for an open write transaction nor sees its uncommitted spend."""
    location = tmp_path / "ledger.db"
    _fill(location)
    writer = sqlite3.connect(location, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE janedoe_dp_budgets SET spent = 0.9 WHERE dataset = 'census' AND analyst = 'ana'")
        started = time.monotonic()
        budgets, _ = read_ledger(location, "census", "ana")
        assert time.monotonic() - started < 5  # the busy timeout is 60 s: waiting would show
        assert [budget.spent for budget in budgets] == [0.25]
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_reading_a_sqlite_ledger_imports_no_sqlalchemy(tmp_path):
    _fill(tmp_path / "ledger.db")
    code = (
        "import sys\nfrom janedoe.ledger import read_ledger\n"
        f"budgets, spends = read_ledger({str(tmp_path / 'ledger.db')!r})\n"
        "print(len(budgets), len(spends), 'sqlalchemy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["3", "3", "False"]
