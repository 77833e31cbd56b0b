"""`janedoe-api runner` as a real process on a real SQLite state: one pass with --once, recovery of a dead runner's
job, and Ctrl-C cancelling the running job (marked failed, never left running)."""

import os
import signal
import socket
import subprocess
import sys
import time

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from janedoe.analysis_jobs import AWAITING_REVIEW, FAILED, RUNNING, AnalysisJobs
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.sandbox import sandbox_available
from janedoe.service_store import StateStore

pytestmark = pytest.mark.skipif(sandbox_available() is not None, reason=f"no sandbox: {sandbox_available()}")

CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "janedoe-api")
SECRET = {"JANEDOE_SECRET": "runner-test-secret-0123456789abcdef"}
POLICY = """\
version: 1
tables:
  people:
    dp: {epsilon: 1.0}
    columns:
      region: {mask: keep, categories: [north, south]}
roles:
  analyst: {}
"""


@pytest.fixture
def queue(tmp_path, monkeypatch):
    monkeypatch.setenv("JANEDOE_SECRET", SECRET["JANEDOE_SECRET"])
    pacsv.write_csv(pa.table({"region": ["north", "south"] * 20}), tmp_path / "people.csv")
    state_url = f"sqlite:///{tmp_path}/state.db"
    state = StateStore.open(state_url)
    record = ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv", name="people",
                            table_name=None, policy_text=POLICY, created_by="owner")
    yield state_url, record, AnalysisJobs.from_state(state)
    state.close()


def job_folder(tmp_path, name: str, script: str, *, mode: str = "review"):
    folder = tmp_path / name
    folder.mkdir()
    outputs = "outputs:\n  - {path: a.txt, kind: text}\n" if mode == "review" else ""
    (folder / "janedoe-job.yaml").write_text(
        f"dataset: people\nentry: analysis.py\nmode: {mode}\nlimits:\n  wall_seconds: 120\n{outputs}")
    (folder / "analysis.py").write_text(script)
    return folder


def runner(state_url: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([CONSOLE_SCRIPT, "runner", "--state", state_url, "--poll-seconds", "0.2", *extra],
                            env={**os.environ, **SECRET}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_once_runs_the_queued_job_and_fails_the_job_of_a_dead_runner(tmp_path, queue):
    state_url, record, jobs = queue
    orphan = jobs.submit("bob", record.dataset_id, job_folder(tmp_path, "orphan", "print(1)\n", mode="dp"),
                         dataset_name="people")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert jobs.claim(f"{socket.gethostname()}:{gone.pid}").job_id == orphan.job_id  # its runner died mid-job
    script = "from janedoe.job_client import output_path\noutput_path('a.txt').write_text('hello')\n"
    queued = jobs.submit("ann", record.dataset_id, job_folder(tmp_path, "review", script), dataset_name="people")
    process = runner(state_url, "--once")
    _out, err = process.communicate(timeout=600)
    assert process.returncode == 0 and "Traceback" not in err, err
    assert jobs.get(orphan.job_id).state == FAILED and "runner" in jobs.get(orphan.job_id).reason
    assert jobs.get(queued.job_id).state == AWAITING_REVIEW, jobs.get(queued.job_id).reason
    assert f"job {queued.job_id}: awaiting_review" in err and err.strip().endswith("runner done")


def test_ctrl_c_cancels_the_running_job_and_marks_it_failed(tmp_path, queue):
    state_url, record, jobs = queue
    job = jobs.submit("ann", record.dataset_id, job_folder(tmp_path, "slow", "import time\ntime.sleep(300)\n"),
                      dataset_name="people")
    process = runner(state_url)
    try:
        deadline = time.monotonic() + 120
        while jobs.get(job.job_id).state != RUNNING:
            assert time.monotonic() < deadline and process.poll() is None, process.stderr.read()
            time.sleep(0.1)
        time.sleep(1)  # the sandbox is up
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "Traceback" not in err, err
    assert time.monotonic() - started < 30  # the 300 s job was killed, not waited for
    finished = jobs.get(job.job_id)
    assert finished.state == FAILED and finished.finished_at is not None
    assert "runner stopped" in err


def test_bad_runner_options_are_one_line_and_exit_2(tmp_path):
    for flag, value in (("--max-jobs", "0"), ("--heartbeat-seconds", "0"), ("--per-analyst", "0")):
        done = subprocess.run([CONSOLE_SCRIPT, "runner", "--state", f"sqlite:///{tmp_path}/state.db", flag, value],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2 and done.stderr.strip().splitlines() == [f"error: {flag}: " + (
            "must be more than 0 and at most 3600" if "seconds" in flag else "must be at least 1")]
