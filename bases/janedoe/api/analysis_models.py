"""The JSON shapes of the two-stage analysis routes (jobs, reviews), shared by their routers and the web page."""

import os
from datetime import datetime

from pydantic import BaseModel, Field


class FindingOut(BaseModel):
    check: str
    message: str = Field(description="one line, never a data value")
    blocking: bool


class OutputOut(BaseModel):
    path: str
    kind: str
    passed: bool = Field(description="no blocking finding: may be released after two approvals")
    released: bool
    sha256: str | None
    size: int | None
    findings: list[FindingOut] | None = Field(
        default=None, description="the automatic checks' findings: shown to output checkers and admins only")


class AnalysisJobOut(BaseModel):
    job_id: str
    author: str
    dataset_id: str
    mode: str
    state: str = Field(description="queued, running, failed, limit_exceeded, awaiting_review, changes_requested, "
                                   "released")
    folder_sha256: str
    exit_code: int | None = Field(description="hidden from the author of a review-mode job (it ran on real data)")
    limit: str | None = Field(description="the sandbox limit that ended the job: cpu_limit, memory_limit, ...")
    reason: str | None = Field(description="why it failed, or what the output checkers asked to change")
    seconds: float | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    manifest: dict
    approvals: int | None = Field(default=None, description="approvals so far (two release a review-mode job)")
    approved_by: list[str] | None = Field(default=None, description="checkers who approved: reviewers' view only")
    approved_by_you: bool | None = Field(default=None, description="reviewers' view only")
    outputs: list[OutputOut] | None = Field(default=None, description="single-job answers only")


class ReleasedOutputOut(BaseModel):
    name: str
    kind: str
    sha256: str
    size: int


class ChangesRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="one line for the author; never paste data in it")


def stored_size(stored_path: str | None) -> int | None:
    if stored_path is None:
        return None
    try:
        return os.stat(stored_path).st_size
    except OSError:
        return None
