"""`janedoe job` and `janedoe review` as a user runs them: the real console script against a real server on
127.0.0.1, the stage-1 run in the real sandbox, one-line errors with exit 2 (bad input) or 1 (server refused)."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.sandbox import sandbox_available
from janedoe.service_store import StateStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "api"))
from server_process import ServerProcess  # noqa: E402

pytestmark = pytest.mark.skipif(sandbox_available() is not None, reason=f"no sandbox: {sandbox_available()}")

BIN = Path(sys.executable).parent
SECRET = "cli-job-test-secret-0123456789abcdef"
POLICY = """\
version: 1
tables:
  people:
    dp: {epsilon: 2.0}
    synthetic: {method: mst, epsilon: 1.0}
    columns:
      region: {mask: keep, categories: [north, south, east, west]}
      age: {mask: keep, bounds: [18, 90], bins: 8}
roles:
  owner: {raw: true}
  analyst: {review_jobs: true}
"""


class Service:
    def __init__(self, server: ServerProcess, state_url: str, keys: dict[str, str], dataset_id: str) -> None:
        self.server, self.state_url, self.keys, self.dataset_id = server, state_url, keys, dataset_id

    def janedoe(self, *arguments: str, key: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
        env = {name: value for name, value in os.environ.items() if not name.startswith("JANEDOE_API")}
        env.update({"JANEDOE_API_URL": self.server.url, "JANEDOE_SECRET": SECRET})
        if key is not None:
            env["JANEDOE_API_KEY"] = self.keys[key]
        done = subprocess.run([str(BIN / "janedoe"), *arguments], env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=600, check=False)
        for secret in self.keys.values():  # no key ever printed
            assert secret not in done.stdout and secret not in done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def run_queue(self) -> None:
        done = subprocess.run([str(BIN / "janedoe-api"), "runner", "--state", self.state_url, "--once"],
                              env={**os.environ, "JANEDOE_SECRET": SECRET}, capture_output=True, text=True,
                              timeout=600, check=False)
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    directory = tmp_path_factory.mktemp("cli-jobs")
    rng = np.random.default_rng(2)
    pacsv.write_csv(pa.table({"region": rng.choice(["north", "south", "east", "west"], 200),
                              "age": rng.integers(18, 91, 200)}), directory / "people.csv")
    state_url = f"sqlite:///{directory}/state.db"
    state = StateStore.open(state_url)
    os.environ.setdefault("JANEDOE_SECRET", SECRET)
    record = ingest_dataset(state, upload_path=str(directory / "people.csv"), shown_name="people.csv", name="people",
                            table_name=None, policy_text=POLICY, created_by="root")
    keys = {}
    for label, role, admin in (("root", "owner", True), ("ana", "analyst", False), ("cara", "output_checker", False),
                               ("carl", "output_checker", False)):
        keys[label], _ = state.keys.create(role=role, name=label, admin=admin)
    state.close()
    server = ServerProcess(state_url, env={"JANEDOE_SECRET": SECRET}).start()
    yield Service(server, state_url, keys, record.dataset_id)
    server.stop()


def test_a_job_folder_goes_from_init_through_stage_one_to_a_released_output(service, tmp_path):
    job = tmp_path / "job"
    made = service.janedoe("job", "init", str(job), "--dataset", "people", "--mode", "review")
    assert made.returncode == 0 and (job / "janedoe-job.yaml").is_file() and (job / "analysis.py").is_file()
    assert service.janedoe("job", "package", service.dataset_id, key="ana").returncode == 1  # not published yet
    published = service.janedoe("job", "package", service.dataset_id, "--publish", "--output",
                                str(tmp_path / "package.zip"), key="root")
    assert published.returncode == 0, published.stderr
    assert published.stdout.startswith(f"wrote {tmp_path / 'package.zip'}: ")  # rows: a noisy count, by design
    assert published.stdout.strip().endswith("synthetic rows of people (mst, epsilon=1)")

    for _ in range(2):  # the second run reuses the first one's output folder
        local = service.janedoe("job", "run", str(job), "--package", str(tmp_path / "package.zip"))
        assert local.returncode == 0, local.stdout + local.stderr
        assert local.stdout.startswith("succeeded in ") and "wrote summary.csv" in local.stdout
        assert "summary.csv: passes" in local.stdout
    assert (tmp_path / "job-output" / "summary.csv").is_file() and (tmp_path / "job-output.log").is_file()

    submitted = service.janedoe("job", "submit", str(job), key="ana")
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.split()[1].rstrip(":")
    assert submitted.stdout.startswith(f"job {job_id}: queued (review mode, dataset {service.dataset_id}")
    service.run_queue()
    status = service.janedoe("job", "status", job_id, key="ana")
    assert status.returncode == 0 and f"job {job_id}: awaiting_review" in status.stdout
    assert "summary.csv (table): passes" in status.stdout

    assert service.janedoe("review", "list", key="ana").returncode == 1  # not an output checker
    listed = service.janedoe("review", "list", key="cara")
    assert listed.returncode == 0 and listed.stdout.startswith(f"{job_id}  by ana")
    shown = service.janedoe("review", "show", job_id, "--download", str(tmp_path / "checked"), key="cara")
    assert shown.returncode == 0 and (tmp_path / "checked" / "summary.csv").is_file(), shown.stderr
    first = service.janedoe("review", "approve", job_id, key="cara")
    assert first.stdout.strip() == f"job {job_id}: awaiting_review (1 approval(s))"
    second = service.janedoe("review", "approve", job_id, key="carl")
    assert second.stdout.strip() == f"job {job_id}: released (2 approval(s))"

    fetched = service.janedoe("job", "outputs", job_id, "--download", str(tmp_path / "released"), key="ana")
    assert fetched.returncode == 0, fetched.stderr
    data = (tmp_path / "released" / "summary.csv").read_bytes()
    assert data == (tmp_path / "checked" / "summary.csv").read_bytes()
    assert f"sha256 {hashlib.sha256(data).hexdigest()}" in fetched.stdout


def test_errors_are_one_line_exit_2_for_bad_input_and_1_for_a_refusal(service, tmp_path):
    job = tmp_path / "job"
    service.janedoe("job", "init", str(job), "--dataset", "people", "--mode", "dp")

    def one_line(done, code: int) -> str:
        assert done.returncode == code and len(done.stderr.strip().splitlines()) == 1, done.stderr
        return done.stderr.strip()

    assert one_line(service.janedoe("job", "status", "abc"), 2) == \
        "error: JANEDOE_API_KEY: no API key: set JANEDOE_API_KEY or give --key-file"
    assert service.janedoe("job", "status", "abc", "--key", service.keys["ana"]).returncode == 2  # no such option
    key_file = tmp_path / "key"
    key_file.write_text(service.keys["ana"] + "\n")
    unknown = one_line(service.janedoe("job", "status", "0123456789abcdef", "--key-file", str(key_file)), 1)
    assert unknown == "error: the server refused (404): jobs/0123456789abcdef: no such analysis job (not_found)"
    again = one_line(service.janedoe("job", "init", str(job), "--dataset", "people", "--mode", "dp"), 2)
    assert "already exists" in again
    (tmp_path / "fake.zip").write_text("not a zip")
    assert one_line(service.janedoe("job", "run", str(job), "--package", str(tmp_path / "fake.zip")), 2) == \
        f"error: {tmp_path / 'fake.zip'}: not a stage-1 package folder or zip"
    (job / "janedoe-job.yaml").write_text((job / "janedoe-job.yaml").read_text().replace("mode: dp", "mode: fast"))
    assert "mode" in one_line(service.janedoe("job", "submit", str(job), key="ana"), 2)
    unreachable = one_line(service.janedoe("job", "status", "abc", "--api-url", "http://127.0.0.1:9", key="ana"), 1)
    assert unreachable.startswith("error: cannot reach http://127.0.0.1:9")
    assert one_line(service.janedoe("review", "request-changes", "abc", "--reason", "x", key="ana"), 1) \
        .startswith("error: the server refused (403)")
