"""`shuffle` in a role's view permutes the whole column (a side file), not each 4,096-row chunk or export batch."""

import glob
import hashlib
import math
import os
import threading

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from janedoe.dataset_ingestion import ingest_dataset
from janedoe.dataset_masking import MaskedViews
from janedoe.service_store import StateStore

SECRET = "shuffled views test secret, 32 bytes"
ROWS = 20_000
CHUNK = 4096
POLICY = """\
version: 1
tables:
  pay:
    columns:
      row: {mask: keep}
      salary: {mask: shuffle}
roles:
  analyst: {}
  support:
    tables:
      pay:
        salary: {mask: keep}
"""


@pytest.fixture
def dataset(tmp_path, monkeypatch):
    """Row i earns 10*i (every 50th row NULL), so a shown salary names the row it came from."""
    monkeypatch.setenv("JANEDOE_SECRET", SECRET)
    salary = [None if i % 50 == 7 else 10 * i for i in range(ROWS)]
    table = pa.table({"row": list(range(ROWS)), "salary": pa.array(salary, pa.int64())})
    pacsv.write_csv(table, tmp_path / "pay.csv")
    state = StateStore.open(str(tmp_path / "state.db"))
    record = ingest_dataset(state, upload_path=str(tmp_path / "pay.csv"), shown_name="pay.csv", name="pay",
                            table_name=None, policy_text=POLICY, created_by="root")
    yield state, record, salary
    state.close()


def side_files(record) -> list[str]:
    return glob.glob(os.path.join(os.path.dirname(record.data_path), f"{record.dataset_id}.shuffled-*"))


def paged(views: MaskedViews, record, role: str = "analyst", limit: int = 3000) -> list:
    """The whole column read page by page (pages cross the 4,096-row chunks), as the rows endpoint serves it."""
    shown = []
    for offset in range(0, ROWS, limit):
        shown += views.rows(record, role, offset=offset, limit=limit).column("salary").to_pylist()
    return shown


def exported(views: MaskedViews, record, role: str = "analyst") -> list:
    view = views.view(record, role)
    return pa.Table.from_batches(list(view.batches()), schema=view.output_schema).column("salary").to_pylist()


def test_the_shown_column_is_a_permutation_of_the_original_with_nulls_in_place(dataset):
    _state, record, salary = dataset
    shown = paged(MaskedViews(), record)
    assert sorted(v for v in shown if v is not None) == sorted(v for v in salary if v is not None)
    assert [v is None for v in shown] == [v is None for v in salary]
    assert sum(a == b for a, b in zip(shown, salary, strict=True) if b is not None) < 20  # ~1 expected: it moved


def test_values_leave_their_chunk_as_often_as_a_whole_column_shuffle_predicts(dataset):
    """Within-chunk shuffling kept every value in its own 4,096-row chunk (100%); over the whole column a value stays
    in it with probability sum(c_k^2)/n^2 (c_k: the chunk's non-null rows): within 5 binomial sd of that."""
    _state, record, salary = dataset
    shown = paged(MaskedViews(), record)
    moves = [(row // CHUNK, value // 10 // CHUNK) for row, value in enumerate(shown) if value is not None]
    n = len(moves)
    per_chunk = [sum(1 for i in range(k * CHUNK, min((k + 1) * CHUNK, ROWS)) if salary[i] is not None)
                 for k in range(math.ceil(ROWS / CHUNK))]
    p = sum(c * c for c in per_chunk) / n**2
    stayed = sum(now == before for now, before in moves)
    assert abs(stayed - n * p) <= 5 * math.sqrt(n * p * (1 - p)), (stayed / n, p)


def test_exports_and_pages_agree_on_every_read_and_after_a_restart(dataset):
    """One permutation whatever the batch size (pages of 4,096-row chunks, exports of 65,536), read after read, in a
    fresh process (a new MaskedViews) and after the side file is rebuilt from scratch: it is keyed, not drawn."""
    _state, record, _salary = dataset
    views = MaskedViews()
    first, second = exported(views, record), exported(views, record)
    restarted = MaskedViews()
    assert first == second == exported(restarted, record) == paged(restarted, record, limit=1000)
    (side,) = side_files(record)
    built = os.stat(side).st_mtime_ns
    assert paged(MaskedViews(), record) == first and os.stat(side).st_mtime_ns == built  # reused, not rebuilt
    os.remove(side)
    assert paged(MaskedViews(), record) == first and side_files(record) == [side]


def test_deleting_the_dataset_removes_its_side_file(dataset):
    state, record, _salary = dataset
    MaskedViews().rows(record, "analyst", offset=0, limit=10)
    assert len(side_files(record)) == 1
    state.datasets.delete(record.dataset_id)
    assert side_files(record) == [] and not os.path.exists(record.data_path)


def test_a_role_without_shuffle_rules_makes_no_side_file(dataset):
    _state, record, salary = dataset
    views = MaskedViews()
    assert exported(views, record, "support") == salary == paged(views, record, "support")
    assert side_files(record) == []


def test_concurrent_first_readers_build_one_valid_side_file(dataset):
    _state, record, _salary = dataset
    barrier = threading.Barrier(2)
    results: list[list] = [[], []]

    def read(slot: int) -> None:
        views = MaskedViews()  # two processes' worth: no shared lock
        barrier.wait()
        results[slot] = exported(views, record)

    threads = [threading.Thread(target=read, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results[0] == results[1] == paged(MaskedViews(), record) and len(results[0]) == ROWS
    assert len(side_files(record)) == 1
    assert not [name for name in os.listdir(os.path.dirname(record.data_path)) if name.endswith(".tmp")]


def test_the_side_file_name_is_keyed_and_shows_no_key(dataset, monkeypatch):
    _state, record, _salary = dataset
    shown = paged(MaskedViews(), record)
    (first,) = side_files(record)
    assert hashlib.sha256(SECRET.encode()).hexdigest()[:16] not in first and SECRET not in first
    monkeypatch.setenv("JANEDOE_SECRET", "another server key, 32 bytes long")
    assert paged(MaskedViews(), record) != shown  # another key: another permutation, in another file
    assert len(side_files(record)) == 2
