"""Database URLs: which engine, where, and a printable form that never contains a password.

Credentials come from the URL or from libpq's environment (PGPASSWORD, PGUSER, ~/.pgpass); janedoe never prints them.
"""

import os
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

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
        if self.dialect == "sqlite":
            return "sqlite://"
        return "postgresql+psycopg://" + self.conninfo.split("://", 1)[1]

    def __repr__(self) -> str:
        return f"DatabaseUrl({self.redacted})"

    __str__ = __repr__


def redact_url(text: str) -> str:
    """The URL with any password (in the user part or libpq's `?password=`) replaced by ***: safe to print."""
    try:
        parts = urlsplit(text)
        if parts.query and "password" in parts.query.lower():
            text = text.replace(parts.query, _QUERY_PASSWORD.sub(r"\1***", parts.query))
            parts = urlsplit(text)
        if parts.password is None:
            return text
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # e.g. a port that is not a number
        return "<unparsable url>"
    netloc = f"{quote(user)}:***@{host}{port}"
    return parts._replace(netloc=netloc).geturl()


_QUERY_PASSWORD = re.compile(r"(?i)((?:^|&)password=)[^&]*")


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
