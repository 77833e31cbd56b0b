"""Analysis jobs (stage 2): submit a job folder as a zip, follow it, read its log (reviewers) and released outputs.

A job that is not the caller's to see answers 404, as if it did not exist; only the log answers 403 to its author
(logs can hold raw rows: output checkers read them, never the author).
"""

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from janedoe.analysis_jobs import (
    JOB_STATES,
    OUTPUT_CHECKER,
    AnalysisJob,
    can_read_logs,
    can_read_released,
    can_read_status,
    job_view,
)
from janedoe.api.analysis_models import AnalysisJobOut, ReleasedOutputOut, stored_size
from janedoe.api.auth import Caller
from janedoe.api.errors import ApiError
from janedoe.api.output_files import output_response
from janedoe.api.services import Svc
from janedoe.errors import NotFoundError
from janedoe.service_store import Principal

router = APIRouter(prefix="/v1/analysis-jobs", tags=["analysis jobs"])
_STATE_PATTERN = "^(" + "|".join(JOB_STATES) + ")$"


def visible_job(svc, job_id: str, caller: Principal) -> AnalysisJob:
    job = svc.analysis_jobs.get(job_id)
    if not can_read_status(job, caller):
        raise NotFoundError("no such analysis job", where=f"jobs/{job_id}")  # never confirm someone else's job
    return job


def job_out(svc, job: AnalysisJob, caller: Principal, *, detail: bool) -> AnalysisJobOut:
    outputs = svc.analysis_jobs.outputs(job.job_id) if detail else None
    approvals = svc.reviews.approvals(job.job_id) if detail else None
    return AnalysisJobOut(**job_view(job, caller, outputs=outputs, approvals=approvals))


@router.post("", response_model=AnalysisJobOut, status_code=202)
async def submit_job(
    caller: Caller,
    svc: Svc,
    dataset_id: Annotated[str, Form(max_length=64, description="the dataset the job's manifest names")],
    folder: Annotated[UploadFile, File(description="the job folder as a zip: janedoe-job.yaml and the code")],
):
    """Stores the folder read-only, validates its manifest and queues the job (202); a runner picks it up."""
    data = await folder.read()
    return await run_in_threadpool(_submit, svc, caller, dataset_id, data)


def _submit(svc, caller: Principal, dataset_id: str, data: bytes) -> AnalysisJobOut:
    record = svc.state.datasets.get(dataset_id)
    job = svc.analysis_jobs.submit(caller.name, record.dataset_id, data, role=caller.role, dataset_name=record.name,
                                   allowed_modes=svc.privacy.analysis_modes(record, caller))
    return job_out(svc, job, caller, detail=False)


@router.get("", response_model=list[AnalysisJobOut])
def list_jobs(
    caller: Caller,
    svc: Svc,
    state: Annotated[str | None, Query(pattern=_STATE_PATTERN)] = None,
    dataset_id: Annotated[str | None, Query(max_length=64)] = None,
    mine: Annotated[bool, Query(description="only my jobs (output checkers and admins see everyone's)")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
):
    """Newest first: the caller's own jobs; everyone's for output checkers and admins."""
    everyone = (caller.role == OUTPUT_CHECKER or caller.admin) and not mine
    jobs = svc.analysis_jobs.list(None if everyone else caller.name, state, dataset_id=dataset_id, limit=limit)
    return [job_out(svc, job, caller, detail=False) for job in jobs]


@router.get("/{job_id}", response_model=AnalysisJobOut)
def job_status(job_id: str, caller: Caller, svc: Svc):
    """State, the limit that ended it, approvals so far and each output's check summary."""
    return job_out(svc, visible_job(svc, job_id, caller), caller, detail=True)


@router.get("/{job_id}/logs", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}, "description": "the job's stdout and stderr"}})
def job_logs(job_id: str, caller: Caller, svc: Svc):
    """Output checkers only, never the job's author (a log can hold raw rows of the real data)."""
    job = visible_job(svc, job_id, caller)
    if not can_read_logs(job, caller):
        raise ApiError(403, "forbidden", "a job's log is for output checkers other than its author")
    try:
        with open(svc.analysis_jobs.log_path(job_id), "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise NotFoundError("the job has no log (it has not run)", where=f"jobs/{job_id}/logs") from None
    svc.state.audit.record(analyst=caller.name, role=caller.role, action="job_log_read", dataset_id=job.dataset_id,
                           detail=f"job={job_id}")
    return Response(data, media_type="text/plain; charset=utf-8",
                    headers={"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


@router.get("/{job_id}/outputs", response_model=list[ReleasedOutputOut])
def released_outputs(job_id: str, caller: Caller, svc: Svc):
    """The released outputs (empty before release): a dp job's answers, or a review job's approved files."""
    job = visible_job(svc, job_id, caller)
    if not can_read_released(job, caller):
        raise NotFoundError("no such analysis job", where=f"jobs/{job_id}")
    return [ReleasedOutputOut(name=output.path, kind=output.kind, sha256=output.sha256 or "",
                              size=stored_size(output.stored_path) or 0)
            for output in svc.reviews.released(job_id)]


@router.get("/{job_id}/outputs/{name:path}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "the released bytes"}})
def released_output(job_id: str, name: str, caller: Caller, svc: Svc):
    """The released file's bytes, verified against the sha256 recorded when it was checked (404 before release)."""
    visible_job(svc, job_id, caller)
    return output_response(svc.reviews.read_released(job_id, name, caller), name)
