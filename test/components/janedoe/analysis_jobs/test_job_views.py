"""What the author of a job sees of its run, against what output checkers and admins see."""

from janedoe.analysis_jobs import AWAITING_REVIEW, FAILED, JobOutput, job_view
from janedoe.service_store import Principal

from .conftest import write_job

OUTPUTS = "outputs:\n  - {path: counts.csv, kind: table}\n"


def _principal(name: str, role: str = "analyst", admin: bool = False) -> Principal:
    return Principal(key_id=f"k-{name}", name=name, role=role, admin=admin)


def _ended(tmp_path, jobs, mode: str, state: str, **details):
    job = jobs.submit("alice", "ds1", write_job(tmp_path / f"job-{mode}-{state}", mode=mode,
                                                outputs=OUTPUTS if mode == "review" else ""))
    jobs.claim("runner-1")
    assert jobs.finish(job.job_id, "runner-1", state, **details)
    return jobs.get(job.job_id)


def test_the_author_of_a_review_job_sees_neither_its_exit_code_nor_the_findings(tmp_path, jobs):
    failed = _ended(tmp_path, jobs, "review", FAILED, exit_code=37, reason="the job ended with exit code 37 (failed)")
    author, checker = _principal("alice"), _principal("carol", role="output_checker")
    seen = job_view(failed, author)
    assert seen["exit_code"] is None and "37" not in seen["reason"]  # eight bits the job chose from the real data
    assert job_view(failed, _principal("alice", role="output_checker", admin=True))["exit_code"] is None
    assert job_view(failed, checker)["exit_code"] == 37 and "37" in job_view(failed, checker)["reason"]
    assert job_view(failed, _principal("root", role="owner", admin=True))["exit_code"] == 37

    finding = {"check": "small_cells", "message": "3 cells below 10 suppressed", "blocking": False}
    output = JobOutput("j", "counts.csv", "table", True, [finding], "ab" * 32, "/somewhere", False)
    waiting = _ended(tmp_path, jobs, "review", AWAITING_REVIEW, exit_code=0)
    mine = job_view(waiting, author, outputs=[output], approvals=["carol"])
    assert mine["outputs"][0]["findings"] is None and mine["outputs"][0]["sha256"] is None
    assert mine["outputs"][0]["size"] is None
    assert mine["approvals"] == 1 and "approved_by" not in mine
    theirs = job_view(waiting, checker, outputs=[output], approvals=["carol"])
    assert theirs["outputs"][0]["findings"] == [finding] and theirs["approved_by_you"] is True


def test_a_dp_job_shows_its_author_everything(tmp_path, jobs):
    failed = _ended(tmp_path, jobs, "dp", FAILED, exit_code=3, reason="the job ended with exit code 3 (failed)")
    assert job_view(failed, _principal("alice"))["exit_code"] == 3  # it saw only stage-1 data and DP answers
