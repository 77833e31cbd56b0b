"""Reading budgets and spends without SQLAlchemy where the ledger is a SQLite file (the `dp budget` command).

SQLAlchemy's import is most of a read-only command's start-up; a read needs no engine, pool or writer lock: one
deferred transaction of the standard library's sqlite3 reads both tables from one snapshot (WAL: the writers go on).
Writes, and every PostgreSQL ledger, stay with the Ledger.
"""

import os
import sqlite3
from dataclasses import fields
from urllib.parse import quote

from janedoe.database_access import parse_database_url
from janedoe.errors import JaneDoeInputError
from janedoe.ledger.records import Budget, Spend
from janedoe.ledger.table_names import BUDGETS_TABLE, SPENDS_TABLE

_BUSY_TIMEOUT_SECONDS = 60  # as the Ledger waits for a writer


def read_ledger(
    path_or_url, dataset: str | None = None, analyst: str | None = None
) -> tuple[list[Budget], list[Spend]]:
    """The budgets (by dataset, analyst) and the spends (in order) of a ledger, optionally of one dataset or analyst.

    A SQLite ledger that does not exist yet has none, and is not created by reading it."""
    location = parse_database_url(os.fspath(path_or_url), where="ledger", any_path=True)
    location.check_directory(where="ledger")
    if location.dialect != "sqlite":
        from janedoe.ledger.store import Ledger

        with Ledger.open(path_or_url) as ledger:
            return ledger.budgets(dataset, analyst), ledger.spends(dataset, analyst)
    if not os.path.exists(location.sqlite_path):
        return [], []
    try:
        return _read_sqlite(location.sqlite_path, dataset, analyst)
    except sqlite3.Error:  # not a database, or not readable: the path is the user's, the details are not needed
        raise JaneDoeInputError("cannot open the ledger database", where="ledger") from None


def _read_sqlite(path: str, dataset: str | None, analyst: str | None) -> tuple[list[Budget], list[Spend]]:
    # mode=rw: a file removed meanwhile is an error, not a new empty database left behind.
    connection = sqlite3.connect(f"file:{quote(path)}?mode=rw", uri=True, timeout=_BUSY_TIMEOUT_SECONDS,
                                 isolation_level=None)
    try:
        connection.execute("BEGIN")  # deferred: one snapshot for both tables, no write lock taken
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if BUDGETS_TABLE not in tables:  # a file the Ledger has not set up: nothing was ever budgeted
            return [], []
        budgets = [Budget(*row) for row in _select(connection, BUDGETS_TABLE, Budget, dataset, analyst,
                                                    order="dataset, analyst")]
        spends = [Spend(*row) for row in _select(connection, SPENDS_TABLE, Spend, dataset, analyst, order="id")]
        connection.execute("COMMIT")
        return budgets, spends
    finally:
        connection.close()


def _select(connection: sqlite3.Connection, table: str, record: type, dataset: str | None, analyst: str | None,
            order: str) -> list[tuple]:
    """The record's fields are the table's column names (the store builds Spend from a row the same way)."""
    columns = ", ".join(field.name for field in fields(record))
    conditions = [f"{name} = ?" for name, value in (("dataset", dataset), ("analyst", analyst)) if value is not None]
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    parameters = [value for value in (dataset, analyst) if value is not None]
    return connection.execute(f"SELECT {columns} FROM {table}{where} ORDER BY {order}", parameters).fetchall()
