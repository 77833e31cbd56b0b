"""The queue: atomic claims (SQLite and PostgreSQL), the per-analyst running cap, heartbeats and crash recovery."""

import socket
import subprocess
import sys
import threading

import pytest
from janedoe.analysis_jobs import FAILED, QUEUED, RELEASED, RUNNING, AnalysisJobs
from janedoe.errors import JaneDoeInputError
from janedoe.service_store import StateStore, this_runner

from .conftest import write_job


def test_submit_stores_the_folder_and_queues_the_job(state, jobs, job_dir):
    job = jobs.submit("alice", "ds1", job_dir)
    assert job.state == QUEUED and job.mode == "dp" and jobs.get(job.job_id) == job
    assert len(job.folder_sha256) == 64 and job.manifest.entry == "analysis.py"
    assert [entry.action for entry in state.audit.entries()] == ["job_submitted"]
    with pytest.raises(JaneDoeInputError, match="another dataset"):
        jobs.submit("alice", "ds2", job_dir)


def _claim_all_concurrently(jobs: AnalysisJobs, runners: int) -> list[str]:
    start = threading.Barrier(runners)
    claimed: list[str] = []
    errors: list[BaseException] = []

    def runner(name: str) -> None:
        try:
            start.wait()
            while (job := jobs.claim(name)) is not None:
                claimed.append(job.job_id)
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=runner, args=(f"runner-{index}",)) for index in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    return claimed


def _concurrent_claims(jobs: AnalysisJobs, job_dir) -> None:
    submitted = {jobs.submit(f"analyst{index}", "ds1", job_dir).job_id for index in range(12)}
    submitted |= {jobs.submit("busy", "ds1", job_dir).job_id for _ in range(5)}
    claimed = _claim_all_concurrently(jobs, runners=6)
    assert len(claimed) == len(set(claimed)), "a job was claimed twice"
    running = jobs.list(state=RUNNING)
    assert set(claimed) == {job.job_id for job in running} and set(claimed) <= submitted
    assert len(claimed) == 12 + 2  # every analyst's job, and only `busy`'s first two (the cap)
    assert sum(job.author == "busy" for job in running) == 2


def test_concurrent_claims_never_share_a_job_sqlite(jobs, job_dir):
    _concurrent_claims(jobs, job_dir)


@pytest.mark.postgres
def test_concurrent_claims_never_share_a_job_postgresql(postgres_url, tmp_path, job_dir):
    state = StateStore.open(postgres_url, data_dir=str(tmp_path / "data"))
    try:
        _concurrent_claims(AnalysisJobs.from_state(state, max_running_per_analyst=2), job_dir)
    finally:
        state.close()


def test_a_claim_skips_analysts_at_their_cap(jobs, job_dir):
    first, second, third = (jobs.submit("alice", "ds1", job_dir) for _ in range(3))
    other = jobs.submit("bob", "ds1", job_dir)
    assert [jobs.claim("r").job_id for _ in range(3)] == [first.job_id, second.job_id, other.job_id]
    assert jobs.claim("r") is None  # alice's third waits while two of hers run
    assert jobs.finish(first.job_id, "r", RELEASED)
    assert jobs.claim("r").job_id == third.job_id


def test_recover_fails_the_jobs_of_a_dead_runner(state, jobs, job_dir):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_runner = f"{socket.gethostname()}:{int(gone.stdout)}"
    orphan = jobs.submit("alice", "ds1", job_dir)
    alive = jobs.submit("bob", "ds1", job_dir)
    assert jobs.claim(dead_runner).job_id == orphan.job_id
    assert jobs.claim(this_runner()).job_id == alive.job_id
    assert jobs.recover() == [orphan.job_id]
    failed = jobs.get(orphan.job_id)
    assert failed.state == FAILED and "runner" in failed.reason
    assert not jobs.finish(orphan.job_id, dead_runner, RELEASED)  # a late runner cannot undo the failure
    assert not jobs.heartbeat(orphan.job_id, dead_runner)
    assert jobs.get(alive.job_id).state == RUNNING  # a live runner with a fresh heartbeat keeps its job
    assert jobs.recover(heartbeat_timeout=0) == [alive.job_id]  # ...until its heartbeat is too old
    assert "heartbeats" in jobs.get(alive.job_id).reason
    assert "job_recovered" in [entry.action for entry in state.audit.entries()]


def test_submissions_are_capped_per_analyst(state, job_dir):
    jobs = AnalysisJobs.from_state(state, max_queued_per_analyst=2)
    jobs.submit("alice", "ds1", job_dir)
    jobs.submit("alice", "ds1", job_dir)
    with pytest.raises(JaneDoeInputError, match="waiting or running"):
        jobs.submit("alice", "ds1", job_dir)
    jobs.submit("bob", "ds1", write_job(job_dir.parent / "other"))
