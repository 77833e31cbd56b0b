"""Two-stage analysis through a real server and a real `janedoe-api runner`: the stage-1 package, submitting job
folders, the review queue with two approvals, released bytes, and every refusal (role, author, state, bad zip)."""

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from janedoe.sandbox import sandbox_available
from janedoe.stage_one import STAGE_ONE_ACCOUNT

CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "janedoe-api")
PATIENTS = [f"PX{1000 + index}" for index in range(150)]  # one per row: identifying
POLICY = f"""\
version: 1
tables:
  people:
    dp: {{epsilon: 2.0}}
    synthetic: {{method: mst, epsilon: 1.0}}
    columns:
      patient: {{mask: hash, categories: [{", ".join(PATIENTS)}]}}
      region: {{mask: keep, categories: [north, south, east, west]}}
      age: {{mask: keep, bounds: [18, 90], bins: 8}}
roles:
  owner: {{raw: true}}
  analyst: {{review_jobs: true}}
  support: {{}}
  output_checker: {{review_jobs: true}}  # cody, a checker, also writes review jobs
"""
REVIEW_SCRIPT = """\
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from janedoe.job_client import data_path, output_path
print("first patient:", pq.ParquetFile(data_path("people")).read().column("patient")[0])
table = pq.ParquetFile(data_path("people")).read()
counts = pc.value_counts(table.column("region"))
pacsv.write_csv(pa.table({"region": counts.field("values"), "n": counts.field("counts")}), output_path("counts.csv"))
output_path("patients.txt").write_text("\\n".join(table.column("patient").to_pylist()[:50]))
raise SystemExit(0)
"""
DP_SCRIPT = """\
from janedoe.job_client import query
print(query("count()", epsilon=0.5))
"""


