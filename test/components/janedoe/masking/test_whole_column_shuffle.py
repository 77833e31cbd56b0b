"""`shuffle` over the whole column when a file is streamed in batches (two passes, spilled runs past a bound)."""

import collections

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from janedoe.masking import build_table_masker, column_shuffle, mask_file

from .helpers import SECRET, policy_for

ROWS, BATCH = 20_000, 1_000


def _write(tmp_path, values: pa.Array, name: str = "t.parquet"):
    path = tmp_path / name
    pq.write_table(pa.table({"id": pa.array(np.arange(len(values))), "v": values}), path)
    return path


def _counting_spills(monkeypatch) -> list:
    spills = []
    spill = column_shuffle.ShuffledColumn._spill

    def counted(self):
        spills.append(self._buffered)
        spill(self)

    monkeypatch.setattr(column_shuffle.ShuffledColumn, "_spill", counted)
    return spills


def _shuffled(tmp_path, path, rule=None, out="out.parquet"):
    policy = policy_for({"id": "keep", "v": rule or {"mask": "shuffle"}})
    mask_file(policy, path, tmp_path / out, table="t", batch_size=BATCH, seed=1, secret=SECRET)
    return pq.read_table(tmp_path / out)


@pytest.mark.parametrize(("memory_rows", "runs"), [(column_shuffle.MEMORY_ROWS, 0), (3_000, 7)])
def test_values_leave_their_batch_and_the_multiset_is_kept(tmp_path, monkeypatch, memory_rows, runs):
    monkeypatch.setattr(column_shuffle, "MEMORY_ROWS", memory_rows)
    monkeypatch.setattr(column_shuffle, "RUN_CHUNK_ROWS", 512)
    spills = _counting_spills(monkeypatch)
    values = pa.array(np.arange(ROWS))  # the value tells its original row, so its original batch
    out = _shuffled(tmp_path, _write(tmp_path, values))
    masked = out.column("v").to_numpy()
    assert sorted(masked.tolist()) == list(range(ROWS))
    stayed = np.mean(masked // BATCH == np.arange(ROWS) // BATCH)
    # a uniform permutation keeps a value in its own batch with probability 1/20: 0.05, sd about 0.0015
    assert 0.04 < stayed < 0.06
    fixed = np.mean(masked == np.arange(ROWS))
    assert fixed < 0.002  # about 1 fixed point expected in a random permutation
    assert len(spills) == runs and max(spills, default=0) <= memory_rows  # the memory bound held


def test_the_output_is_the_same_however_the_values_spilled(tmp_path, monkeypatch):
    path = _write(tmp_path, pa.array(np.arange(5_000)))
    in_memory = _shuffled(tmp_path, path, out="a.parquet")
    monkeypatch.setattr(column_shuffle, "MEMORY_ROWS", 700)
    monkeypatch.setattr(column_shuffle, "RUN_CHUNK_ROWS", 64)
    spills = _counting_spills(monkeypatch)
    spilled = _shuffled(tmp_path, path, out="b.parquet")
    assert len(spills) == 8 and max(spills) == 700 and spilled.equals(in_memory)


def test_nulls_stay_in_place_and_text_duplicates_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(column_shuffle, "MEMORY_ROWS", 2_500)
    spills = _counting_spills(monkeypatch)
    rng = np.random.default_rng(3)
    words = rng.choice(["F", "M", "X", None], size=ROWS, p=[0.45, 0.45, 0.05, 0.05]).tolist()
    out = _shuffled(tmp_path, _write(tmp_path, pa.array(words, pa.string())))
    masked = out.column("v").to_pylist()
    assert [value is None for value in masked] == [value is None for value in words]
    assert collections.Counter(masked) == collections.Counter(words)
    assert masked != words and len(spills) == 8


def test_row_key_shuffle_keeps_the_multiset(tmp_path):
    values = pa.array((np.arange(ROWS) % 37).astype(np.int32))
    out = _shuffled(tmp_path, _write(tmp_path, values), {"mask": "shuffle", "row_key": "id"})
    assert out.column("v").type == pa.int32()
    assert collections.Counter(out.column("v").to_pylist()) == collections.Counter(values.to_pylist())


def test_mask_table_shuffles_across_the_table_chunks():
    table = pa.Table.from_batches([pa.record_batch({"v": pa.array(np.arange(i * 500, i * 500 + 500))})
                                   for i in range(8)])
    masker = build_table_masker(policy_for({"v": "shuffle"}), "t", table.schema, secret=SECRET, seed=1)
    masked = masker.mask_table(table).column("v").to_numpy()
    assert sorted(masked.tolist()) == list(range(4_000))
    assert np.mean(masked // 500 == np.arange(4_000) // 500) < 0.2  # 1/8 expected; within chunks it would be 1


def test_an_input_that_grows_between_the_passes_is_refused(tmp_path):
    masker = build_table_masker(policy_for({"v": "shuffle"}), "t", pa.schema([("v", pa.int64())]),
                                secret=SECRET, seed=1)
    batch = pa.record_batch({"v": pa.array([1, 2, 3])})
    with column_shuffle.WholeColumnShuffles(masker) as shuffles:
        shuffles.observe(batch)
        shuffles.start()
        masker.mask_batch(batch)
        with pytest.raises(column_shuffle.InputChangedError):
            masker.mask_batch(batch)
    assert masker.mask_batch(batch).column(0).to_pylist() != [None] * 3  # back to within-batch shuffles
