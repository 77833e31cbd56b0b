"""`POST /v1/synth` starts a background job; `/v1/jobs/{id}` reports it and `/v1/jobs/{id}/result` downloads it."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from janedoe.api.auth import Caller
from janedoe.api.errors import ApiError
from janedoe.api.export_stream import MEDIA_TYPES, encode
from janedoe.api.services import Svc
from janedoe.api.uploads import FormulaEscapeQuery
from janedoe.dataset_masking import formula_safe_batches
from janedoe.errors import NotFoundError
from janedoe.service_store import DONE, JobRecord, Principal
from janedoe.tabular import iter_batches, read_schema
from pydantic import BaseModel, Field

router = APIRouter(prefix="/v1", tags=["synthetic data"])


class SynthRequest(BaseModel):
    dataset_id: str = Field(max_length=64)
    rows: int | None = Field(default=None, ge=1, le=10_000_000)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1, description="sampling only, never the noise")


class JobOut(BaseModel):
    job_id: str
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    owner: str
    dataset_id: str | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime


def _out(job: JobRecord) -> JobOut:
    return JobOut(**{name: getattr(job, name) for name in JobOut.model_fields})


def _own_job(svc, job_id: str, caller: Principal) -> JobRecord:
    job = svc.state.jobs.get(job_id)
    if job.owner != caller.name and not caller.admin:
        raise NotFoundError("no such job", where=f"jobs/{job_id}")  # never confirm someone else's job exists
    return job


@router.post("/synth", response_model=JobOut, status_code=202)
def start_synthesis(body: SynthRequest, caller: Caller, svc: Svc):
    """Charges the caller's budget for the policy's `synthetic:` section (409 when it cannot pay), then queues."""
    record = svc.state.datasets.get(body.dataset_id)
    job = svc.synthetic_jobs.submit(record, caller, rows=body.rows, seed=body.seed)
    svc.state.audit.record(
        analyst=caller.name, role=caller.role, action="synth.start", dataset_id=record.dataset_id,
        detail=f"job={job.job_id}",
    )
    return _out(job)


@router.get("/jobs/{job_id}", response_model=JobOut)
def job_status(job_id: str, caller: Caller, svc: Svc):
    return _out(_own_job(svc, job_id, caller))


@router.get(
    "/jobs/{job_id}/result",
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "the job's table"}},
    response_class=StreamingResponse,
)
def job_result(
    job_id: str, caller: Caller, svc: Svc,
    format: Annotated[Literal["csv", "parquet", "jsonl"], Query()] = "csv",  # noqa: A002
    csv_formula_escape: FormulaEscapeQuery = True,
):
    job = _own_job(svc, job_id, caller)
    if job.status != DONE:
        raise ApiError(409, "job_not_done", f"the job is {job.status}; its result is not available")
    batches = iter_batches(job.result_path, batch_size=65_536)
    if csv_formula_escape and format == "csv":
        batches = formula_safe_batches(batches)
    return StreamingResponse(
        encode(batches, read_schema(job.result_path), format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="synthetic-{job_id}.{format}"'},
    )
