"""DP queries and synthetic jobs on a registered dataset, against a real state and the ledger sharing its database."""

import time

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.dataset_masking import MaskedViews, RoleNotAllowedError
from janedoe.dataset_privacy import DatasetPrivacy, SyntheticJobs
from janedoe.errors import JaneDoeInputError
from janedoe.ledger import Ledger
from janedoe.service_store import DONE, FAILED, Principal, StateStore

POLICY = """\
version: 1
tables:
  people:
    dp: {epsilon: 1.0, delta: 1.0e-6}
    synthetic: {method: mst, epsilon: 0.5, delta: 1.0e-9}
    columns:
      region: {mask: keep, categories: [north, south]}
      age: {mask: "null", bounds: [18, 90], bins: 4}
roles:
  owner: {raw: true}
  analyst: {}
"""
ANALYST = Principal(key_id="k-ana", name="ana", role="analyst", admin=False)
OWNER = Principal(key_id="k-own", name="olga", role="owner", admin=False)


@pytest.fixture
def registered(tmp_path, monkeypatch):
    """(state, ledger, privacy, register): register(policy) adds the people table under that policy."""
    monkeypatch.setenv("JANEDOE_SECRET", "dataset-privacy-test-secret-0123456789")
    people = pa.table({"region": ["north", "south"] * 50, "age": list(range(18, 68)) * 2})
    pacsv.write_csv(people, tmp_path / "people.csv")
    state = StateStore.open(str(tmp_path / "state.db"))
    ledger = Ledger.open(state.ledger_url)

    def register(policy: str = POLICY):
        return ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv",
                              name="people", table_name=None, policy_text=policy, created_by="olga")

    yield state, ledger, DatasetPrivacy(ledger, MaskedViews()), register
    ledger.close()
    state.close()


def test_a_role_the_policy_does_not_name_is_refused_and_charged_nothing(registered):
    _state, ledger, privacy, register = registered
    record = register()
    intern = Principal(key_id="k-int", name="ivan", role="intern", admin=False)
    with pytest.raises(RoleNotAllowedError):
        privacy.query(record, intern, "count", epsilon=0.1)
    assert ledger.budgets() == [] and ledger.spends() == []


def test_the_first_query_opens_the_budget_from_the_policy_and_charges_its_epsilon(registered):
    _state, ledger, privacy, register = registered
    record = register()
    answer, budget = privacy.query(record, ANALYST, "count", epsilon=0.25)
    assert abs(answer["value"] - 100) < 80  # 100 rows; noise of scale 4 passes 80 with probability below e**-20
    assert (budget.analyst, budget.total, budget.spent) == ("ana", 1.0, 0.25)
    _answer, budget = privacy.query(record, ANALYST, "count", epsilon=0.25)
    assert budget.spent == 0.5
    assert [(spend.analyst, spend.query, spend.charged) for spend in ledger.spends()] == [("ana", "count", 0.25)] * 2


def test_review_jobs_are_offered_only_to_a_raw_role(registered):
    _state, _ledger, privacy, register = registered
    record = register()
    assert privacy.analysis_modes(record, ANALYST) == frozenset({"dp"})
    assert privacy.analysis_modes(record, OWNER) == frozenset({"dp", "review"})


def test_a_synthetic_job_without_a_synthetic_section_is_refused_and_charged_nothing(registered):
    state, ledger, privacy, register = registered
    record = register(POLICY.replace("    synthetic: {method: mst, epsilon: 0.5, delta: 1.0e-9}\n", ""))
    jobs = SyntheticJobs(state, privacy)
    try:
        with pytest.raises(JaneDoeInputError, match="synthetic"):
            jobs.submit(record, ANALYST, rows=20, seed=1)
    finally:
        jobs.shutdown()
    assert ledger.spends() == []


def test_a_synthetic_job_is_charged_when_accepted_and_ends_with_its_rows(registered):
    state, ledger, privacy, register = registered
    record = register()
    jobs = SyntheticJobs(state, privacy)
    try:
        job = jobs.submit(record, ANALYST, rows=20, seed=1)
        assert [spend.query for spend in ledger.spends()] == ["synthesize rows=20"]  # charged when accepted
        deadline = time.monotonic() + 120
        while state.jobs.get(job.job_id).status not in (DONE, FAILED) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        jobs.shutdown()
    done = state.jobs.get(job.job_id)
    assert done.status == DONE, done.error_message
    result = pq.read_table(done.result_path)
    assert result.num_rows == 20 and result.column_names == ["region", "age"]
    assert ledger.budget(record.dataset_id, "ana").spent == pytest.approx(0.5)
