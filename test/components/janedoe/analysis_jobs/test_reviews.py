"""Review-mode releases: two distinct output checkers, never the author; released bytes verified on every read."""

import hashlib

import pytest
from janedoe.analysis_jobs import (
    AWAITING_REVIEW,
    CHANGES_REQUESTED,
    RELEASED,
    JobOutput,
    JobStateError,
    ReleaseReviews,
    ReviewNotAllowedError,
    TamperedOutputError,
    can_read_logs,
    can_read_released,
)
from janedoe.errors import NotFoundError
from janedoe.service_store import Principal

from .conftest import write_job

OUTPUTS = "outputs:\n  - {path: counts.csv, kind: table}\n  - {path: rows.txt, kind: text}\n"


def _checker(name: str, role: str = "output_checker", admin: bool = False) -> Principal:
    return Principal(key_id=f"k-{name}", name=name, role=role, admin=admin)


@pytest.fixture
def reviewed(tmp_path, jobs):
    """A review-mode job that ran: counts.csv passed the checks, rows.txt was blocked."""
    job = jobs.submit("alice", "ds1", write_job(tmp_path / "job", mode="review", outputs=OUTPUTS))
    jobs.claim("runner-1")
    checked = tmp_path / "checked.csv"
    checked.write_bytes(b"region,n\nnorth,15\n")
    outputs = [
        JobOutput(job.job_id, "counts.csv", "table", True, [], hashlib.sha256(checked.read_bytes()).hexdigest(),
                  str(checked), False),
        JobOutput(job.job_id, "rows.txt", "text", False,
                  [{"check": "identifier_values", "message": "3 real identifiers", "blocking": True}], None, None,
                  False),
    ]
    assert jobs.finish(job.job_id, "runner-1", AWAITING_REVIEW, exit_code=0, outputs=outputs)
    return jobs.get(job.job_id), checked


def test_the_author_and_non_checkers_cannot_approve(jobs, reviewed):
    job, _file = reviewed
    reviews = ReleaseReviews(jobs)
    for who in (_checker("alice"), _checker("root", role="owner", admin=True), _checker("bob", role="analyst")):
        with pytest.raises(ReviewNotAllowedError):
            reviews.approve(job.job_id, who)
    assert reviews.approvals(job.job_id) == []


def test_one_checker_approving_twice_is_one_approval(jobs, reviewed):
    job, _file = reviewed
    reviews = ReleaseReviews(jobs)
    reviews.approve(job.job_id, _checker("carol"))
    assert reviews.approve(job.job_id, _checker("carol")).state == AWAITING_REVIEW
    assert reviews.approvals(job.job_id) == ["carol"]
    with pytest.raises(NotFoundError):  # nothing is released yet
        reviews.read_released(job.job_id, "counts.csv", _checker("alice", role="analyst"))


def test_two_approvals_release_only_what_passed(state, jobs, reviewed):
    job, checked = reviewed
    reviews = ReleaseReviews(jobs)
    reviews.approve(job.job_id, _checker("carol"))
    assert reviews.approve(job.job_id, _checker("dave")).state == RELEASED
    author = _checker("alice", role="analyst")
    assert reviews.read_released(job.job_id, "counts.csv", author) == checked.read_bytes()
    assert [output.path for output in reviews.released(job.job_id)] == ["counts.csv"]
    with pytest.raises(NotFoundError):
        reviews.read_released(job.job_id, "rows.txt", author)
    with pytest.raises(ReviewNotAllowedError):
        reviews.read_released(job.job_id, "counts.csv", _checker("mallory", role="analyst"))
    actions = [entry.action for entry in state.audit.entries()]
    assert {"job_approved", "job_released", "job_output_downloaded"} <= set(actions)


def test_a_tampered_released_file_is_refused(jobs, reviewed):
    job, checked = reviewed
    reviews = ReleaseReviews(jobs)
    reviews.approve(job.job_id, _checker("carol"))
    reviews.approve(job.job_id, _checker("dave"))
    checked.write_bytes(b"region,n\nnorth,3\n")
    with pytest.raises(TamperedOutputError):
        reviews.read_released(job.job_id, "counts.csv", _checker("alice", role="analyst"))


def test_request_changes_ends_the_review_with_a_reason(jobs, reviewed):
    job, _file = reviewed
    reviews = ReleaseReviews(jobs)
    reviews.approve(job.job_id, _checker("carol"))
    changed = reviews.request_changes(job.job_id, _checker("dave"), "rows.txt prints raw\nrows; aggregate them")
    assert changed.state == CHANGES_REQUESTED and changed.reason == "rows.txt prints raw rows; aggregate them"
    with pytest.raises(JobStateError):
        reviews.approve(job.job_id, _checker("erin"))


def test_logs_are_for_checkers_never_the_author(reviewed):
    job, _file = reviewed
    assert can_read_logs(job, _checker("carol"))
    assert not can_read_logs(job, _checker("alice"))  # the author, even holding the checker role
    assert not can_read_logs(job, _checker("root", role="owner", admin=True))
    assert can_read_released(job, _checker("alice", role="analyst"))


def test_a_dp_mode_jobs_log_is_readable_by_its_author_only_among_analysts(tmp_path, jobs):
    """A dp-mode job never saw real data: its log holds nothing its author does not already get."""
    job = jobs.submit("alice", "ds1", write_job(tmp_path / "dp-job", mode="dp"))
    assert can_read_logs(job, _checker("alice", role="analyst"))
    assert not can_read_logs(job, _checker("bob", role="analyst"))
    assert can_read_logs(job, _checker("carol"))
