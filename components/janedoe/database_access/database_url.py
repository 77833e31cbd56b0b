"""Database URLs: which engine, where, and a printable form that never contains a password.

Credentials come from the URL or from libpq's environment (PGPASSWORD, PGUSER, ~/.pgpass); janedoe never prints them.
One parser for every database janedoe opens (sources and targets, the ledger, the API's state), on SQLAlchemy's URL
model.
"""

import os
import re
from dataclasses import dataclass

from janedoe.errors import JaneDoeInputError

SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")


@dataclass(frozen=True)
class DatabaseUrl:
    """A parsed database location; `redacted` is the only form that may reach a message or a log."""

    dialect: str  # "sqlite" | "postgresql"
    conninfo: str  # libpq URL for PostgreSQL, file path for SQLite (may carry a password: never print)
    redacted: str
    connect_timeout: int = 15  # seconds libpq waits for a PostgreSQL server to answer

    @property
    def sqlite_path(self) -> str:
        return self.conninfo

    def sqlalchemy_url(self) -> str:
        """The URL SQLAlchemy opens (psycopg 3 for PostgreSQL); carries the password like conninfo: never print."""
        if self.dialect == "sqlite":
            return "sqlite:///" + self.sqlite_path
        return "postgresql+psycopg://" + self.conninfo.split("://", 1)[1]

    def check_directory(self, where: str) -> None:
        """An SQLite file can only be created in a directory that exists (PostgreSQL: nothing to check)."""
        if self.dialect == "sqlite" and not os.path.isdir(os.path.dirname(self.sqlite_path)):
            raise JaneDoeInputError("the directory of the SQLite file does not exist", where=where)

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.redacted})"

    __str__ = __repr__


def redact_url(text: str) -> str:
    """The URL with every credential replaced by ***: the password, and each query parameter whose name says it holds
    one (password, sslpassword, passfile, ...key, ...secret, ...token). Safe to print; "<unparsable url>" otherwise.

    SQLAlchemy's URL model parses it (percent-encoding, repeated parameters, IPv6 hosts), not a hand-written parser.
    """
    from sqlalchemy.engine import make_url  # here, not at the top: a SQLite path needs no SQLAlchemy (its import
    from sqlalchemy.exc import ArgumentError  # is most of a read-only command's start-up)

    try:
        url = make_url(text)
    except (ArgumentError, ValueError):  # not a URL, or e.g. a port that is not a number
        return "<unparsable url>"
    hidden = {name: _hidden(value) for name, value in url.query.items() if _is_credential(name)}
    if hidden:
        url = url.update_query_dict(hidden)
    return url.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


_CREDENTIAL_PARAMETER = re.compile(r"(?i)pass|secret|token|key")


def _is_credential(parameter: str) -> bool:
    return _CREDENTIAL_PARAMETER.search(parameter) is not None


def url_credentials(text: str) -> list[str]:
    """The credentials a URL carries (its password, the values of redact_url's credential parameters), decoded as a
    driver may quote them in an error message, so the message can be scrubbed of each."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        return []
    found = [url.password] if url.password else []
    for name, value in url.query.items():
        if _is_credential(name):
            found += [value] if isinstance(value, str) else list(value)
    return [secret for secret in found if secret]


def _hidden(value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    return "***" if isinstance(value, str) else tuple("***" for _ in value)


def parse_database_url(text: str, *, where: str = "url", any_path: bool = False) -> DatabaseUrl:
    """Accepts sqlite:///path, a path ending in .db/.sqlite/.sqlite3 (any path with `any_path`, where a database is
    all the value can be: the ledger, the API's state), and postgresql:// (or postgres://) URLs."""
    if not isinstance(text, str) or not text.strip():
        raise JaneDoeInputError("a database needs a file path or a URL", where=where)
    if "://" not in text:
        if any_path or text.lower().endswith(SQLITE_SUFFIXES):
            return _sqlite(text)
        raise _unsupported(text, where)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(text)
    except (ArgumentError, ValueError):  # e.g. a port that is not a number; the text may hold a password: not echoed
        raise _unsupported(text, where) from None
    scheme = url.drivername.lower()
    if scheme == "sqlite":
        if not url.database or url.database == ":memory:":
            raise JaneDoeInputError("an SQLite URL needs a file path (sqlite:///path/to/file.db)", where=where)
        return _sqlite(url.database)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        if not url.host and not url.database and "dbname" not in url.query:
            raise JaneDoeInputError("a PostgreSQL URL needs a host or a database name", where=where)
        conninfo = "postgresql://" + text.split("://", 1)[1]  # libpq reads the text as given, not as re-rendered
        return DatabaseUrl("postgresql", conninfo, redact_url(conninfo))
    raise _unsupported(text, where)


def _sqlite(path: str) -> DatabaseUrl:
    path = os.path.abspath(path)
    return DatabaseUrl("sqlite", path, f"sqlite:///{path}")


def _unsupported(text: str, where: str) -> JaneDoeInputError:
    return JaneDoeInputError(
        f"unsupported database URL {redact_url(text)!r}: use sqlite:///file.db, file.db or postgresql://...",
        where=where,
    )
