"""Review-mode releases: two distinct output checkers approve, never the job's author; released bytes are verified.

Who may see what (the API enforces these with the helpers below):
- the job's status: its author, output checkers, admins;
- logs (stdout+stderr can hold raw data): output checkers only, never the author, even an author holding the role;
- checked outputs awaiting review: output checkers who are not the author;
- released outputs: the author, output checkers, admins.
Admins are not automatically checkers: approving needs the `output_checker` role. Review-mode releases rest on the
automatic checks and two people's judgement; they carry no formal privacy guarantee (dp-mode answers do).
"""

import hashlib
from datetime import UTC, datetime

from janedoe.analysis_jobs.queue import AWAITING_REVIEW, CHANGES_REQUESTED, RELEASED, AnalysisJob, AnalysisJobs
from janedoe.analysis_jobs.tables import analysis_approvals, analysis_outputs
from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.service_store import Principal
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

OUTPUT_CHECKER = "output_checker"
APPROVALS_NEEDED = 2
MAX_REASON_CHARS = 2000


class ReviewNotAllowedError(JaneDoeInputError):
    """This principal may not review (or read) this job: not an output checker, or its author."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message, where=where, code="role_not_allowed")


class JobStateError(JaneDoeInputError):
    """The job is not in a state that allows this step (e.g. approving a job that is not awaiting review)."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message, where=where, code="job_state")


class TamperedOutputError(JaneDoeInputError):
    """A stored output no longer has the sha256 recorded when it was checked: refused, never served."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message, where=where, code="output_tampered")


def can_review(job: AnalysisJob, principal: Principal) -> bool:
    """Output checkers review, never the job's author: no one approves their own release."""
    return principal.role == OUTPUT_CHECKER and principal.name != job.author


def can_read_logs(job: AnalysisJob, principal: Principal) -> bool:
    """A review-mode job saw the real data, so its log may hold raw rows: output checkers only, never its author.

    A dp-mode job saw only the stage-1 data and the DP answers its author receives anyway: its author may read its log
    (to debug), as may checkers."""
    if job.mode == "dp" and principal.name == job.author:
        return True
    return can_review(job, principal)


def can_read_status(job: AnalysisJob, principal: Principal) -> bool:
    """The author, output checkers and admins: a job's state and findings name no data value."""
    return principal.name == job.author or principal.role == OUTPUT_CHECKER or principal.admin


def can_read_released(job: AnalysisJob, principal: Principal) -> bool:
    """The author, output checkers and admins: released outputs passed the checks and the reviews."""
    return principal.name == job.author or principal.role == OUTPUT_CHECKER or principal.admin


