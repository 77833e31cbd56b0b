"""The audit log: who (analyst, role) read or computed what, on which dataset, how many rows. Never data values."""

from dataclasses import dataclass
from datetime import UTC, datetime

from janedoe.service_state.tables import api_audit
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


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record(
        self, *, analyst: str, role: str, action: str, dataset_id: str | None = None, detail: str = "",
        rows: int | None = None,
    ) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(api_audit).values(
                    at=datetime.now(UTC), analyst=analyst, role=role, action=action, dataset_id=dataset_id,
                    detail=detail, rows=rows,
                )
            )

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
