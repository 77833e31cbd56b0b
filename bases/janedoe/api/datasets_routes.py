"""Datasets: register (admin, upload + policy), list, describe, delete (admin); masked rows and export per role."""

import json
import os
import re
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from janedoe.api.auth import Admin, Caller
from janedoe.api.export_stream import MEDIA_TYPES, encode
from janedoe.api.limits import call_with_timeout
from janedoe.api.services import Svc
from janedoe.api.uploads import EncodingForm, FormulaEscapeQuery, read_policy_upload, saved_upload
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.service_store import DatasetRecord
from pydantic import BaseModel, Field

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


class ColumnOut(BaseModel):
    name: str
    type: str


class DatasetOut(BaseModel):
    dataset_id: str
    name: str
    table: str
    row_count: int
    columns: list[ColumnOut]
    created_by: str
    created_at: datetime
    source: str | None = Field(
        default=None, description="where the data came from: the database URL (no password) of a SQL table, or null"
    )


class RowsOut(BaseModel):
    dataset_id: str
    role: str
    offset: int
    limit: int
    total_rows: int
    columns: list[ColumnOut]
    rows: list[dict[str, Any]]


def _out(record: DatasetRecord, source: str | None = None) -> DatasetOut:
    return DatasetOut(
        dataset_id=record.dataset_id, name=record.name, table=record.table_name, row_count=record.row_count,
        columns=[ColumnOut(**column) for column in record.columns], created_by=record.created_by,
        created_at=record.created_at, source=source,
    )


@router.post("", response_model=DatasetOut, status_code=201)
async def register_dataset(
    admin: Admin,
    svc: Svc,
    file: Annotated[UploadFile, File(description="the data: .csv, .parquet or .jsonl")],
    policy: Annotated[UploadFile, File(description="the policy (YAML), with this table and its roles")],
    name: Annotated[str | None, Form(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@ -]{0,127}$")] = None,
    table: Annotated[str | None, Form(description="the policy table (default: the file name's stem)")] = None,
    encoding: EncodingForm = None,
):
    policy_text = await read_policy_upload(policy)
    async with saved_upload(svc.state, file) as (_uploads, upload_path, shown_name):
        record = await call_with_timeout(
            svc.settings.request_timeout_seconds, ingest_dataset, svc.state, upload_path=upload_path,
            shown_name=shown_name, name=name or os.path.splitext(shown_name)[0], table_name=table,
            policy_text=policy_text, created_by=admin.name, encoding=encoding,
        )
    await run_in_threadpool(
        svc.state.audit.record, analyst=admin.name, role=admin.role, action="dataset.register",
        dataset_id=record.dataset_id, rows=record.row_count,
    )
    return _out(record)


@router.get("", response_model=list[DatasetOut])
def list_datasets(_caller: Caller, svc: Svc):
    sources = svc.state.datasets.sources()
    return [_out(record, sources.get(record.dataset_id)) for record in svc.state.datasets.list()]


@router.get("/{dataset_id}", response_model=DatasetOut)
def describe_dataset(dataset_id: str, _caller: Caller, svc: Svc):
    return _out(svc.state.datasets.get(dataset_id), svc.state.datasets.source_of(dataset_id))


@router.delete("/{dataset_id}", status_code=204)
def delete_dataset(dataset_id: str, admin: Admin, svc: Svc):
    svc.state.datasets.delete(dataset_id)
    svc.views.forget(dataset_id)
    svc.state.audit.record(analyst=admin.name, role=admin.role, action="dataset.delete", dataset_id=dataset_id)


@router.get("/{dataset_id}/rows", response_model=RowsOut)
async def masked_rows(
    dataset_id: str,
    caller: Caller,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0, le=2**53)] = 0,
):
    """Rows as the caller's role sees them (403 when the dataset's policy does not name the role)."""
    body = await run_in_threadpool(_masked_rows_body, svc, caller, dataset_id, offset, limit)
    return Response(body, media_type="application/json")


def _masked_rows_body(svc, caller, dataset_id: str, offset: int, limit: int) -> bytes:
    # One thread-pool hop per read: lookup, masking (cached), audit entry (stored before the rows leave), encoding.
    record = svc.state.datasets.get(dataset_id)
    schema, row_texts = svc.views.rows_json(record, caller.role, offset=offset, limit=limit)
    svc.state.audit.record(
        analyst=caller.name, role=caller.role, action="dataset.rows", dataset_id=dataset_id,
        detail=f"offset={offset} limit={limit}", rows=len(row_texts),
    )
    head = json.dumps({
        "dataset_id": dataset_id, "role": caller.role, "offset": offset, "limit": limit,
        "total_rows": record.row_count, "columns": [{"name": f.name, "type": str(f.type)} for f in schema],
    }, separators=(",", ":"))
    return f'{head[:-1]},"rows":[{",".join(row_texts)}]}}'.encode()


@router.get(
    "/{dataset_id}/export",
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()}, "description": "the masked dataset"}},
    response_class=StreamingResponse,
)
def export_dataset(
    dataset_id: str, caller: Caller, svc: Svc, format: Literal["csv", "parquet", "jsonl"] = "csv",  # noqa: A002
    csv_formula_escape: FormulaEscapeQuery = True,
):
    """The whole dataset, masked for the caller's role, streamed batch by batch (the same values on every export)."""
    record = svc.state.datasets.get(dataset_id)
    view = svc.views.view(record, caller.role)
    svc.state.audit.record(
        analyst=caller.name, role=caller.role, action="dataset.export", dataset_id=dataset_id,
        detail=f"format={format}", rows=record.row_count,
    )
    filename = f"{re.sub(r'[^A-Za-z0-9_.-]', '_', record.name)}.{format}"
    return StreamingResponse(
        encode(view.batches(csv_formula_escape=csv_formula_escape and format == "csv"), view.output_schema, format),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
