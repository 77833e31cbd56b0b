"""Admin endpoints for API keys and the audit log, and `whoami` for any key."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from janedoe.api.auth import Admin, Caller
from janedoe.api.services import Svc
from pydantic import BaseModel, Field

router = APIRouter(prefix="/v1", tags=["keys"])

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$"


class Whoami(BaseModel):
    key_id: str
    name: str
    role: str
    admin: bool
    tools: bool = Field(description="may call the stateless tools (/v1/mask, /v1/kanon/*); admin keys always may")


class NewKey(BaseModel):
    role: str = Field(pattern=_NAME)
    name: str = Field(pattern=_NAME)
    admin: bool = False
    tools: bool = Field(default=False, description="may call /v1/mask and /v1/kanon/* (implied by admin)")


class KeyOut(BaseModel):
    key_id: str
    name: str
    role: str
    admin: bool
    created_at: datetime
    revoked_at: datetime | None
    tools: bool


class CreatedKey(KeyOut):
    key: str = Field(description="the API key itself: shown only in this response")


class AuditOut(BaseModel):
    entry_id: int
    at: datetime
    analyst: str
    role: str
    action: str
    dataset_id: str | None
    detail: str
    rows: int | None


@router.get("/whoami", response_model=Whoami)
def whoami(principal: Caller):
    return Whoami(**principal.__dict__)


@router.post("/admin/keys", response_model=CreatedKey, status_code=201)
def create_key(body: NewKey, _admin: Admin, svc: Svc):
    key, info = svc.state.keys.create(role=body.role, name=body.name, admin=body.admin, tools=body.tools)
    return CreatedKey(key=key, **info.__dict__)


@router.get("/admin/keys", response_model=list[KeyOut])
def list_keys(_admin: Admin, svc: Svc):
    return [KeyOut(**info.__dict__) for info in svc.state.keys.list()]


@router.delete("/admin/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, _admin: Admin, svc: Svc):
    svc.state.keys.revoke(key_id)
    svc.key_cache.clear()


@router.get("/admin/audit", response_model=list[AuditOut])
def audit_log(
    _admin: Admin,
    svc: Svc,
    dataset_id: str | None = None,
    analyst: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
):
    entries = svc.state.audit.entries(dataset_id=dataset_id, analyst=analyst, limit=limit)
    return [AuditOut(**entry.__dict__) for entry in entries]
