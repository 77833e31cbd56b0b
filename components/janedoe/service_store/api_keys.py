"""API keys: shown once at creation, stored only as a salted HMAC, each bound to a role and an analyst name.

A key reads `jd_<key_id>_<secret>`: the id finds the row, the secret is checked against HMAC-SHA256(salt, secret) in
constant time. The secret has 256 bits of entropy, so a fast keyed hash is enough (no password-style KDF needed).

Besides its role, a key may hold the `tools` permission: the stateless endpoints (/v1/mask, /v1/kanon/*) that run on
the caller's own uploads. Admin keys hold every permission (they can grant themselves any).
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import overload

from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.service_store.tables import api_key_permissions, api_keys
from sqlalchemy import Engine, and_, insert, select, update

_KEY_SHAPE = re.compile(r"^jd_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_NAME_SHAPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
TOOLS = "tools"
# Ledger accounts janedoe spends from itself: a key with such an analyst name would share (and could exhaust) them.
# "stage-one" is janedoe.stage_one.STAGE_ONE_ACCOUNT, which pays for each dataset's stage-1 data.
RESERVED_NAMES = frozenset({"stage-one"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: the analyst name (for budgets and the audit log), the role (for masking), admin rights, and
    whether the key may use the stateless tools."""

    key_id: str
    name: str
    role: str
    admin: bool
    tools: bool = False


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    name: str
    role: str
    admin: bool
    created_at: datetime
    revoked_at: datetime | None
    tools: bool = False


def _digest(salt: str, secret: str) -> str:
    return hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()


def check_name(value: str, field: str) -> str:
    """A key, analyst or dataset name in a shape that is safe in URLs, logs and ledger rows; returns it."""
    if not _NAME_SHAPE.match(value or ""):
        message = "must be 1-128 letters, digits or . _ @ - (starting with a letter or digit)"
        raise JaneDoeInputError(message, where=field)
    return value


class ApiKeys:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, *, role: str, name: str, admin: bool = False, tools: bool = False) -> tuple[str, KeyInfo]:
        """Returns the full key (the only time it exists outside the caller) and its stored record."""
        check_name(role, "role")
        check_name(name, "name")
        if name.casefold() in RESERVED_NAMES:
            raise JaneDoeInputError("is reserved for a ledger account janedoe itself spends from", where="name")
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_hex(16)
        info = KeyInfo(key_id, name, role, admin, datetime.now(UTC), None, tools=admin or tools)
        with self._engine.begin() as conn:
            conn.execute(
                insert(api_keys).values(
                    key_id=key_id, salt=salt, digest=_digest(salt, secret), role=role, name=name, admin=admin,
                    created_at=info.created_at,
                )
            )
            if tools:
                conn.execute(insert(api_key_permissions).values(key_id=key_id, permission=TOOLS))
        return f"jd_{key_id}_{secret}", info

    def verify(self, presented: str) -> Principal | None:
        """The principal for a valid, unrevoked key; None for anything else (no hint which part was wrong)."""
        shape = _KEY_SHAPE.match(presented or "")
        if shape is None:
            return None
        key_id, secret = shape.groups()
        granted = and_(api_key_permissions.c.key_id == api_keys.c.key_id, api_key_permissions.c.permission == TOOLS)
        query = (select(api_keys, api_key_permissions.c.permission)
                 .select_from(api_keys.outerjoin(api_key_permissions, granted)).where(api_keys.c.key_id == key_id))
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None or row["revoked_at"] is not None:
            return None
        if not hmac.compare_digest(row["digest"], _digest(row["salt"], secret)):
            return None
        admin = bool(row["admin"])
        return Principal(key_id=key_id, name=row["name"], role=row["role"], admin=admin,
                         tools=admin or row["permission"] == TOOLS)

    def list(self) -> list[KeyInfo]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.created_at)).mappings().all()
            tools = set(conn.execute(
                select(api_key_permissions.c.key_id).where(api_key_permissions.c.permission == TOOLS)).scalars())
        return [_info(row, row["key_id"] in tools) for row in rows]

    def revoke(self, key_id: str) -> None:
        with self._engine.begin() as conn:
            done = conn.execute(
                update(api_keys)
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        if done.rowcount == 0:
            raise NotFoundError("no active API key with this id", where=f"keys/{key_id}")


def _info(row, tools: bool) -> KeyInfo:
    return KeyInfo(
        row["key_id"], row["name"], row["role"], bool(row["admin"]),
        _aware(row["created_at"]), _aware(row["revoked_at"]), tools=bool(row["admin"]) or tools,
    )


@overload
def _aware(moment: datetime) -> datetime: ...
@overload
def _aware(moment: None) -> None: ...
def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back naive; they were written in UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
