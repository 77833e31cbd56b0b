"""Registered datasets read per role, straight through the component (the API tests go through HTTP)."""

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.service_state import MaskedViews, RoleNotAllowedError, StateStore, ingest_dataset

POLICY = """\
version: 1
tables:
  people:
    columns:
      email: {mask: partial_email}
      age:   {mask: generalize, step: 10}
roles:
  owner: {raw: true}
  analyst: {}
  support:
    tables:
      people:
        age: {mask: keep}
"""


@pytest.fixture
def dataset(tmp_path):
    table = pa.table({"email": [f"person{i}@mail{i}.org" for i in range(30)], "age": list(range(20, 50))})
    pacsv.write_csv(table, tmp_path / "people.csv")
    state = StateStore.open(str(tmp_path / "state.db"))
    record = ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv", name="people",
                            table_name=None, policy_text=POLICY, created_by="root")
    yield state, record, table
    state.close()


def test_each_role_sees_its_rules(dataset):
    state, record, raw = dataset
    views = MaskedViews()
    assert record.row_count == 30 and record.table_name == "people"
    assert views.rows(record, "owner", offset=0, limit=30).to_pylist() == raw.to_pylist()
    analyst = views.rows(record, "analyst", offset=5, limit=10)
    assert analyst.num_rows == 10
    assert not set(analyst.column("email").to_pylist()) & set(raw.column("email").to_pylist())
    assert analyst.column("age").to_pylist()[0] == "20-29"
    support = views.rows(record, "support", offset=5, limit=10)
    assert support.column("age").to_pylist() == list(range(25, 35))
    assert support.column("email").to_pylist() == analyst.column("email").to_pylist()


def test_a_role_the_policy_does_not_name_is_refused(dataset):
    _state, record, _raw = dataset
    with pytest.raises(RoleNotAllowedError):
        MaskedViews().rows(record, "intern", offset=0, limit=5)


def test_export_batches_cover_the_dataset_masked(dataset):
    _state, record, raw = dataset
    view = MaskedViews().view(record, "analyst")
    exported = pa.Table.from_batches(list(view.batches()), schema=view.output_schema)
    assert exported.num_rows == raw.num_rows
    assert exported.column("email").to_pylist() == MaskedViews().rows(record, "analyst", offset=0, limit=30).column(
        "email").to_pylist()


def test_ingest_refuses_a_policy_that_does_not_fit_and_writes_nothing(tmp_path):
    (tmp_path / "people.csv").write_text("email,age\na@b.org,3\n")
    state = StateStore.open(str(tmp_path / "state.db"))
    for policy, table in ((POLICY.replace("partial_email", "nosuchrule"), None), (POLICY, "other"),
                          ("secret_env: HOME\n" + POLICY, None)):
        with pytest.raises(JaneDoeInputError):
            ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv", name="p",
                           table_name=table, policy_text=policy, created_by="root")
    assert state.datasets.list() == []
    assert [name for name in (tmp_path / "state-data").iterdir()] == []
    state.close()
