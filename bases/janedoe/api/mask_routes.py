"""`POST /v1/mask`: mask an uploaded file with an uploaded policy and get the masked file back (nothing is kept).

Needs a key with the tools permission. The key for hash, pseudonymize and the random rules is the caller's `secret`
or a fresh random one per request, never the server's.
"""

import os
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from janedoe.api.auth import ToolUser
from janedoe.api.export_stream import MEDIA_TYPES
from janedoe.api.limits import call_with_timeout
from janedoe.api.services import Svc
from janedoe.api.uploads import EncodingForm, FormulaEscapeForm, read_policy_upload, saved_upload
from janedoe.dataset_masking import mask_upload
from starlette.background import BackgroundTask

router = APIRouter(prefix="/v1", tags=["mask"])


@router.post(
    "/mask",
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "the masked file"}},
    response_class=FileResponse,
)
async def mask(
    caller: ToolUser,
    svc: Svc,
    file: Annotated[UploadFile, File(description="the data: .csv, .parquet or .jsonl")],
    policy: Annotated[UploadFile, File(description="the policy (YAML); its secret_env is ignored here")],
    table: Annotated[str | None, Form(description="the policy table (default: the file name's stem)")] = None,
    output_format: Annotated[Literal["csv", "parquet", "jsonl"] | None, Form(description="default: as input")] = None,
    secret: Annotated[str | None, Form(
        min_length=16, max_length=4096, description=(
            "your own key (at least 16 bytes) for hash, pseudonymize and the random rules: the same key gives the same "
            "masked values on every call. Without it a fresh random key is drawn for this request alone (values then "
            "cannot be linked across calls). Never the server's key; never stored, logged or echoed."
        ),
    )] = None,
    csv_formula_escape: FormulaEscapeForm = True,
    encoding: EncodingForm = None,
):
    """The file masked with the policy's default rules (roles apply to registered datasets only)."""
    policy_text = await read_policy_upload(policy)
    async with saved_upload(svc.state, file, keep=True) as (uploads, upload_path, shown_name):
        extension = output_format or os.path.splitext(upload_path)[1].lstrip(".") or "csv"
        output_path = os.path.join(uploads.path, f"masked.{extension}")
        report = await call_with_timeout(
            svc.settings.request_timeout_seconds, mask_upload, policy_text, upload_path=upload_path,
            shown_name=shown_name, output_path=output_path, table=table,
            secret=None if secret is None else secret.encode("utf-8"), csv_formula_escape=csv_formula_escape,
            encoding=encoding,
        )
    await run_in_threadpool(
        svc.state.audit.record, analyst=caller.name, role=caller.role, action="mask", detail=f"table={report.table}",
        rows=report.rows,
    )
    return FileResponse(
        output_path,
        media_type=MEDIA_TYPES.get(extension, "application/octet-stream"),
        filename=f"{os.path.splitext(shown_name)[0]}.masked.{extension}",
        background=BackgroundTask(uploads.remove),
    )
