"""The service state in one object: keys, datasets, jobs and the audit log over one database."""

import os
from dataclasses import dataclass

from janedoe.database_access import parse_database_url
from janedoe.service_store.api_keys import ApiKeys
from janedoe.service_store.audit import AuditLog
from janedoe.service_store.datasets import Datasets
from janedoe.service_store.engine import open_engine
from janedoe.service_store.jobs import Jobs
from sqlalchemy import Engine


@dataclass
class StateStore:
    url: str
    engine: Engine
    keys: ApiKeys
    datasets: Datasets
    jobs: Jobs
    audit: AuditLog

    @classmethod
    def open(cls, url_or_path: str, *, data_dir: str | None = None) -> "StateStore":
        """Opens (creating tables if needed) the state; data files go to data_dir (default: beside a SQLite file).

        Without a data dir (PostgreSQL state, no --data-dir) keys and budgets work but datasets cannot be added.
        """
        location = parse_database_url(url_or_path, where="--state", any_path=True)
        if data_dir is None and location.dialect == "sqlite":
            data_dir = os.path.splitext(location.sqlite_path)[0] + "-data"
        engine = open_engine(location)
        if data_dir is not None:
            os.makedirs(data_dir, exist_ok=True)
        url = location.sqlalchemy_url()
        return cls(url, engine, ApiKeys(engine), Datasets(engine, data_dir), Jobs(engine), AuditLog(engine))

    @property
    def ledger_url(self) -> str:
        """The URL the privacy-budget ledger shares: the same database, so every API process sees one budget."""
        return self.url.replace("postgresql+psycopg://", "postgresql://", 1)

    def close(self) -> None:
        self.engine.dispose()
