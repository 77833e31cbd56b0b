"""ingest_sql_table on a real SQLite file: the stored Parquet equals the table, the source is kept, failures leave
no data file and no registry row."""

import os
import sqlite3

import pyarrow.parquet as pq
import pytest
from janedoe.dataset_ingestion import ingest_sql_table
from janedoe.errors import JaneDoeInputError, NotFoundError
from janedoe.service_store import StateStore

POLICY = """\
version: 1
default: error
tables:
  people:
    columns:
      id: {mask: keep}
      name: {mask: hash}
roles:
  owner: {raw: true}
"""


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("JANEDOE_SECRET", "s3cret-for-tests-0123456789")
    store = StateStore.open(str(tmp_path / "state.db"))
    yield store
    store.close()


@pytest.fixture
def source(tmp_path):
    path = str(tmp_path / "src.db")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        conn.executemany("INSERT INTO people VALUES (?, ?)", [(i, f"name{i}") for i in range(300, 0, -1)])
        conn.execute("CREATE TABLE wide (id INTEGER PRIMARY KEY, name TEXT, phone TEXT)")
    conn.close()
    return path


def test_the_stored_copy_equals_the_table_and_the_source_is_recorded(state, source):
    record = ingest_sql_table(state, url=source, table="people", name="people", policy_text=POLICY, created_by="a")
    with sqlite3.connect(source) as conn:
        expected = conn.execute("SELECT id, name FROM people ORDER BY id").fetchall()
    stored = pq.read_table(record.data_path)
    assert list(zip(stored["id"].to_pylist(), stored["name"].to_pylist(), strict=True)) == expected
    assert record.row_count == 300
    assert state.datasets.source_of(record.dataset_id) == f"sqlite:///{source} table people"
    state.datasets.delete(record.dataset_id)
    assert state.datasets.source_of(record.dataset_id) is None and not os.path.exists(record.data_path)


@pytest.mark.parametrize(("table", "policy_table", "error"), [
    ("missing", None, NotFoundError),
    ("wide", "people", JaneDoeInputError),  # `phone` is not in the policy and its default is `error`
    ("people", "nobody", JaneDoeInputError),
])
def test_a_refused_table_leaves_nothing_behind(state, source, table, policy_table, error):
    with pytest.raises(error):
        ingest_sql_table(state, url=source, table=table, policy_table=policy_table, name="x", policy_text=POLICY,
                         created_by="a")
    assert state.datasets.list() == []
    assert [name for name in os.listdir(state.datasets.data_dir) if not name.startswith(".upload-")] == []
