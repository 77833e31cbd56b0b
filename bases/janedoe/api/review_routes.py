"""Output checking: the review queue, a job's checked outputs with their findings, approve and request changes.

Only keys with the `output_checker` role, and never on their own jobs (403). Two distinct checkers' approvals
release a review-mode job's passed outputs; a job not awaiting review answers 409.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from janedoe.analysis_jobs import OUTPUT_CHECKER, can_review
from janedoe.api.analysis_jobs_routes import job_out
from janedoe.api.analysis_models import AnalysisJobOut, ChangesRequest
from janedoe.api.auth import current_principal
from janedoe.api.errors import ApiError
from janedoe.api.output_files import output_response
from janedoe.api.services import Svc
from janedoe.service_store import Principal

router = APIRouter(prefix="/v1/reviews", tags=["output checking"])


async def checker_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if principal.role != OUTPUT_CHECKER:
        raise ApiError(403, "forbidden", "reviewing outputs needs a key with the output_checker role")
    return principal


Checker = Annotated[Principal, Depends(checker_principal)]


def _reviewable(svc, job_id: str, checker: Principal):
    job = svc.analysis_jobs.get(job_id)
    if not can_review(job, checker):
        raise ApiError(403, "forbidden", "the author of a job cannot review it")
    return job


@router.get("", response_model=list[AnalysisJobOut])
def review_queue(checker: Checker, svc: Svc):
    """Jobs awaiting review, oldest first, but the caller's own (which they cannot review)."""
    return [job_out(svc, job, checker, detail=True) for job in svc.reviews.queue() if can_review(job, checker)]


@router.get("/{job_id}", response_model=AnalysisJobOut)
def review_job(job_id: str, checker: Checker, svc: Svc):
    """The job with each checked output and its findings, and who approved it so far."""
    return job_out(svc, _reviewable(svc, job_id, checker), checker, detail=True)


@router.get("/{job_id}/files/{name:path}", response_class=Response,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "a checked output"}})
def review_file(job_id: str, name: str, checker: Checker, svc: Svc):
    """A checked output (suppressed, rounded, stripped) as it would be released, verified against its sha256."""
    job = _reviewable(svc, job_id, checker)
    data = svc.reviews.read_for_review(job_id, name, checker)
    svc.state.audit.record(analyst=checker.name, role=checker.role, action="job_output_reviewed",
                           dataset_id=job.dataset_id, detail=f"job={job_id} path={name}"[:4000])
    return output_response(data, name)


@router.post("/{job_id}/approve", response_model=AnalysisJobOut)
def approve(job_id: str, checker: Checker, svc: Svc):
    """One approval; the second distinct checker's releases the passed outputs (their hashes recorded)."""
    _reviewable(svc, job_id, checker)
    job = svc.reviews.approve(job_id, checker)
    return job_out(svc, job, checker, detail=True)


@router.post("/{job_id}/request-changes", response_model=AnalysisJobOut)
def request_changes(job_id: str, body: ChangesRequest, checker: Checker, svc: Svc):
    """Sends the job back to its author with the reason; nothing is released."""
    _reviewable(svc, job_id, checker)
    job = svc.reviews.request_changes(job_id, checker, body.reason)
    return job_out(svc, job, checker, detail=True)
