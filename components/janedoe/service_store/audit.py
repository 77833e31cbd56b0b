"""The audit log: who (analyst, role) read or computed what, on which dataset, how many rows. Never data values."""

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from janedoe.database_access import SqliteWriterLock
from janedoe.service_store.tables import api_audit
from sqlalchemy import Engine, insert, select


@dataclass(frozen=True)
class AuditEntry:
    entry_id: int
    at: datetime
    analyst: str
    role: str
    action: str
    dataset_id: str | None
    detail: str
    rows: int | None


@dataclass
class _Pending:
    row: dict
    woken: threading.Event = field(default_factory=threading.Event)
    leads: bool = False
    error: BaseException | None = None


class AuditLog:
    """Entries are committed before `record` returns; concurrent callers share one transaction (group commit).

    The first caller with nobody writing becomes the writer: it commits every entry queued so far in one INSERT, wakes
    their callers, and hands the writer role to the first entry queued meanwhile. So one transaction per burst instead
    of one per request, and no request is answered before its entry is stored.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer_lock = SqliteWriterLock(engine)
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._writing = False

    def record(
        self, *, analyst: str, role: str, action: str, dataset_id: str | None = None, detail: str = "",
        rows: int | None = None,
    ) -> None:
        entry = _Pending(dict(
            at=datetime.now(UTC), analyst=analyst, role=role, action=action, dataset_id=dataset_id, detail=detail,
            rows=rows,
        ))
        with self._lock:
            self._queue.append(entry)
            entry.leads = not self._writing
            self._writing = True
        if not entry.leads:
            entry.woken.wait()
        if entry.leads:  # the first caller, or handed the writer role: its entry is still queued
            self._write_queued()
        if entry.error is not None:
            raise entry.error

    def _write_queued(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
        error = None
        try:
            with self._writer_lock.held(), self._engine.begin() as conn:
                conn.execute(insert(api_audit), [entry.row for entry in batch])
        except BaseException as failure:  # every caller in the batch learns its entry was not stored
            error = failure
        with self._lock:
            following = self._queue[0] if self._queue else None
            self._writing = following is not None
        for entry in batch:
            entry.error, entry.leads = error, False
            entry.woken.set()
        if following is not None:
            following.leads = True
            following.woken.set()

    def entries(
        self, *, dataset_id: str | None = None, analyst: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        query = select(api_audit).order_by(api_audit.c.entry_id.desc()).limit(limit)
        if dataset_id is not None:
            query = query.where(api_audit.c.dataset_id == dataset_id)
        if analyst is not None:
            query = query.where(api_audit.c.analyst == analyst)
        with self._engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [AuditEntry(**{**row, "at": _aware(row["at"])}) for row in rows]


def _aware(moment: datetime) -> datetime:
    # SQLite hands timestamps back naive; they were written in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
