"""The datasets registry: metadata, the policy text, and where the (service-owned) data file lives."""

import contextlib
import glob
import os
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.service_store.tables import api_dataset_sources, api_datasets
from sqlalchemy import Engine, delete, insert, select


@dataclass(frozen=True)
class DatasetRecord:
    dataset_id: str
    name: str
    table_name: str
    data_path: str
    policy_text: str
    row_count: int
    columns: list[dict]
    created_by: str
    created_at: datetime

    def derived_path(self, name: str) -> str:
        """Where a file derived from the data (a cache: it can be rebuilt) lives: next to the data file, named
        `<dataset_id>.<name>`, so deleting the dataset removes it too."""
        return os.path.join(os.path.dirname(self.data_path), f"{self.dataset_id}.{name}")


class Datasets:
    def __init__(self, engine: Engine, data_dir: str | None, cache_seconds: float = 2.0) -> None:
        """Records read are kept `cache_seconds` (a record never changes; a dataset deleted by another process stays
        readable here for at most that long), so a hot dataset costs no database read per request."""
        self._engine = engine
        self.data_dir = data_dir
        self._cache_seconds = cache_seconds
        self._recent: dict[str, tuple[float, DatasetRecord]] = {}

    def new_data_path(self, suffix: str = ".parquet") -> tuple[str, str]:
        """A fresh dataset id and the path its data file should be written to (inside the service's data dir)."""
        if self.data_dir is None:
            raise JaneDoeInputError("this server has no data directory for datasets", where="--data-dir")
        dataset_id = secrets.token_hex(8)
        return dataset_id, os.path.join(self.data_dir, f"{dataset_id}{suffix}")

    def register(
        self, *, dataset_id: str, name: str, table_name: str, data_path: str, policy_text: str, row_count: int,
        columns: list[dict], created_by: str, source: str | None = None,
    ) -> DatasetRecord:
        """`source` describes where the data came from; it must already be safe to show (no password)."""
        record = DatasetRecord(
            dataset_id, name, table_name, data_path, policy_text, row_count, columns, created_by, datetime.now(UTC)
        )
        with self._engine.begin() as conn:
            conn.execute(insert(api_datasets).values(**record.__dict__))
            if source is not None:
                conn.execute(insert(api_dataset_sources).values(dataset_id=dataset_id, source=source))
        return record

    def get(self, dataset_id: str) -> DatasetRecord:
        recent = self._recent.get(dataset_id)
        if recent is not None and recent[0] > time.monotonic():
            return recent[1]
        with self._engine.connect() as conn:
            row = conn.execute(select(api_datasets).where(api_datasets.c.dataset_id == dataset_id)).mappings().first()
        if row is None:
            raise NotFoundError("no such dataset", where=f"datasets/{dataset_id}")
        record = _record(row)
        if len(self._recent) > 10_000:
            self._recent.clear()
        self._recent[dataset_id] = (time.monotonic() + self._cache_seconds, record)
        return record

    def source_of(self, dataset_id: str) -> str | None:
        """The registered source description (a redacted database URL), None for an uploaded file."""
        with self._engine.connect() as conn:
            return conn.execute(
                select(api_dataset_sources.c.source).where(api_dataset_sources.c.dataset_id == dataset_id)
            ).scalar()

    def sources(self) -> dict[str, str]:
        """Every registered source description, by dataset id (datasets made from uploads have none)."""
        with self._engine.connect() as conn:
            return dict(conn.execute(select(api_dataset_sources.c.dataset_id, api_dataset_sources.c.source)).all())

    def list(self) -> list[DatasetRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(select(api_datasets).order_by(api_datasets.c.created_at)).mappings().all()
        return [_record(row) for row in rows]

    def delete(self, dataset_id: str) -> None:
        """Forgets the dataset and removes its data file when the service owns it (never a file outside data_dir)."""
        self._recent.pop(dataset_id, None)
        record = self.get(dataset_id)
        self._recent.pop(dataset_id, None)
        with self._engine.begin() as conn:
            conn.execute(delete(api_datasets).where(api_datasets.c.dataset_id == dataset_id))
            conn.execute(delete(api_dataset_sources).where(api_dataset_sources.c.dataset_id == dataset_id))
        if self.data_dir is None:
            return
        owned = os.path.commonpath([os.path.abspath(record.data_path), os.path.abspath(self.data_dir)])
        if owned == os.path.abspath(self.data_dir) and os.path.exists(record.data_path):
            os.remove(record.data_path)
        for derived in glob.glob(os.path.join(glob.escape(self.data_dir), f"{glob.escape(dataset_id)}.*")):
            with contextlib.suppress(FileNotFoundError):  # derived_path files (ids are random: no other dataset's)
                os.remove(derived)


def _record(row) -> DatasetRecord:
    created_at = row["created_at"]
    if created_at.tzinfo is None:
        created_at = created_at.replace(tzinfo=UTC)
    return DatasetRecord(**{**row, "created_at": created_at})
