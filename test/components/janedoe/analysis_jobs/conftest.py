"""A service state with the analysis-job queue, and job folders to submit."""

import pytest
from janedoe.analysis_jobs import MANIFEST_NAME, AnalysisJobs
from janedoe.service_store import StateStore


def write_job(folder, *, dataset="ds1", mode="dp", script="print('hello')\n", outputs="", entry="analysis.py"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST_NAME).write_text(
        f"dataset: {dataset}\nentry: {entry}\nmode: {mode}\nlimits:\n  wall_seconds: 60\n  cpu_seconds: 30\n{outputs}")
    (folder / entry).write_text(script)
    return folder


@pytest.fixture
def state(tmp_path):
    store = StateStore.open(str(tmp_path / "state.db"))
    yield store
    store.close()


@pytest.fixture
def jobs(state):
    return AnalysisJobs.from_state(state, max_running_per_analyst=2)


@pytest.fixture
def job_dir(tmp_path):
    return write_job(tmp_path / "job")
