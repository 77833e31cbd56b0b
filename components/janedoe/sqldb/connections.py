"""Opening connections: read-only for sources, and errors that name the database but never its password."""

import os
import sqlite3
from urllib.parse import quote

import sqlalchemy as sa
from janedoe.database_access import DatabaseUrl, url_credentials
from janedoe.errors import JaneDoeInputError
from sqlalchemy.pool import NullPool


def _scrubbed(error: Exception, url: DatabaseUrl) -> str:
    """First line of a driver error with anything that could be the password removed."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    text = text.replace(url.conninfo, url.redacted)  # first: the whole URL, before its parts become ***
    for secret in url_credentials(url.conninfo) if url.dialect == "postgresql" else []:
        text = text.replace(secret, "***")
    return text


def sqlite_read_only(url: DatabaseUrl) -> sqlite3.Connection:
    """A connection that cannot write: SQLite's own read-only URI mode, so the file stays byte-for-byte unchanged."""
    if not os.path.isfile(url.sqlite_path):
        raise JaneDoeInputError("no such SQLite database file", where=url.redacted)
    uri = f"file:{quote(url.sqlite_path)}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as error:
        message = f"cannot open the SQLite database: {_scrubbed(error, url)}"
        raise JaneDoeInputError(message, where=url.redacted) from None
    return conn


def sqlite_writable(url: DatabaseUrl) -> sqlite3.Connection:
    directory = os.path.dirname(url.sqlite_path) or "."
    if not os.path.isdir(directory):
        raise JaneDoeInputError("the target's directory does not exist", where=url.redacted)
    try:
        conn = sqlite3.connect(url.sqlite_path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA foreign_keys = OFF")
    except sqlite3.DatabaseError as error:
        message = f"cannot open the SQLite database: {_scrubbed(error, url)}"
        raise JaneDoeInputError(message, where=url.redacted) from None
    return conn


def postgres_connect(url: DatabaseUrl, *, read_only: bool):
    """A psycopg connection; a read-only one is one REPEATABLE READ READ ONLY transaction: a consistent snapshot."""
    import psycopg

    try:
        conn = psycopg.connect(url.conninfo, autocommit=False, connect_timeout=url.connect_timeout)
    except psycopg.Error as error:
        raise JaneDoeInputError(f"cannot connect: {_scrubbed(error, url)}", where=url.redacted) from None
    if read_only:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
    conn.execute("SET TIME ZONE 'UTC'")
    conn.execute("SET DateStyle = 'ISO, YMD'")
    conn.execute("SET IntervalStyle = 'iso_8601'")
    return conn


def sqlalchemy_engine(url: DatabaseUrl, *, read_only: bool) -> sa.Engine:
    """An engine for reflection and DDL only (data moves through the native drivers)."""
    if url.dialect == "sqlite":
        creator = (lambda: sqlite_read_only(url)) if read_only else (lambda: sqlite_writable(url))
        return sa.create_engine("sqlite://", creator=creator, poolclass=NullPool)
    engine = sa.create_engine(
        url.sqlalchemy_url(), poolclass=NullPool, connect_args={"connect_timeout": url.connect_timeout}
    )
    return engine


def wrap_driver_error(error: Exception, url: DatabaseUrl, *, where: str | None = None) -> JaneDoeInputError:
    return JaneDoeInputError(_scrubbed(error, url), where=where or url.redacted)
