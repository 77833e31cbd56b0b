"""Registered datasets read per role, straight through the component (the API tests go through HTTP)."""

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.dataset_masking import MaskedViews, RoleNotAllowedError
from janedoe.service_store import StateStore

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


NOISY_POLICY = """\
version: 1
tables:
  pay:
    columns:
      email:  {mask: partial_email}
      salary: {mask: noise, ratio: 0.5}
roles:
  owner: {raw: true}
  analyst: {}
"""


@pytest.fixture
def noisy_dataset(tmp_path, monkeypatch):
    """More rows than one cached chunk, so pages cross chunk boundaries; a float column with NaN."""
    monkeypatch.setenv("JANEDOE_SECRET", "server-key-for-tests-0123456789")
    rows = 9_000
    salary = [float("nan") if i % 97 == 0 else 1000.0 + i for i in range(rows)]
    table = pa.table({"email": [f"p{i}@m{i % 7}.org" for i in range(rows)], "salary": salary})
    pacsv.write_csv(table, tmp_path / "pay.csv")
    state = StateStore.open(str(tmp_path / "state.db"))
    record = ingest_dataset(state, upload_path=str(tmp_path / "pay.csv"), shown_name="pay.csv", name="pay",
                            table_name=None, policy_text=NOISY_POLICY, created_by="root")
    yield record, table
    state.close()


def test_pages_across_chunks_are_the_raw_rows_for_a_raw_role(noisy_dataset):
    record, raw = noisy_dataset
    views = MaskedViews()
    for offset, limit in ((0, 1), (4000, 200), (4095, 2), (8190, 4000), (8999, 5), (9000, 5)):
        page = views.rows(record, "owner", offset=offset, limit=limit)
        expected = raw.slice(offset, limit)
        assert page.num_rows == expected.num_rows
        assert page.column("email").to_pylist() == expected.column("email").to_pylist()


def test_a_masked_page_is_stable_and_never_shows_a_raw_value(noisy_dataset):
    record, raw = noisy_dataset
    views = MaskedViews()
    first = views.rows(record, "analyst", offset=4000, limit=300)
    again = views.rows(record, "analyst", offset=4000, limit=300)
    # Repeating a read returns the same noisy values: they cannot be averaged away.
    assert first.to_pylist() == again.to_pylist()
    # Overlapping pages agree on the rows they share.
    inner = views.rows(record, "analyst", offset=4090, limit=20)
    assert inner.to_pylist() == first.slice(90, 20).to_pylist()
    raw_page = raw.slice(4000, 300)
    assert not set(first.column("email").to_pylist()) & set(raw.column("email").to_pylist())
    changed = [a != b for a, b in zip(first.column("salary").to_pylist(), raw_page.column("salary").to_pylist(),
                                      strict=True) if b == b]
    assert sum(changed) > 0.9 * len(changed)


def test_json_rows_are_the_masked_rows_with_nan_as_null(noisy_dataset):
    import json
    import math

    record, _raw = noisy_dataset
    views = MaskedViews()
    schema, texts = views.rows_json(record, "analyst", offset=4000, limit=300)
    table_rows = views.rows(record, "analyst", offset=4000, limit=300).to_pylist()
    assert schema.names == ["email", "salary"]
    decoded = [json.loads(text) for text in texts]
    expected = [{k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
                for row in table_rows]
    assert decoded == expected
    assert any(row["salary"] is None for row in decoded)  # row 4074 is NaN in the raw data
    assert views.rows_json(record, "analyst", offset=9000, limit=10)[1] == []


def test_forget_drops_a_datasets_masked_pages(noisy_dataset):
    record, _raw = noisy_dataset
    views = MaskedViews()
    views.rows(record, "analyst", offset=0, limit=10)
    views.forget(record.dataset_id)
    assert views._masked == {} and views._masked_rows == 0


def test_exports_and_pages_draw_the_same_noise_in_every_process(noisy_dataset):
    """Keyed draws: a second export, or another process (a fresh MaskedViews), gives the very same values."""
    record, _raw = noisy_dataset
    first, second = MaskedViews(), MaskedViews()
    exports = [pa.Table.from_batches(list(views.view(record, "analyst").batches())) for views in (first, second)]
    again = pa.Table.from_batches(list(first.view(record, "analyst").batches()))
    assert exports[0].equals(exports[1]) and exports[0].equals(again)
    assert second.rows(record, "analyst", offset=4000, limit=300).equals(exports[0].slice(4000, 300))


def test_unique_pseudonyms_come_from_the_whole_dataset_so_pages_and_exports_agree(tmp_path, monkeypatch):
    monkeypatch.setenv("JANEDOE_SECRET", "masked views test secret, 32 bytes")
    policy = "version: 1\ntables:\n  people:\n    columns:\n" \
             "      email: {mask: pseudonymize, kind: email, unique: true, pool_size: 50}\nroles:\n  analyst: {}\n"
    emails = [f"person{i % 300}@mail.org" for i in range(9000)]  # 300 values for a pool of 50; pages of 4,096 rows
    pacsv.write_csv(pa.table({"email": emails}), tmp_path / "people.csv")
    state = StateStore.open(str(tmp_path / "state.db"))
    try:
        record = ingest_dataset(state, upload_path=str(tmp_path / "people.csv"), shown_name="people.csv",
                                name="people", table_name=None, policy_text=policy, created_by="root")
        views = MaskedViews()
        paged = views.rows(record, "analyst", offset=0, limit=9000).column("email").to_pylist()
        exported = pa.Table.from_batches(list(views.view(record, "analyst").batches())).column("email").to_pylist()
    finally:
        state.close()
    assert paged == exported
    by_email = dict(zip(emails, paged, strict=True))
    assert all(by_email[e] == p for e, p in zip(emails, paged, strict=True)) and len(set(by_email.values())) == 300
