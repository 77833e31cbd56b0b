"""Database URLs: which engine, where, and a printable form that never contains a password.

Credentials come from the URL or from libpq's environment (PGPASSWORD, PGUSER, ~/.pgpass); janedoe never prints them.
"""

import os
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from janedoe.errors import JaneDoeInputError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

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
        if self.dialect == "sqlite":
            return "sqlite://"
        return "postgresql+psycopg://" + self.conninfo.split("://", 1)[1]

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.redacted})"

    __str__ = __repr__


def redact_url(text: str) -> str:
    """The URL with every credential replaced by ***: the password, and each query parameter whose name says it holds
    one (password, sslpassword, passfile, ...key, ...secret, ...token). Safe to print; "<unparsable url>" otherwise.

    SQLAlchemy's URL model parses it (percent-encoding, repeated parameters, IPv6 hosts), not a hand-written parser.
    """
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):  # not a URL, or e.g. a port that is not a number
        return "<unparsable url>"
    hidden = {name: _hidden(value) for name, value in url.query.items() if _CREDENTIAL_PARAMETER.search(name)}
    if hidden:
        url = url.update_query_dict(hidden)
    return url.render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


_CREDENTIAL_PARAMETER = re.compile(r"(?i)pass|secret|token|key")


def _hidden(value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    return "***" if isinstance(value, str) else tuple("***" for _ in value)


def parse_database_url(text: str, *, where: str = "url") -> DatabaseUrl:
    """Accepts sqlite:///path, a path ending in .db/.sqlite/.sqlite3, and postgresql:// (or postgres://) URLs."""
    lowered = text.lower()
    if lowered.startswith("sqlite:"):
        path = text.split(":", 1)[1]
        if path.startswith("///"):
            path = path[3:] if not path.startswith("////") else path[3:]
        elif path.startswith("//"):
            path = path[2:]
        path = unquote(path.split("?", 1)[0])
        if not path:
            raise JaneDoeInputError("an SQLite URL needs a file path (sqlite:///path/to/file.db)", where=where)
        return DatabaseUrl("sqlite", os.path.abspath(path), f"sqlite:///{os.path.abspath(path)}")
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if lowered.startswith(prefix):
            rest = text[len(prefix):]
            conninfo = "postgresql://" + rest
            parts = urlsplit(conninfo)
            if not parts.path.strip("/") and not parts.hostname and "dbname=" not in (parts.query or ""):
                raise JaneDoeInputError("a PostgreSQL URL needs a host or a database name", where=where)
            return DatabaseUrl("postgresql", conninfo, redact_url(conninfo))
    if "://" not in text and lowered.endswith(SQLITE_SUFFIXES):
        path = os.path.abspath(text)
        return DatabaseUrl("sqlite", path, f"sqlite:///{path}")
    raise JaneDoeInputError(
        f"unsupported database URL {redact_url(text)!r}: use sqlite:///file.db, file.db or postgresql://...",
        where=where,
    )
