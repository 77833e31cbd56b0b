"""The runner end to end in the real sandbox: dp mode sees only stage-1 data and pays per query; review mode checks
outputs; a job runs unchanged in stage 1 and stage 2; limits and crashes end in their states."""

import hashlib
import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from janedoe.analysis_jobs import (
    AWAITING_REVIEW,
    DP_ANSWERS,
    FAILED,
    LIMIT_EXCEEDED,
    RELEASED,
    JobRunner,
    ReleaseReviews,
    run_job,
    run_local,
)
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.dataset_masking import MaskedViews
from janedoe.dataset_privacy import DatasetPrivacy
from janedoe.ledger import Ledger
from janedoe.sandbox import sandbox_available
from janedoe.service_store import Principal, StateStore
from janedoe.stage_one import publish_stage_one

from .conftest import write_job

pytestmark = pytest.mark.skipif(sandbox_available() is not None, reason=f"no sandbox: {sandbox_available()}")

PATIENTS = [f"PX{1000 + index}" for index in range(120)]  # one per row: identifying
POLICY = f"""\
version: 1
tables:
  people:
    dp: {{epsilon: 1.0}}
    synthetic: {{method: mst, epsilon: 1.0}}
    columns:
      patient: {{mask: hash, categories: [{", ".join(PATIENTS)}]}}
      region: {{mask: keep, categories: [north, south, east, west]}}
      age: {{mask: keep, bounds: [18, 90], bins: 8}}
roles:
  owner: {{raw: true}}
  analyst: {{}}
"""
DP_SCRIPT = """\
import hashlib, os
from janedoe.job_client import QueryRefused, data_path, query
print("data:", sorted(os.listdir("/data")))
print("people.sha256:", hashlib.sha256(data_path("people").read_bytes()).hexdigest())
for index in range(3):
    try:
        query("count()", epsilon=0.4)
        print("query", index, "answered")
    except QueryRefused as refused:
        print("query", index, "refused:", refused)
"""
REVIEW_SCRIPT = """\
import os
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from janedoe.job_client import data_path, output_path
print("env:", sorted(name for name in os.environ if name.startswith("JANEDOE")), os.environ["JANEDOE_JOB_STAGE"])
table = pq.ParquetFile(data_path("people")).read()  # read_table and group_by import pandas: seconds here
counts = pc.value_counts(table.column("region"))
pacsv.write_csv(pa.table({"region": counts.field("values"), "n": counts.field("counts")}), output_path("counts.csv"))
output_path("patients.txt").write_text("\\n".join(table.column("patient").to_pylist()[:50]))
"""
REVIEW_OUTPUTS = """\
outputs:
  - {path: counts.csv, kind: table, count_columns: [n]}
  - {path: patients.txt, kind: text}
"""


@pytest.fixture
def service(tmp_path, monkeypatch):
    monkeypatch.setenv("JANEDOE_SECRET", "analysis-jobs-test-secret-0123456789abcdef")
    rng = np.random.default_rng(0)
    rows = len(PATIENTS)
    pacsv.write_csv(pa.table({
        "patient": PATIENTS, "region": rng.choice(["north", "south", "east", "west"], rows),
        "age": rng.integers(18, 91, rows),
    }), tmp_path / "people.csv")
    state = StateStore.open(str(tmp_path / "state.db"))
    record = ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv", name="people",
                            table_name=None, policy_text=POLICY, created_by="owner")
    ledger = Ledger.open(state.ledger_url)
    privacy = DatasetPrivacy(ledger, MaskedViews())
    from janedoe.analysis_jobs import AnalysisJobs

    jobs = AnalysisJobs.from_state(state)
    runner = JobRunner(jobs, state, privacy, runner="runner-1", heartbeat_seconds=0.2)
    yield state, record, privacy, jobs, runner
    ledger.close()
    state.close()


