"""Where a SQL database is and how janedoe opens it, one way for every brick that does (sqldb, the ledger, the API's
state): URLs parsed and redacted on SQLAlchemy's URL model, and SQLite's pragmas and writer lock for concurrent writers.

Light on purpose: SQLAlchemy is imported inside the functions that use it (a SQLite path needs none), so the
ledger's `dp budget` starts without it.
"""

from janedoe.database_access.database_url import DatabaseUrl, parse_database_url, redact_url, url_credentials
from janedoe.database_access.sqlite_engines import SqliteWriterLock, use_wal

__all__ = [
    "DatabaseUrl",
    "SqliteWriterLock",
    "parse_database_url",
    "redact_url",
    "url_credentials",
    "use_wal",
]
