"""The analysis-job queue in the service state's database: submit, atomic claim, heartbeats, finish and recovery.

A claim is one write transaction that picks the oldest queued job whose author is under the running cap and marks it
running (SQLite: BEGIN IMMEDIATE; PostgreSQL: UPDATE ... WHERE job_id = (SELECT ... FOR UPDATE SKIP LOCKED) under a
transaction-level advisory lock, so two claims can never both see an author below the cap). Every state change after a
claim is conditional on the job still being `running` under the same runner, so a runner that was declared dead by
recover() cannot overwrite the failure it was given.
"""

from __future__ import annotations  # the method `list` shadows the builtin in annotations

import builtins
import secrets
import shutil
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, overload

from janedoe.analysis_jobs.job_folder import store_job_folder
from janedoe.analysis_jobs.manifest import JobManifest, load_manifest
from janedoe.analysis_jobs.tables import analysis_jobs, analysis_outputs, create_tables
from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.sandbox import ResourceLimits
from janedoe.service_store import AuditLog, StateStore, check_name, dead_runner_on_this_host, this_runner
from sqlalchemy import Engine, and_, delete, func, insert, select, text, update

QUEUED = "queued"
RUNNING = "running"
FAILED = "failed"
LIMIT_EXCEEDED = "limit_exceeded"
AWAITING_REVIEW = "awaiting_review"
CHANGES_REQUESTED = "changes_requested"
RELEASED = "released"
JOB_STATES = (QUEUED, RUNNING, FAILED, LIMIT_EXCEEDED, AWAITING_REVIEW, CHANGES_REQUESTED, RELEASED)
FINAL_STATES = (FAILED, LIMIT_EXCEEDED, CHANGES_REQUESTED, RELEASED)
_CLAIM_LOCK_ID = 0x636C616D


@dataclass(frozen=True)
class AnalysisJob:
    job_id: str
    author: str
    author_role: str
    dataset_id: str
    mode: str
    state: str
    folder_sha256: str
    folder_path: str
    manifest_data: dict
    runner: str | None
    heartbeat_at: datetime | None
    exit_code: int | None
    limit_hit: str | None  # which sandbox limit ended the job ("cpu_limit", "memory_limit", ...)
    reason: str | None     # one line: why it failed or what the checkers asked to change; never a data value
    seconds: float | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def manifest(self) -> JobManifest:
        return JobManifest.from_dict(self.manifest_data)

    def to_dict(self) -> dict:
        """The public status of a job (no paths of the service's disk)."""
        return {
            "job_id": self.job_id, "author": self.author, "dataset_id": self.dataset_id, "mode": self.mode,
            "state": self.state, "folder_sha256": self.folder_sha256, "exit_code": self.exit_code,
            "limit": self.limit_hit, "reason": self.reason, "seconds": self.seconds,
            "created_at": self.created_at.isoformat(), "updated_at": self.updated_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "manifest": self.manifest_data,
        }


@dataclass(frozen=True)
class JobOutput:
    """One checked output (review mode) or the DP answers file (dp mode)."""

    job_id: str
    path: str
    kind: str
    passed: bool
    findings: list[dict]   # {"check", "message", "blocking"}: one line each, never a data value
    sha256: str | None
    stored_path: str | None
    released: bool


