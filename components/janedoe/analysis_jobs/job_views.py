"""What each reader of an analysis job sees: the API renders these views, so the rule lives here, beside can_read_*."""

import os

from janedoe.analysis_jobs.queue import FAILED, AnalysisJob, JobOutput
from janedoe.analysis_jobs.reviews import OUTPUT_CHECKER
from janedoe.service_store import Principal

_HIDDEN_FAILURE = "the job failed in the sandbox; output checkers can read its log"


def is_overseer(job: AnalysisJob, principal: Principal) -> bool:
    """Output checkers and admins, but never the job's author: they see exit codes, findings and approvers."""
    return (principal.role == OUTPUT_CHECKER or principal.admin) and principal.name != job.author


def job_view(job: AnalysisJob, principal: Principal, *, outputs: list[JobOutput] | None = None,
             approvals: list[str] | None = None) -> dict:
    """The job's public status for this principal.

    A review-mode job ran on the real data, so what its author sees of the run is a channel out of the data that no
    reviewer reads: the author gets the state, the limit hit and pass/blocked per output, but not the exit code
    (eight bits the job chooses), the failure message that quotes it, the findings (their counts depend on the
    data), nor an unreleased file's hash or size. Timing stays visible: the README says so.
    """
    view = job.to_dict()
    overseer = is_overseer(job, principal)
    if job.mode == "review" and not overseer:
        view["exit_code"] = None
        if job.state == FAILED and job.exit_code is not None:
            view["reason"] = _HIDDEN_FAILURE
    if approvals is not None:
        view["approvals"] = len(approvals)
        if overseer:
            view["approved_by"] = list(approvals)
            view["approved_by_you"] = principal.name in approvals
    if outputs is not None:
        # An unreleased checked file's hash and size are functions of the real data: reviewers only.
        view["outputs"] = [{
            "path": output.path, "kind": output.kind, "passed": output.passed, "released": output.released,
            "sha256": output.sha256 if overseer or output.released else None,
            "size": _size(output.stored_path) if overseer or output.released else None,
            "findings": list(output.findings) if overseer or job.mode == "dp" else None,
        } for output in outputs]
    return view


def _size(stored_path: str | None) -> int | None:
    try:
        return os.stat(stored_path).st_size if stored_path is not None else None
    except OSError:
        return None