class ReleaseReviews:
    """Output checkers' approvals and change requests; a job's checked outputs are released once enough approve."""

    def __init__(self, jobs: AnalysisJobs, *, approvals_needed: int = APPROVALS_NEEDED) -> None:
        self.jobs = jobs
        self.approvals_needed = approvals_needed
        self._engine = jobs.engine

    def queue(self) -> list[AnalysisJob]:
        """Jobs awaiting review, oldest first."""
        return sorted(self.jobs.list(state=AWAITING_REVIEW, limit=1000), key=lambda job: job.created_at)

    def approvals(self, job_id: str) -> list[str]:
        with self._engine.connect() as conn:
            return list(conn.execute(select(analysis_approvals.c.checker)
                                     .where(analysis_approvals.c.job_id == job_id)
                                     .order_by(analysis_approvals.c.at)).scalars())

    def approve(self, job_id: str, checker: Principal) -> AnalysisJob:
        """One approval (a checker approving twice counts once); the last one needed releases the passed outputs."""
        job = self._reviewable(job_id, checker)
        outputs = self.jobs.outputs(job_id)
        if not any(output.passed for output in outputs):
            raise JobStateError("no output passed the automatic checks: nothing to release; request changes instead",
                                where=f"jobs/{job_id}")
        try:
            with self._engine.begin() as conn:
                conn.execute(insert(analysis_approvals).values(job_id=job_id, checker=checker.name,
                                                               at=datetime.now(UTC)))
            self.jobs.audit.record(analyst=checker.name, role=checker.role, action="job_approved",
                                   dataset_id=job.dataset_id, detail=f"job={job_id}")
        except IntegrityError:
            pass  # this checker already approved: still one approval
        with self._engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(analysis_approvals)
                                 .where(analysis_approvals.c.job_id == job_id)).scalar_one()
        if count >= self.approvals_needed:
            self._release(job, outputs, checker)
        return self.jobs.get(job_id)

    def request_changes(self, job_id: str, checker: Principal, reason: str) -> AnalysisJob:
        """Sends the job back to its author with a reason (one line, shown to the author; never paste data in it)."""
        job = self._reviewable(job_id, checker)
        reason = " ".join((reason or "").split())[:MAX_REASON_CHARS]
        if not reason:
            raise JaneDoeInputError("say what the author should change", where="reason")
        if not self.jobs.set_state(job_id, CHANGES_REQUESTED, expected=AWAITING_REVIEW, reason=reason):
            raise JobStateError("the job is no longer awaiting review", where=f"jobs/{job_id}")
        self.jobs.audit.record(analyst=checker.name, role=checker.role, action="job_changes_requested",
                               dataset_id=job.dataset_id, detail=f"job={job_id}")
        return self.jobs.get(job_id)

    def read_for_review(self, job_id: str, path: str, checker: Principal) -> bytes:
        """A checked output (not yet released) as the reviewers see it, verified against its recorded sha256."""
        job = self.jobs.get(job_id)
        if not can_review(job, checker):
            raise ReviewNotAllowedError("only output checkers other than the author see unreleased outputs",
                                        where=f"jobs/{job_id}")
        return self._verified(job, path, released_only=False)

    def read_released(self, job_id: str, path: str, principal: Principal) -> bytes:
        """A released output's bytes, refused unless they still hash to the sha256 recorded at release."""
        job = self.jobs.get(job_id)
        if not can_read_released(job, principal):
            raise ReviewNotAllowedError("only the author, output checkers and admins read released outputs",
                                        where=f"jobs/{job_id}")
        data = self._verified(job, path, released_only=True)
        self.jobs.audit.record(analyst=principal.name, role=principal.role, action="job_output_downloaded",
                               dataset_id=job.dataset_id, detail=f"job={job_id} path={path}")
        return data

    def released(self, job_id: str) -> list:
        return [output for output in self.jobs.outputs(job_id) if output.released]

    def _reviewable(self, job_id: str, checker: Principal) -> AnalysisJob:
        job = self.jobs.get(job_id)
        if checker.role != OUTPUT_CHECKER:
            raise ReviewNotAllowedError("reviewing needs the output_checker role", where=f"roles.{checker.role}")
        if checker.name == job.author:
            raise ReviewNotAllowedError("the author of a job cannot review it", where=f"jobs/{job_id}")
        if job.state != AWAITING_REVIEW:
            raise JobStateError(f"the job is {job.state}, not awaiting review", where=f"jobs/{job_id}")
        return job

    def _release(self, job: AnalysisJob, outputs: list, checker: Principal) -> None:
        passed = [output for output in outputs if output.passed]
        for output in passed:  # a file changed since it was checked is never released
            self._verified(job, output.path, released_only=False)
        if not self.jobs.set_state(job.job_id, RELEASED, expected=AWAITING_REVIEW, reason=None):
            return  # a concurrent approval released it
        with self._engine.begin() as conn:
            conn.execute(update(analysis_outputs).where(
                analysis_outputs.c.job_id == job.job_id, analysis_outputs.c.passed.is_(True)).values(released=True))
        digests = ",".join(f"{output.path}={output.sha256}" for output in passed)
        self.jobs.audit.record(analyst=checker.name, role=checker.role, action="job_released",
                               dataset_id=job.dataset_id, detail=f"job={job.job_id} files={digests}")

    def _verified(self, job: AnalysisJob, path: str, *, released_only: bool) -> bytes:
        output = next((output for output in self.jobs.outputs(job.job_id) if output.path == path), None)
        if output is None or output.stored_path is None or (released_only and not output.released):
            raise NotFoundError("no such released output" if released_only else "no such checked output",
                                where=f"jobs/{job.job_id}/outputs/{path}")
        try:
            with open(output.stored_path, "rb") as handle:
                data = handle.read()
        except OSError:
            raise TamperedOutputError("the stored output is missing", where=f"jobs/{job.job_id}/outputs/{path}") \
                from None
        if hashlib.sha256(data).hexdigest() != output.sha256:
            self.jobs.audit.record(analyst="janedoe", role="service", action="job_output_tampered",
                                   dataset_id=job.dataset_id, detail=f"job={job.job_id} path={path}")
            raise TamperedOutputError("the stored output changed since it was checked; refused",
                                      where=f"jobs/{job.job_id}/outputs/{path}")
        return data
