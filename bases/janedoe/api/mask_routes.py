"""`POST /v1/mask`: mask an uploaded file with an uploaded policy and get the masked file back (nothing is kept)."""

import os
import shutil
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from janedoe.api.auth import Caller
from janedoe.api.export_stream import MEDIA_TYPES
from janedoe.api.limits import call_with_timeout
from janedoe.api.services import Svc
from janedoe.api.uploads import read_policy_upload, saved_upload
from janedoe.service_state import mask_upload
from starlette.background import BackgroundTask

router = APIRouter(prefix="/v1", tags=["mask"])


@router.post(
    "/mask",
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "the masked file"}},
    response_class=FileResponse,
)
async def mask(
    caller: Caller,
    svc: Svc,
    file: Annotated[UploadFile, File(description="the data: .csv, .parquet or .jsonl")],
    policy: Annotated[UploadFile, File(description="the policy (YAML)")],
    table: Annotated[str | None, Form(description="the policy table (default: the file name's stem)")] = None,
    output_format: Annotated[Literal["csv", "parquet", "jsonl"] | None, Form(description="default: as input")] = None,
):
    """The file masked with the policy's default rules (roles apply to registered datasets only)."""
    policy_text = await read_policy_upload(policy)
    async with saved_upload(svc.state, file, keep=True) as (uploads, upload_path, shown_name):
        extension = output_format or os.path.splitext(upload_path)[1].lstrip(".") or "csv"
        output_path = os.path.join(uploads.path, f"masked.{extension}")
        report = await call_with_timeout(
            svc.settings.request_timeout_seconds, mask_upload, policy_text, upload_path=upload_path,
            shown_name=shown_name, output_path=output_path, table=table,
        )
    await run_in_threadpool(
        svc.state.audit.record, analyst=caller.name, role=caller.role, action="mask", detail=f"table={report.table}",
        rows=report.rows,
    )
    return FileResponse(
        output_path,
        media_type=MEDIA_TYPES.get(extension, "application/octet-stream"),
        filename=f"{os.path.splitext(shown_name)[0]}.masked.{extension}",
        background=BackgroundTask(shutil.rmtree, uploads.path, ignore_errors=True),
    )