def manifest(mode: str, dataset: str = "people") -> str:
    text = f"dataset: {dataset}\nentry: analysis.py\nmode: {mode}\nlimits:\n  wall_seconds: 120\n"
    if mode == "review":
        text += ("outputs:\n  - {path: counts.csv, kind: table, count_columns: [n]}\n"
                 "  - {path: patients.txt, kind: text}\n")
    return text


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def run_runner(api, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "JANEDOE_SECRET": "test-secret-0123456789abcdef"}
    return subprocess.run([CONSOLE_SCRIPT, "runner", "--state", api.state_url, "--once", *extra], env=env,
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def people(api, tmp_path_factory):
    rng = np.random.default_rng(1)
    path = tmp_path_factory.mktemp("two-stage") / "people.csv"
    pacsv.write_csv(pa.table({"patient": PATIENTS, "region": rng.choice(["north", "south", "east", "west"], 150),
                              "age": rng.integers(18, 91, 150)}), path)
    with api.client("admin") as admin:
        response = admin.post("/v1/datasets", files={"file": ("people.csv", path.read_bytes()),
                                                     "policy": ("policy.yaml", POLICY.encode())})
    assert response.status_code == 201, response.text
    api.add_key("ana", role="analyst", name="ana")
    api.add_key("cara", role="output_checker", name="cara")
    api.add_key("carl", role="output_checker", name="carl")
    api.add_key("cody", role="output_checker", name="cody")  # a checker who also writes jobs
    return response.json()["dataset_id"]


def test_the_stage_one_package_is_published_once_by_an_admin_and_read_by_the_policy_roles(api, people):
    with api.client("ana") as ana, api.client("admin") as admin, api.client("intern") as intern:
        assert ana.get(f"/v1/datasets/{people}/stage-one").status_code == 404  # not published yet
        refused = ana.post(f"/v1/datasets/{people}/stage-one")
        assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
        made = admin.post(f"/v1/datasets/{people}/stage-one", json={"seed": 3})
        assert made.status_code == 201, made.text
        again = admin.post(f"/v1/datasets/{people}/stage-one")
        assert again.status_code == 200 and again.json() == made.json()  # the same package, no second charge
        listed = ana.get(f"/v1/datasets/{people}/stage-one/files")
        assert listed.status_code == 200 and listed.json() == made.json()
        files = {entry["name"]: entry for entry in listed.json()["files"]}
        assert {"people.parquet", "schema.json", "public_policy.yaml", "package.json"} <= set(files)
        download = ana.get(f"/v1/datasets/{people}/stage-one")
        assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
            for name, entry in files.items():
                data = archive.read(name)
                assert (hashlib.sha256(data).hexdigest(), len(data)) == (entry["sha256"], entry["size"])
        assert intern.get(f"/v1/datasets/{people}/stage-one").status_code == 403  # a role the policy does not name
        assert intern.get(f"/v1/datasets/{people}/stage-one/files").status_code == 403
        spends = admin.get("/v1/admin/audit", params={"dataset_id": people}).json()
        assert [entry["action"] for entry in spends].count("stage_one.publish") == 1


def test_a_malformed_submission_is_refused_with_one_line_naming_the_field(api, people):
    with api.client("ana") as ana, api.client("intern") as intern:
        def submit(data: bytes, dataset_id: str = people, client=ana):
            return client.post("/v1/analysis-jobs", data={"dataset_id": dataset_id},
                               files={"folder": ("job.zip", data, "application/zip")})

        not_zip = submit(b"this is no zip")
        assert not_zip.status_code == 400 and not_zip.json()["message"] == "job folder: not a zip file"
        no_folder = ana.post("/v1/analysis-jobs", data={"dataset_id": people})
        assert no_folder.status_code == 422 and "folder" in no_folder.json()["message"]
        bad_mode = submit(zipped({"janedoe-job.yaml": manifest("dp").replace("mode: dp", "mode: fast"),
                                  "analysis.py": DP_SCRIPT}))
        assert bad_mode.status_code == 400 and "mode" in bad_mode.json()["message"]
        climbing = submit(zipped({"../janedoe-job.yaml": manifest("dp")}))
        assert climbing.status_code == 400 and "\n" not in climbing.json()["message"]
        other_dataset = submit(zipped({"janedoe-job.yaml": manifest("dp", dataset="someone-else"),
                                       "analysis.py": DP_SCRIPT}))
        assert other_dataset.status_code == 400 and "dataset" in other_dataset.json()["message"]
        good = zipped({"janedoe-job.yaml": manifest("dp"), "analysis.py": DP_SCRIPT})
        assert submit(good, dataset_id="no-such-dataset").status_code == 404
        assert submit(good, client=intern).status_code == 403  # the policy names no intern role
        assert ana.get("/v1/analysis-jobs/0123456789abcdef").status_code == 404


def test_only_roles_the_policy_lets_read_raw_rows_may_submit_review_jobs(api, people):
    """A review-mode job reads the raw table: a role that sees masked rows (support) may not get it through a job."""
    review = zipped({"janedoe-job.yaml": manifest("review"), "analysis.py": "print('hi')\n"})
    dp = zipped({"janedoe-job.yaml": manifest("dp"), "analysis.py": DP_SCRIPT})
    with api.client("support") as support:
        def submit(data: bytes):
            return support.post("/v1/analysis-jobs", data={"dataset_id": people},
                                files={"folder": ("job.zip", data, "application/zip")})

        refused = submit(review)
        assert refused.status_code == 403 and "review_jobs" in refused.json()["message"]
        accepted = submit(dp)
        assert accepted.status_code == 202
        run_runner(api)  # runs it, so no later test's runner finds it queued
        assert support.get(f"/v1/analysis-jobs/{accepted.json()['job_id']}").json()["state"] == "released"


@pytest.mark.skipif(sandbox_available() is not None, reason=f"no sandbox: {sandbox_available()}")
def test_a_review_job_needs_two_checkers_who_are_not_its_author_and_releases_the_checked_bytes(api, people):
    folder = {"janedoe-job.yaml": manifest("review"), "analysis.py": REVIEW_SCRIPT}
    with api.client("ana") as ana, api.client("cody") as cody, api.client("cara") as cara, \
            api.client("carl") as carl, api.client("analyst") as stranger, api.client("admin") as admin:
        submitted = ana.post("/v1/analysis-jobs", data={"dataset_id": people},
                             files={"folder": ("job.zip", zipped(folder), "application/zip")})
        assert submitted.status_code == 202, submitted.text
        job = submitted.json()
        assert (job["state"], job["author"], job["mode"]) == ("queued", "ana", "review")
        codys = cody.post("/v1/analysis-jobs", data={"dataset_id": people},
                          files={"folder": ("job.zip", zipped(folder), "application/zip")}).json()
        assert [entry["job_id"] for entry in ana.get("/v1/analysis-jobs").json()] == [job["job_id"]]  # mine only
        everyone = {entry["job_id"] for entry in cara.get("/v1/analysis-jobs").json()}
        assert {job["job_id"], codys["job_id"]} <= everyone  # checkers see every job
        assert [entry["job_id"] for entry in cody.get("/v1/analysis-jobs", params={"mine": True}).json()] == \
            [codys["job_id"]]

        ran = run_runner(api, "--max-jobs", "2")
        assert ran.returncode == 0 and "Traceback" not in ran.stderr, ran.stderr
        job_id = job["job_id"]
        status = ana.get(f"/v1/analysis-jobs/{job_id}").json()
        assert status["state"] == "awaiting_review", status
        assert status["exit_code"] is None and status["approvals"] == 0  # the author sees no exit code...
        outputs = {output["path"]: output for output in status["outputs"]}
        assert outputs["counts.csv"]["passed"] and not outputs["patients.txt"]["passed"]
        assert outputs["counts.csv"]["findings"] is None  # ... and no findings: channels out of the real data
        assert stranger.get(f"/v1/analysis-jobs/{job_id}").status_code == 404  # never confirms someone's job
        assert ana.get(f"/v1/analysis-jobs/{job_id}/logs").status_code == 403  # the log can hold raw rows
        assert admin.get(f"/v1/analysis-jobs/{job_id}/logs").status_code == 403  # admins are not checkers
        log = cara.get(f"/v1/analysis-jobs/{job_id}/logs")
        assert log.status_code == 200 and "first patient:" in log.text
        assert ana.get(f"/v1/analysis-jobs/{job_id}/outputs").json() == []
        assert ana.get(f"/v1/analysis-jobs/{job_id}/outputs/counts.csv").status_code == 404  # not released yet

        assert ana.get("/v1/reviews").status_code == 403
        assert {entry["job_id"] for entry in cara.get("/v1/reviews").json()} >= {job_id, codys["job_id"]}
        assert codys["job_id"] not in {entry["job_id"] for entry in cody.get("/v1/reviews").json()}
        assert cody.post(f"/v1/reviews/{codys['job_id']}/approve").status_code == 403  # authors never approve
        assert cody.get(f"/v1/reviews/{codys['job_id']}").status_code == 403
        assert cara.get("/v1/reviews/0123456789abcdef").status_code == 404
        review = cara.get(f"/v1/reviews/{job_id}").json()
        checks = {output["path"]: {finding["check"] for finding in output["findings"]} for output in review["outputs"]}
        assert "identifier_values" in checks["patients.txt"]
        checked = cara.get(f"/v1/reviews/{job_id}/files/counts.csv")
        assert checked.status_code == 200 and checked.headers["x-content-type-options"] == "nosniff"
        assert not any(patient.encode() in checked.content for patient in PATIENTS)

        first = cara.post(f"/v1/reviews/{job_id}/approve").json()
        assert (first["state"], first["approvals"], first["approved_by"]) == ("awaiting_review", 1, ["cara"])
        assert cara.post(f"/v1/reviews/{job_id}/approve").json()["approvals"] == 1  # twice by one checker is once
        released = carl.post(f"/v1/reviews/{job_id}/approve").json()
        assert (released["state"], released["approvals"]) == ("released", 2)
        late = cody.post(f"/v1/reviews/{job_id}/approve")
        assert late.status_code == 409 and late.json()["code"] == "job_state"

        listing = ana.get(f"/v1/analysis-jobs/{job_id}/outputs").json()
        assert [entry["name"] for entry in listing] == ["counts.csv"]  # the blocked file is never released
        data = ana.get(f"/v1/analysis-jobs/{job_id}/outputs/counts.csv")
        assert data.status_code == 200 and data.content == checked.content
        assert hashlib.sha256(data.content).hexdigest() == listing[0]["sha256"] and len(data.content) == \
            listing[0]["size"]
        assert ana.get(f"/v1/analysis-jobs/{job_id}/outputs/patients.txt").status_code == 404

        empty = cara.post(f"/v1/reviews/{codys['job_id']}/request-changes", json={"reason": ""})
        assert empty.status_code == 422 and "reason" in empty.json()["message"]
        sent_back = cara.post(f"/v1/reviews/{codys['job_id']}/request-changes",
                              json={"reason": "drop patients.txt"}).json()
        assert (sent_back["state"], sent_back["reason"]) == ("changes_requested", "drop patients.txt")
        actions = {entry["action"] for entry in admin.get("/v1/admin/audit", params={"dataset_id": people}).json()}
        assert {"job_submitted", "job_approved", "job_released", "job_output_downloaded", "job_log_read",
                "job_changes_requested"} <= actions


@pytest.mark.skipif(sandbox_available() is not None, reason=f"no sandbox: {sandbox_available()}")
def test_a_dp_job_releases_its_answers_at_once(api, people):
    with api.client("ana") as ana:
        submitted = ana.post("/v1/analysis-jobs", data={"dataset_id": people},
                             files={"folder": ("job.zip", zipped({"janedoe-job.yaml": manifest("dp"),
                                                                  "analysis.py": DP_SCRIPT}), "application/zip")})
        assert submitted.status_code == 202, submitted.text
        ran = run_runner(api)
        assert ran.returncode == 0, ran.stderr
        job_id = submitted.json()["job_id"]
        status = ana.get(f"/v1/analysis-jobs/{job_id}").json()
        assert (status["state"], status["exit_code"]) == ("released", 0), status
        listing = ana.get(f"/v1/analysis-jobs/{job_id}/outputs").json()
        assert [(entry["name"], entry["kind"]) for entry in listing] == [("dp_answers.json", "dp_answers")]
        answers = json.loads(ana.get(f"/v1/analysis-jobs/{job_id}/outputs/dp_answers.json").content)["answers"]
        assert len(answers) == 1 and answers[0]["reply"]["ok"]


def test_no_key_may_take_the_stage_one_ledger_account(api, tmp_path):
    with api.client("admin") as admin:
        for name in (STAGE_ONE_ACCOUNT, STAGE_ONE_ACCOUNT.upper()):
            refused = admin.post("/v1/admin/keys", json={"role": "analyst", "name": name})
            assert refused.status_code == 400 and refused.json()["message"].startswith("name: is reserved")
    done = subprocess.run([CONSOLE_SCRIPT, "keys", "create", "--state", api.state_url, "--role", "analyst",
                           "--name", STAGE_ONE_ACCOUNT], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().splitlines() == ["error: name: is reserved for a ledger account janedoe itself "
                                                "spends from"]
