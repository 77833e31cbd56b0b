"""Datasets registered from a SQL table (admin): the server snapshots the table; then it is like an uploaded dataset."""

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from janedoe.api.auth import Admin
from janedoe.api.datasets_routes import ColumnOut, DatasetOut
from janedoe.api.limits import call_with_timeout
from janedoe.api.services import Svc
from janedoe.dataset_ingestion import ingest_sql_table
from pydantic import BaseModel, Field

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


class SqlDatasetIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@ -]{0,127}$")
    url: str = Field(
        min_length=1, max_length=4096, examples=["sqlite:///srv/exports/shop.db"],
        description="sqlite:///file.db or postgresql://user[:password]@host/db; never stored or echoed with a password",
    )
    table: str = Field(min_length=1, max_length=256, description="the table to copy (default schema)")
    policy: str = Field(min_length=1, max_length=1_000_000, description="the policy (YAML text) with its roles")
    policy_table: str | None = Field(
        default=None, min_length=1, max_length=256, description="the policy's table for it (default: `table`)"
    )


class SqlDatasetOut(DatasetOut):
    source: str


@router.post("/from-sql", response_model=SqlDatasetOut, status_code=201)
async def register_sql_dataset(body: SqlDatasetIn, admin: Admin, svc: Svc):
    """Copies the table inside one read-only snapshot into the server's data dir (the database is never written)."""
    record = await call_with_timeout(
        svc.settings.request_timeout_seconds, ingest_sql_table, svc.state, url=body.url, table=body.table,
        name=body.name, policy_text=body.policy, policy_table=body.policy_table, created_by=admin.name,
    )
    source = await run_in_threadpool(svc.state.datasets.source_of, record.dataset_id)
    await run_in_threadpool(
        svc.state.audit.record, analyst=admin.name, role=admin.role, action="dataset.register",
        dataset_id=record.dataset_id, detail=f"source={source}", rows=record.row_count,
    )
    return SqlDatasetOut(
        dataset_id=record.dataset_id, name=record.name, table=record.table_name, row_count=record.row_count,
        columns=[ColumnOut(**column) for column in record.columns], created_by=record.created_by,
        created_at=record.created_at, source=source,
    )
