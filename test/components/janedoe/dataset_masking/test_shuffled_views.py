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
    yield from registered(tmp_path, monkeypatch, POLICY)


@pytest.fixture
def colliding_roles_dataset(tmp_path, monkeypatch):
    """Roles whose names the first naming scheme mapped to one prefix (`a_b`): `.` and `_` were both shown as `_`."""
    policy = POLICY.replace("  analyst: {}\n", "  a.b: {}\n  a_b: {}\n  a_2eb: {}\n")
    yield from registered(tmp_path, monkeypatch, policy)


def registered(tmp_path, monkeypatch, policy: str):
    monkeypatch.setenv("JANEDOE_SECRET", SECRET)
    salary = [None if i % 50 == 7 else 10 * i for i in range(ROWS)]
    table = pa.table({"row": list(range(ROWS)), "salary": pa.array(salary, pa.int64())})
    pacsv.write_csv(table, tmp_path / "pay.csv")
    state = StateStore.open(str(tmp_path / "state.db"))
    record = ingest_dataset(state, upload_path=str(tmp_path / "pay.csv"), shown_name="pay.csv", name="pay",
                            table_name=None, policy_text=policy, created_by="root")
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


def test_a_rotated_key_s_view_removes_the_old_key_s_side_file_of_its_role(dataset, monkeypatch):
    _state, record, _salary = dataset
    shown = paged(MaskedViews(), record)
    (old,) = side_files(record)
    monkeypatch.setenv("JANEDOE_SECRET", "another server key, 32 bytes long")
    rotated = paged(MaskedViews(), record)
    (new,) = side_files(record)
    assert new != old and not os.path.exists(old) and rotated != shown
    MaskedViews().rows(record, "support", offset=0, limit=10)  # another role (no shuffle) sweeps nothing of it
    assert side_files(record) == [new]


def test_roles_whose_names_collided_before_keep_separate_files(colliding_roles_dataset):
    _state, record, _salary = colliding_roles_dataset
    views = MaskedViews()
    for role in ("a.b", "a_b", "a_2eb", "a.b"):  # each build sweeps its own role's stale files only
        views.rows(record, role, offset=0, limit=10)
    files = side_files(record)
    prefixes = {os.path.basename(path)[: -len("-0123456789abcdef0123456789abcdef.parquet")] for path in files}
    assert len(files) == 3 and len(prefixes) == 3, files
    assert all(views.view(record, role).shuffled.path in files for role in ("a.b", "a_b", "a_2eb"))


def test_a_reader_during_the_sweep_still_gets_the_rows_it_started_with(dataset, monkeypatch):
    """An export streaming from the old key's file reads on from its open handle after the file is removed; a page
    read in the old key's process (the chunk not cached yet) rebuilds the file and shows the same rows as before."""
    _state, record, _salary = dataset
    expected = paged(MaskedViews(), record)
    old_process = MaskedViews()
    view = old_process.view(record, "analyst")
    streaming = view.shuffled.batches(CHUNK)
    read = next(streaming).column("salary").to_pylist()
    monkeypatch.setenv("JANEDOE_SECRET", "another server key, 32 bytes long")
    MaskedViews().view(record, "analyst")  # the new key's process builds its file and sweeps the old one
    assert not os.path.exists(view.shuffled.path)
    read += [value for batch in streaming for value in batch.column("salary").to_pylist()]
    assert read == expected
    last_rows = old_process.rows(record, "analyst", offset=ROWS - 10, limit=10)
    assert last_rows.column("salary").to_pylist() == expected[-10:]
    assert os.path.exists(view.shuffled.path)  # rebuilt by the reader that found it gone
