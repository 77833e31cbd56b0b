"""`POST /v1/kanon/check` and `/v1/kanon/apply` on an uploaded file (the caller's own data; nothing is kept)."""

import json
import os
from typing import Annotated, Any, Literal

import pyarrow as pa
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse
from janedoe.api.auth import ToolUser
from janedoe.api.export_stream import MEDIA_TYPES
from janedoe.api.limits import call_with_timeout
from janedoe.api.services import Svc
from janedoe.api.uploads import EncodingForm, FormulaEscapeForm, saved_upload
from janedoe.dataset_masking import formula_safe_batches
from janedoe.k_anonymity import AnonymizationConfig, anonymize, measure
from janedoe.option_parsing import comma_separated_names
from janedoe.tabular import read_table, write_table_atomic
from starlette.background import BackgroundTask

router = APIRouter(prefix="/v1/kanon", tags=["k-anonymity"])

_COLUMNS = Form(description="comma-separated column names", pattern=r"^[^,]+(,[^,]+)*$")


def _measurement(
    path: str, quasi_identifiers: list[str], sensitive: list[str], k: int | None, encoding: str | None
) -> dict[str, Any]:
    return jsonable_encoder(measure(read_table(path, encoding=encoding), quasi_identifiers, sensitive, k).to_dict())


@router.post("/check", response_model=dict[str, Any])
async def check(
    caller: ToolUser,
    svc: Svc,
    file: Annotated[UploadFile, File(description="the data: .csv, .parquet or .jsonl")],
    qi: Annotated[str, _COLUMNS],
    sensitive: Annotated[str | None, _COLUMNS] = None,
    k: Annotated[int | None, Form(ge=1, le=1_000_000)] = None,
    encoding: EncodingForm = None,
):
    """k, l, t and re-identification risk of the file for these quasi-identifiers."""
    async with saved_upload(svc.state, file) as (_uploads, path, _shown):
        result = await call_with_timeout(
            svc.settings.request_timeout_seconds, _measurement, path, comma_separated_names(qi),
            comma_separated_names(sensitive), k, encoding,
        )
    await run_in_threadpool(
        svc.state.audit.record, analyst=caller.name, role=caller.role, action="kanon.check", rows=result["records"]
    )
    return result


def _anonymize(
    path: str, output_path: str, config: AnonymizationConfig, csv_formula_escape: bool, encoding: str | None
) -> dict[str, Any]:
    result = anonymize(read_table(path, encoding=encoding), config)
    table = result.table
    if csv_formula_escape and output_path.endswith(".csv"):
        table = pa.Table.from_batches(formula_safe_batches(table.to_batches()), schema=table.schema)
    write_table_atomic(table, output_path)
    return jsonable_encoder(result.report)


@router.post(
    "/apply",
    responses={200: {"content": {media: {} for media in MEDIA_TYPES.values()},
                     "description": "the anonymized file; a summary of the report in the X-Janedoe-Report header"}},
    response_class=FileResponse,
)
async def apply(
    caller: ToolUser,
    svc: Svc,
    file: Annotated[UploadFile, File(description="the data: .csv, .parquet or .jsonl")],
    qi: Annotated[str, _COLUMNS],
    k: Annotated[int, Form(ge=1, le=1_000_000)],
    sensitive: Annotated[str | None, _COLUMNS] = None,
    l: Annotated[float | None, Form(ge=1)] = None,  # noqa: E741  (the model's own name)
    t: Annotated[float | None, Form(gt=0, le=1)] = None,
    max_suppression: Annotated[float, Form(ge=0, le=1)] = 0.0,
    method: Annotated[Literal["optimal", "heuristic", "mondrian"], Form()] = "mondrian",
    output_format: Annotated[Literal["csv", "parquet", "jsonl"] | None, Form(description="default: as input")] = None,
    csv_formula_escape: FormulaEscapeForm = True,
    encoding: EncodingForm = None,
):
    """Generalize (and suppress) quasi-identifiers until k (and l / t) hold; values use each column's flat
    hierarchy, or Mondrian's ranges (the default method)."""
    config = AnonymizationConfig(
        quasi_identifiers=comma_separated_names(qi), k=k, sensitive=comma_separated_names(sensitive), l=l, t=t,
        max_suppression=max_suppression,
        method=method, time_limit_seconds=svc.settings.request_timeout_seconds,
    )
    async with saved_upload(svc.state, file, keep=True) as (uploads, path, shown_name):
        extension = output_format or os.path.splitext(path)[1].lstrip(".") or "csv"
        output_path = os.path.join(uploads.path, f"anonymized.{extension}")
        report = await call_with_timeout(
            svc.settings.request_timeout_seconds, _anonymize, path, output_path, config, csv_formula_escape, encoding
        )
    await run_in_threadpool(
        svc.state.audit.record, analyst=caller.name, role=caller.role, action="kanon.apply",
        detail=f"k={k} method={method}", rows=report.get("records_out"),
    )
    summary = {key: report.get(key) for key in ("records_in", "records_out", "achieved")}
    utility = report.get("utility") or {}
    summary["utility"] = {key: utility.get(key) for key in ("loss", "suppression_rate", "classes")}
    return FileResponse(
        output_path,
        media_type=MEDIA_TYPES[extension],
        filename=f"{os.path.splitext(shown_name)[0]}.anonymized.{extension}",
        headers={"X-Janedoe-Report": json.dumps(summary, separators=(",", ":"))},
        background=BackgroundTask(uploads.remove),
    )
