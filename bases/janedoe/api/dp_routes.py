"""Differential privacy: `POST /v1/dp/query` charges the caller's budget; `GET /v1/dp/budget` shows it."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from janedoe.api.auth import Admin, Caller
from janedoe.api.limits import call_with_timeout
from janedoe.api.services import Svc
from pydantic import BaseModel, Field

router = APIRouter(prefix="/v1", tags=["differential privacy"])


class DpQuery(BaseModel):
    dataset_id: str = Field(max_length=64)
    query: str = Field(min_length=1, max_length=500, description='"count", "sum(col)", "mean(col)", ...')
    epsilon: float = Field(gt=0, le=100)
    delta: float = Field(default=0.0, ge=0, lt=1)
    by: str | None = Field(default=None, max_length=200)


class BudgetOut(BaseModel):
    dataset: str
    analyst: str
    kind: str
    unit: str
    total: float
    spent: float
    remaining: float
    total_delta: float
    spent_delta: float
    remaining_delta: float


class AnswerOut(BaseModel):
    answer: dict[str, Any]
    budget: BudgetOut


class NewBudget(BaseModel):
    dataset_id: str = Field(max_length=64)
    analyst: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")
    epsilon: float | None = Field(default=None, gt=0, le=1000)
    delta: float = Field(default=0.0, ge=0, lt=1)
    rho: float | None = Field(default=None, gt=0, le=1000)


@router.post("/dp/query", response_model=AnswerOut)
async def dp_query(body: DpQuery, caller: Caller, svc: Svc):
    """A differentially private answer; 409 `budget_exceeded` (nothing spent) when the budget cannot pay for it."""

    def answer_and_budget():
        # One thread-pool hop: lookup, spend-then-answer, the budget left, and the audit entry.
        record = svc.state.datasets.get(body.dataset_id)
        answer, budget = svc.privacy.query(
            record, caller, body.query, epsilon=body.epsilon, delta=body.delta, by=body.by
        )
        svc.state.audit.record(
            analyst=caller.name, role=caller.role, action="dp.query", dataset_id=record.dataset_id,
            detail=f"{body.query} epsilon={body.epsilon:g}" + (f" by={body.by}" if body.by else ""),
        )
        return answer, budget

    answer, budget = await call_with_timeout(svc.settings.request_timeout_seconds, answer_and_budget)
    return AnswerOut(answer=answer, budget=BudgetOut(**budget.to_dict()))


@router.get("/dp/budget", response_model=list[BudgetOut])
def dp_budget(caller: Caller, svc: Svc, dataset_id: Annotated[str | None, Query(max_length=64)] = None):
    """The caller's budgets (one dataset's, created from its policy on first use, or all the caller has)."""
    if dataset_id is None:
        return [BudgetOut(**budget.to_dict()) for budget in svc.privacy.ledger.budgets(analyst=caller.name)]
    record = svc.state.datasets.get(dataset_id)
    svc.privacy.check_role(record, caller)
    return [BudgetOut(**svc.privacy.budget(record, caller.name).to_dict())]


@router.put("/admin/budgets", response_model=BudgetOut)
def set_budget(body: NewBudget, admin: Admin, svc: Svc):
    """Set (or change) an analyst's budget on a dataset; spends so far are kept."""
    record = svc.state.datasets.get(body.dataset_id)
    budget = svc.privacy.ledger.set_budget(
        record.dataset_id, body.analyst, epsilon=body.epsilon, delta=body.delta, rho=body.rho
    )
    svc.state.audit.record(
        analyst=admin.name, role=admin.role, action="dp.set_budget", dataset_id=record.dataset_id,
        detail=f"analyst={body.analyst}",
    )
    return BudgetOut(**budget.to_dict())
