"""A registered dataset with a dp and a synthetic section, its real ledger, and the markers its policy must not leak."""

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.dataset_masking import MaskedViews
from janedoe.dataset_privacy import DatasetPrivacy
from janedoe.ledger import Ledger
from janedoe.service_store import Principal, StateStore

SECRET = "stage-one-test-secret-0123456789abcdef"
# Values only the policy's rule arguments and conditions hold: none may reach a stage-1 package.
PRIVATE_MARKERS = ("ZQXWHENVALUE", "ZQXPATTERN", "ZQXREPLACEMENT", "ZQXOTHERWISE", SECRET)
POLICY = """\
version: 1
default: error
tables:
  people:
    dp: {epsilon: 1.0}
    synthetic: {method: mst, epsilon: 0.5, delta: 1.0e-9}
    columns:
      region: {mask: keep, categories: [north, south, east, west]}
      age: {mask: "null", bounds: [18, 90], bins: 8}
      status:
        mask: regex_replace
        pattern: "ZQXPATTERN[0-9]+"
        replacement: ZQXREPLACEMENT
        when: {column: region, equals: ZQXWHENVALUE}
        otherwise: {mask: regex_replace, pattern: "ZQXOTHERWISE[0-9]"}
        categories: [active, closed]
      badge: {mask: hash, length: 12, categories: [B1, B2, B3]}
      score: {mask: keep, bounds: [0.0, 1.0]}
roles:
  owner: {raw: true}
  analyst: {}
"""
ROWS = 1000


def people_table(rows: int = ROWS, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "region": rng.choice(["north", "south", "east", "west"], rows),
        "age": rng.integers(18, 91, rows),
        "status": rng.choice(["active", "closed"], rows),
        "badge": rng.choice(["B1", "B2", "B3"], rows),
        "score": rng.random(rows),
    })


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    """(record, privacy, raw table) of a fresh state whose ledger shares its database."""
    monkeypatch.setenv("JANEDOE_SECRET", SECRET)
    raw = people_table()
    pacsv.write_csv(raw, tmp_path / "people.csv")
    state = StateStore.open(str(tmp_path / "state.db"))
    record = ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv", name="people",
                            table_name=None, policy_text=POLICY, created_by="owner")
    ledger = Ledger.open(state.ledger_url)
    yield record, DatasetPrivacy(ledger, MaskedViews()), raw
    ledger.close()
    state.close()


@pytest.fixture
def analyst():
    return Principal(key_id="k-ana", name="ana", role="analyst", admin=False)
