"""Background jobs (synthetic data): status lives in the state so any API process can report it.

A job records the process running it (`host:pid`); a process that starts finds jobs left `running` by a dead process
on its host and marks them failed, so a crash never leaves a job that claims to be running forever.
"""

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from janedoe.errors import NotFoundError
from janedoe.service_store.tables import api_jobs
from sqlalchemy import Engine, insert, select, update

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
FAILED = "failed"


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    kind: str
    status: str
    owner: str
    dataset_id: str | None
    params: dict
    runner: str | None
    result_path: str | None
    result_format: str | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime


def this_runner() -> str:
    """host:pid of this process, recorded on the jobs it runs so a restart can tell its own stale jobs."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Jobs:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, *, kind: str, owner: str, dataset_id: str | None, params: dict) -> JobRecord:
        now = datetime.now(UTC)
        values: dict[str, Any] = dict(
            job_id=secrets.token_hex(8), kind=kind, status=QUEUED, owner=owner, dataset_id=dataset_id, params=params,
            runner=this_runner(), result_path=None, result_format=None, error_code=None, error_message=None,
            created_at=now, updated_at=now,
        )
        with self._engine.begin() as conn:
            conn.execute(insert(api_jobs).values(**values))
        return JobRecord(**values)

    def get(self, job_id: str) -> JobRecord:
        with self._engine.connect() as conn:
            row = conn.execute(select(api_jobs).where(api_jobs.c.job_id == job_id)).mappings().first()
        if row is None:
            raise NotFoundError("no such job", where=f"jobs/{job_id}")
        return _record(row)

    def mark_running(self, job_id: str) -> None:
        self._set(job_id, status=RUNNING)

    def mark_done(self, job_id: str, *, result_path: str, result_format: str) -> None:
        self._set(job_id, status=DONE, result_path=result_path, result_format=result_format)

    def mark_failed(self, job_id: str, *, code: str, message: str) -> None:
        self._set(job_id, status=FAILED, error_code=code, error_message=message)

    def fail_orphans(self) -> int:
        """Marks failed the queued/running jobs of dead processes on this host; returns how many."""
        host = socket.gethostname()
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(api_jobs.c.job_id, api_jobs.c.runner).where(api_jobs.c.status.in_([QUEUED, RUNNING]))
            ).all()
        orphans = [job_id for job_id, runner in rows if dead_runner_on_this_host(runner, host)]
        for job_id in orphans:
            self.mark_failed(job_id, code="interrupted", message="the server running this job stopped; submit it again")
        return len(orphans)

    def _set(self, job_id: str, **values) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(api_jobs).where(api_jobs.c.job_id == job_id).values(**values, updated_at=datetime.now(UTC))
            )


def dead_runner_on_this_host(runner: str | None, host: str | None = None) -> bool:
    """Whether `runner` (`host:pid`, as this_runner() writes it) is a process of this host that no longer exists."""
    host = socket.gethostname() if host is None else host
    if not runner or ":" not in runner:
        return False
    runner_host, pid = runner.rsplit(":", 1)
    if runner_host != host or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _record(row) -> JobRecord:
    fixed: dict[str, Any] = {
        key: (value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value)
        for key, value in row.items()
    }
    return JobRecord(**fixed)