class AnalysisJobs:
    """The queue. Job folders and run folders live under `jobs_dir` (the service's data dir by default)."""

    def __init__(
        self, engine: Engine, *, max_running_per_analyst: int = 2, jobs_dir: Path | str | None = None,
        audit: AuditLog | None = None, limit_caps: ResourceLimits | None = None, max_queued_per_analyst: int = 20,
        heartbeat_timeout: float = 120.0,
    ) -> None:
        if max_running_per_analyst < 1:
            raise JaneDoeInputError("must be at least 1", where="max_running_per_analyst")
        self._engine = engine
        self.max_running_per_analyst = max_running_per_analyst
        self.max_queued_per_analyst = max_queued_per_analyst
        self.jobs_dir = Path(jobs_dir) if jobs_dir is not None else None
        self.audit = audit if audit is not None else AuditLog(engine)
        self.limit_caps = limit_caps or ResourceLimits()
        self.heartbeat_timeout = heartbeat_timeout
        create_tables(engine)

    @classmethod
    def from_state(cls, state: StateStore, **options) -> AnalysisJobs:
        """The queue of a service state: its database, its audit log, job files under `<data dir>/analysis-jobs`."""
        if "jobs_dir" not in options and state.datasets.data_dir is not None:
            options["jobs_dir"] = Path(state.datasets.data_dir) / "analysis-jobs"
        return cls(state.engine, audit=state.audit, **options)

    # -- files ------------------------------------------------------------------------------------------------
    def run_dir(self, job_id: str) -> Path:
        """The job's private run folder: output/ (what the sandbox wrote), checked/, released/ and job.log."""
        return self._root() / "runs" / job_id

    def log_path(self, job_id: str) -> Path:
        """The job's stdout+stderr. Readable by output checkers only, never by the author: see can_read_logs."""
        return self.run_dir(job_id) / "job.log"

    def _root(self) -> Path:
        if self.jobs_dir is None:
            raise JaneDoeInputError("this server has no data directory for analysis jobs", where="--data-dir")
        return self.jobs_dir

    # -- submit -----------------------------------------------------------------------------------------------
    def submit(
        self, author: str, dataset_id: str, job_dir: Path | bytes, *, role: str = "analyst",
        dataset_name: str | None = None, allowed_modes: Collection[str] | None = None,
    ) -> AnalysisJob:
        """Stores a read-only copy of the folder (or zip bytes), validates its manifest and queues the job.

        The manifest's `dataset` must be this dataset's id (or its name, when given); its mode must be one of
        `allowed_modes` when given (DatasetPrivacy.analysis_modes: review mode reads the raw table).
        """
        check_name(author, "author")
        with self._engine.connect() as conn:
            waiting = conn.execute(select(func.count()).select_from(analysis_jobs).where(
                analysis_jobs.c.author == author, analysis_jobs.c.state.in_([QUEUED, RUNNING]))).scalar_one()
        if waiting >= self.max_queued_per_analyst:
            raise JaneDoeInputError(f"you already have {waiting} jobs waiting or running; wait for some to finish",
                                    where="jobs", code="too_many_jobs")
        digest, folder = store_job_folder(job_dir, self._root() / "folders")
        manifest = load_manifest(folder, caps=self.limit_caps)
        if manifest.dataset not in {dataset_id, dataset_name}:
            raise JaneDoeInputError("names another dataset than the one the job is submitted to",
                                    where="janedoe-job.yaml: dataset")
        if allowed_modes is not None and manifest.mode not in allowed_modes:
            raise JaneDoeInputError(
                f"your role may not submit {manifest.mode}-mode jobs on this dataset (the policy's role needs "
                "`review_jobs: true`: a review-mode job reads the raw table)",
                where="janedoe-job.yaml: mode", code="role_not_allowed",
            )
        now = datetime.now(UTC)
        values: dict[str, Any] = dict(
            job_id=secrets.token_hex(8), author=author, author_role=role, dataset_id=dataset_id, mode=manifest.mode,
            state=QUEUED, folder_sha256=digest, folder_path=str(folder), manifest_data=manifest.to_dict(),
            runner=None, heartbeat_at=None, exit_code=None, limit_hit=None, reason=None, seconds=None,
            created_at=now, updated_at=now, started_at=None, finished_at=None,
        )
        row = dict(values)
        row["manifest"] = row.pop("manifest_data")
        with self._engine.begin() as conn:
            conn.execute(insert(analysis_jobs).values(**row))
        self.audit.record(analyst=author, role=role, action="job_submitted", dataset_id=dataset_id,
                          detail=f"job={values['job_id']} mode={manifest.mode} folder_sha256={digest}")
        return AnalysisJob(**values)

    # -- claim, heartbeat, finish -----------------------------------------------------------------------------
    def claim(self, runner: str | None = None) -> AnalysisJob | None:
        """The oldest queued job whose author runs fewer than the cap, now `running` under this runner; None if none."""
        runner = runner or this_runner()
        now = datetime.now(UTC)
        over_cap = (select(analysis_jobs.c.author).where(analysis_jobs.c.state == RUNNING)
                    .group_by(analysis_jobs.c.author).having(func.count() >= self.max_running_per_analyst))
        candidate = (select(analysis_jobs.c.job_id)
                     .where(analysis_jobs.c.state == QUEUED, analysis_jobs.c.author.not_in(over_cap))
                     .order_by(analysis_jobs.c.created_at, analysis_jobs.c.job_id).limit(1))
        claimed = dict(state=RUNNING, runner=runner, heartbeat_at=now, started_at=now, updated_at=now)
        if self._engine.dialect.name == "postgresql":
            with self._engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CLAIM_LOCK_ID})
                job_id = conn.execute(
                    update(analysis_jobs)
                    .where(analysis_jobs.c.job_id == candidate.with_for_update(skip_locked=True).scalar_subquery(),
                           analysis_jobs.c.state == QUEUED)
                    .values(**claimed).returning(analysis_jobs.c.job_id)
                ).scalar()
        else:
            with self._engine.connect() as conn:
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the select and the update are one write transaction
                try:
                    job_id = conn.execute(candidate).scalar()
                    if job_id is not None:
                        conn.execute(update(analysis_jobs).where(analysis_jobs.c.job_id == job_id).values(**claimed))
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        if job_id is None:
            return None
        job = self.get(job_id)
        self.audit.record(analyst=job.author, role="runner", action="job_claimed", dataset_id=job.dataset_id,
                          detail=f"job={job_id} runner={runner}")
        return job

    def heartbeat(self, job_id: str, runner: str) -> bool:
        """Marks the runner alive; False when the job is no longer this runner's (recovered, or never claimed)."""
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            done = conn.execute(update(analysis_jobs).where(*_owned(job_id, runner)).values(heartbeat_at=now))
        return done.rowcount == 1

    def finish(
        self, job_id: str, runner: str, state: str, *, exit_code: int | None = None, limit: str | None = None,
        reason: str | None = None, seconds: float | None = None, outputs: Sequence[JobOutput] = (),
    ) -> bool:
        """Ends this runner's run of the job (with its checked outputs); False (nothing stored) if it was not ours."""
        if state not in (FAILED, LIMIT_EXCEEDED, AWAITING_REVIEW, RELEASED):
            raise ValueError(f"a run cannot end in state {state}")
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            done = conn.execute(update(analysis_jobs).where(*_owned(job_id, runner)).values(
                state=state, exit_code=exit_code, limit_hit=limit, reason=reason, seconds=seconds, finished_at=now,
                updated_at=now))
            if done.rowcount != 1:
                return False
            conn.execute(delete(analysis_outputs).where(analysis_outputs.c.job_id == job_id))
            if outputs:
                conn.execute(insert(analysis_outputs), [_output_row(output) for output in outputs])
        job = self.get(job_id)
        blocked = sum(1 for output in outputs if not output.passed)
        self.audit.record(
            analyst=job.author, role="runner", action="job_finished", dataset_id=job.dataset_id,
            detail=f"job={job_id} state={state} exit_code={exit_code} limit={limit} outputs={len(outputs)} "
                   f"blocked={blocked}")
        return True

    def recover(self, *, heartbeat_timeout: float | None = None) -> list[str]:
        """Fails the running jobs whose runner is gone: a process of this host that no longer exists, or any runner
        whose last heartbeat is older than the timeout. Returns their ids."""
        timeout = self.heartbeat_timeout if heartbeat_timeout is None else heartbeat_timeout
        stale_before = datetime.now(UTC) - timedelta(seconds=timeout)
        with self._engine.connect() as conn:
            rows = conn.execute(select(analysis_jobs.c.job_id, analysis_jobs.c.runner, analysis_jobs.c.heartbeat_at)
                                .where(analysis_jobs.c.state == RUNNING)).all()
        recovered = []
        for job_id, runner, heartbeat_at in rows:
            if dead_runner_on_this_host(runner):
                reason = "the runner process stopped during the job; submit it again"
            elif heartbeat_at is None or _aware(heartbeat_at) < stale_before:
                reason = "the runner stopped sending heartbeats during the job; submit it again"
            else:
                continue
            now = datetime.now(UTC)
            with self._engine.begin() as conn:
                done = conn.execute(update(analysis_jobs).where(*_owned(job_id, runner)).values(
                    state=FAILED, reason=reason, finished_at=now, updated_at=now))
            if done.rowcount == 1:
                recovered.append(job_id)
                if self.jobs_dir is not None:  # what the job wrote was never checked: it goes
                    shutil.rmtree(self.run_dir(job_id) / "output", ignore_errors=True)
                job = self.get(job_id)
                self.audit.record(analyst=job.author, role="runner", action="job_recovered",
                                  dataset_id=job.dataset_id, detail=f"job={job_id} runner={runner}")
        return recovered

    # -- reads ------------------------------------------------------------------------------------------------
    def get(self, job_id: str) -> AnalysisJob:
        with self._engine.connect() as conn:
            row = conn.execute(select(analysis_jobs).where(analysis_jobs.c.job_id == job_id)).mappings().first()
        if row is None:
            raise NotFoundError("no such analysis job", where=f"jobs/{job_id}")
        return _job(row)

    def list(self, author: str | None = None, state: str | None = None, *, dataset_id: str | None = None,
             limit: int = 100) -> list[AnalysisJob]:
        """Newest first."""
        query = select(analysis_jobs).order_by(analysis_jobs.c.created_at.desc()).limit(limit)
        if author is not None:
            query = query.where(analysis_jobs.c.author == author)
        if state is not None:
            query = query.where(analysis_jobs.c.state == state)
        if dataset_id is not None:
            query = query.where(analysis_jobs.c.dataset_id == dataset_id)
        with self._engine.connect() as conn:
            return [_job(row) for row in conn.execute(query).mappings().all()]

    def outputs(self, job_id: str) -> builtins.list[JobOutput]:
        """The job's checked outputs with their findings (a reviewer's view; released ones via ReleaseReviews)."""
        with self._engine.connect() as conn:
            rows = conn.execute(select(analysis_outputs).where(analysis_outputs.c.job_id == job_id)
                                .order_by(analysis_outputs.c.path)).mappings().all()
        return [JobOutput(**{**row, "passed": bool(row["passed"]), "released": bool(row["released"])})
                for row in rows]

    def set_state(self, job_id: str, state: str, *, expected: str, reason: str | None = None, **values) -> bool:
        """A conditional state change (`expected` -> `state`) for the reviews; False when the job was not `expected`."""
        now = datetime.now(UTC)
        with self._engine.begin() as conn:
            done = conn.execute(update(analysis_jobs).where(
                analysis_jobs.c.job_id == job_id, analysis_jobs.c.state == expected
            ).values(state=state, reason=reason, updated_at=now, **values))
        return done.rowcount == 1

    @property
    def engine(self) -> Engine:
        return self._engine


def _owned(job_id: str, runner: str | None):
    return (analysis_jobs.c.job_id == job_id, analysis_jobs.c.state == RUNNING,
            analysis_jobs.c.runner == runner if runner is not None else and_(analysis_jobs.c.runner.is_(None)))


def _output_row(output: JobOutput) -> dict:
    return dict(job_id=output.job_id, path=output.path, kind=output.kind, passed=output.passed,
                findings=output.findings, sha256=output.sha256, stored_path=output.stored_path,
                released=output.released)


@overload
def _aware(moment: datetime) -> datetime: ...
@overload
def _aware(moment: None) -> None: ...
def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands timestamps back naive; they were written in UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _job(row) -> AnalysisJob:
    values: dict[str, Any] = {
        key: _aware(value) if isinstance(value, datetime) else value for key, value in row.items()
    }
    values["manifest_data"] = values.pop("manifest")
    return AnalysisJob(**values)