def test_a_dp_job_sees_only_stage_one_data_and_pays_before_each_answer(tmp_path, service):
    state, record, privacy, jobs, runner = service
    job = jobs.submit("alice", record.dataset_id, write_job(tmp_path / "job", dataset="people", script=DP_SCRIPT),
                      dataset_name="people")
    finished = run_job(jobs.claim("runner-1"), jobs=jobs, state=state, privacy=privacy, heartbeat_seconds=0.2)
    assert finished.job_id == job.job_id and finished.state == RELEASED, finished.reason
    log = jobs.log_path(job.job_id).read_text()
    package = runner.package_dir(record.dataset_id)
    assert "data: ['README.txt', 'package.json', 'people.parquet', 'public_policy.yaml', 'schema.json']" in log
    seen = log.split("people.sha256: ")[1].split()[0]
    assert seen == hashlib.sha256((package / "people.parquet").read_bytes()).hexdigest()
    assert seen != hashlib.sha256(open(record.data_path, "rb").read()).hexdigest()
    assert "query 2 refused" in log and "query 1 answered" in log  # the job went on after the refusal
    author = Principal(key_id="k", name="alice", role="analyst", admin=False)
    released = json.loads(ReleaseReviews(jobs).read_released(job.job_id, DP_ANSWERS, author))
    assert [entry["reply"]["ok"] for entry in released["answers"]] == [True, True, False]
    budget = privacy.ledger.budget(record.dataset_id, "alice")
    assert budget.spent == pytest.approx(0.8)  # two answers paid by the author; the refusal charged nothing
    assert len(privacy.ledger.spends(record.dataset_id, "alice")) == 2


def test_one_folder_runs_in_stage_one_and_stage_two_and_an_identifier_output_is_blocked(tmp_path, service):
    state, record, privacy, jobs, runner = service
    folder = write_job(tmp_path / "job", dataset="people", mode="review", script=REVIEW_SCRIPT,
                       outputs=REVIEW_OUTPUTS)
    package = publish_stage_one(record, privacy, package_dir=runner.package_dir(record.dataset_id))
    local = run_local(folder, package, tmp_path / "local-output")
    assert local.state == "succeeded", local.log_path.read_text()
    assert sorted(path.name for path in (tmp_path / "local-output").iterdir()) == ["counts.csv", "patients.txt"]
    job = jobs.submit("alice", record.dataset_id, folder, dataset_name="people")
    finished = runner.run_next()
    assert finished.job_id == job.job_id and finished.state == AWAITING_REVIEW, finished.reason
    stage_two_log = jobs.log_path(job.job_id).read_text()
    env_line = "env: ['JANEDOE_DATA_DIR', 'JANEDOE_JOB_MODE', 'JANEDOE_JOB_STAGE', 'JANEDOE_OUTPUT_DIR']"
    assert f"{env_line} 1" in local.log_path.read_text() and f"{env_line} 2" in stage_two_log
    outputs = {output.path: output for output in jobs.outputs(job.job_id)}
    assert outputs["counts.csv"].passed and outputs["counts.csv"].sha256
    assert not outputs["patients.txt"].passed
    assert {finding["check"] for finding in outputs["patients.txt"].findings} >= {"identifier_values"}
    assert not (jobs.run_dir(job.job_id) / "output").exists()  # unchecked files are gone
    actions = [entry.action for entry in state.audit.entries()]
    assert {"job_submitted", "job_claimed", "job_checked", "job_finished"} <= set(actions)
    assert not any(patient in entry.detail for entry in state.audit.entries() for patient in PATIENTS)


def test_a_limit_and_a_crash_end_in_their_states(tmp_path, service):
    _state, record, _privacy, jobs, runner = service
    limits = "outputs:\n  - {path: a.txt, kind: text}\n"
    slow = write_job(tmp_path / "slow", dataset="people", mode="review", outputs=limits,
                     script="import time\ntime.sleep(60)\n")
    (slow / "janedoe-job.yaml").write_text((slow / "janedoe-job.yaml").read_text().replace("wall_seconds: 60",
                                                                                          "wall_seconds: 1"))
    crash = write_job(tmp_path / "crash", dataset="people", mode="review", outputs=limits,
                      script="raise SystemExit(3)\n")
    slow_job = jobs.submit("alice", record.dataset_id, slow, dataset_name="people")
    crash_job = jobs.submit("alice", record.dataset_id, crash, dataset_name="people")
    first, second = runner.run_next(), runner.run_next()
    assert (first.job_id, first.state, first.limit_hit) == (slow_job.job_id, LIMIT_EXCEEDED, "wall_limit")
    assert (second.job_id, second.state, second.exit_code) == (crash_job.job_id, FAILED, 3)
    assert "exit code 3" in second.reason
