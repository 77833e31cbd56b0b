"""Unique pseudonyms depend on the key and the SET of values only: not on row order, batch size, partitions, or the
other values except those colliding with one; distinct, well-formed past the pool, never the input itself."""

import pickle
import re

import numpy as np
import pyarrow as pa
import pytest
from janedoe.masking import (
    PrepassMismatchError,
    PrepassMissingError,
    PrepassState,
    build_table_masker,
    mask_file,
)
from janedoe.masking.faker_pools import public_faker_pool
from janedoe.tabular import read_table, write_table_atomic

from .helpers import SECRET, policy_for

OTHER_SECRET = b"another key, also 32 bytes long."


def _masker(rule: dict, secret: bytes = SECRET, column: str = "c", schema: pa.Schema | None = None):
    policy = policy_for({column: rule} if schema is None else {**{n: "keep" for n in schema.names}, column: rule})
    return build_table_masker(policy, "t", schema or pa.schema([(column, pa.string())]), secret=secret)


def _unique(kind: str, pool_size: int = 4096, **extra) -> dict:
    return {"mask": "pseudonymize", "kind": kind, "unique": True, "pool_size": pool_size, **extra}


def _mapping(values: list, rule: dict, *, batch_rows: int, secret: bytes = SECRET) -> dict:
    """value -> pseudonym, masking `values` in batches of `batch_rows` after a prepass over the same batches."""
    masker = _masker(rule, secret)
    batches = pa.table({"c": pa.array(values, pa.string())}).to_batches(max_chunksize=batch_rows)
    masker.prepass(batches)
    out = [masker.mask_batch(batch).column(0) for batch in batches]
    masked = pa.concat_arrays(out).to_pylist()
    mapping: dict = {}
    for value, pseudonym in zip(values, masked, strict=True):
        assert mapping.setdefault(value, pseudonym) == pseudonym  # one value, one pseudonym in every batch
    return mapping


def test_row_order_and_batch_size_do_not_change_any_pseudonym():
    rng = np.random.default_rng(7)
    values = [f"user{i}@corp.example" for i in rng.integers(0, 1500, 6000)]  # repeats; 1500 > pool: collisions
    rule = _unique("email", pool_size=400)
    reference = _mapping(values, rule, batch_rows=6000)
    shuffled = list(rng.permutation(values))
    assert _mapping(shuffled, rule, batch_rows=97) == reference
    assert _mapping(sorted(set(values), reverse=True), rule, batch_rows=1) == reference


def test_partition_states_merge_in_any_grouping_and_survive_pickling():
    values = pa.array([f"v{i % 900}" for i in range(4000)])
    masker = _masker(_unique("name", pool_size=200))
    parts = [masker.observe(batch) for batch in pa.table({"c": values}).to_batches(max_chunksize=333)]
    left = parts[0]
    for part in parts[1:]:
        left = left.merge(part)
    right = parts[-1]
    for part in reversed(parts[:-1]):
        right = part.merge(right)
    shipped = pickle.loads(pickle.dumps(right))
    assert isinstance(shipped, PrepassState)
    (words,) = [part.words for part in shipped.parts.values()]
    assert np.array_equal(words, next(iter(left.parts.values())).words) and len(words) == 900
    assert shipped.nbytes == 8 * 900 and len(pickle.dumps(shipped)) < 8 * 900 + 1000  # no raw value travels
    assert b"v1" not in pickle.dumps(shipped)
    one, other = _masker(_unique("name", pool_size=200)), _masker(_unique("name", pool_size=200))
    one.use_prepass(left)
    other.use_prepass(shipped)
    batch = pa.record_batch({"c": values})
    assert one.mask_batch(batch).equals(other.mask_batch(batch))


WELL_FORMED = {
    "email": re.compile(r"[a-z0-9._-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}"),
    "first_name": re.compile(r"[A-Z][a-z']+(-[A-Z][a-z']+)?"),
    # title? given name(s) family name, double-barrelled past the pool, suffix? ("Mr. Dakota Lynch-Stark II")
    "name": re.compile(r"([A-Z][a-z]*\.? )?[A-Z][a-z']+( [A-Z][a-z']+)+(-[A-Z][a-z']+)?( [A-Z][A-Za-z]*\.?)?"),
    "phone_number": re.compile(r"\+?[0-9]*[ (.-]*[0-9]{3}[ ).-]*[0-9]{3}[ .-]*[0-9]{4}(x[0-9]{1,5})?"),
}


@pytest.mark.parametrize("kind", sorted(WELL_FORMED))
def test_distinct_inputs_get_distinct_well_formed_pseudonyms_past_the_pool_and_never_their_own(kind):
    pool = public_faker_pool(kind, "en_US", 300).cast(pa.string())
    inputs = sorted(set(pool.to_pylist()) | {f"input {i}" for i in range(2000)})  # the pool's own values too
    mapping = _mapping(inputs, _unique(kind, pool_size=300), batch_rows=512)
    outputs = list(mapping.values())
    assert len(set(outputs)) == len(inputs) > 6 * 300  # far past the pool
    assert not [value for value, pseudonym in mapping.items() if value == pseudonym]
    malformed = [text for text in outputs if not WELL_FORMED[kind].fullmatch(text)]
    assert not malformed, malformed[:5]


def test_adding_one_value_moves_only_the_few_values_colliding_with_it():
    values = [f"customer{i}@shop.example" for i in range(10_000)]
    rule = _unique("email", pool_size=4096)  # 10k values past a pool of ~4k: every kind of collision happens
    before = _mapping(values, rule, batch_rows=10_000)
    for extra in ("late@shop.example", "another@shop.example", "third@shop.example"):
        after = _mapping([extra, *values], rule, batch_rows=10_000)  # first in row order, which must not matter
        moved = sum(before[value] != after[value] for value in values)
        assert moved < 10, moved  # < 0.1% of 10k
        assert after[extra] not in set(before.values()) or after[extra] in {before[v] for v in values
                                                                            if before[v] != after[v]}


def test_another_key_gives_unrelated_pseudonyms_and_the_same_key_the_same():
    values = [f"person{i}" for i in range(3000)]
    rule = _unique("name", pool_size=1000)
    first = _mapping(values, rule, batch_rows=700)
    assert _mapping(values, rule, batch_rows=3000) == first
    other = _mapping(values, rule, batch_rows=700, secret=OTHER_SECRET)
    assert sum(first[v] == other[v] for v in values) < 30


def test_masking_before_the_prepass_or_outside_its_values_is_an_error_never_an_order_dependent_result():
    masker = _masker(_unique("email"))
    assert masker.needs_prepass and masker.prepass_columns == ["c"]
    batch = pa.record_batch({"c": pa.array(["a@x.example", "b@x.example"])})
    with pytest.raises(PrepassMissingError, match="before mask_batch"):
        masker.mask_batch(batch)
    masker.use_prepass(masker.observe(batch.slice(0, 1)))
    with pytest.raises(PrepassMismatchError):
        masker.mask_batch(batch)
    assert not _masker({"mask": "pseudonymize", "kind": "email"}).needs_prepass


def test_row_key_pseudonyms_are_order_free_and_never_the_rows_own_value():
    rng = np.random.default_rng(11)
    logins = [f"user{i % 500}" for i in range(2000)]
    pool = public_faker_pool("email", "en_US", 200).cast(pa.string()).to_pylist()
    emails = [pool[i % 200] for i in range(2000)]  # own values are pool values: the exclusion must work
    schema = pa.schema([("login", pa.string()), ("email", pa.string())])
    rule = _unique("email", pool_size=200, row_key="login")
    results = []
    for order in (np.arange(2000), rng.permutation(2000)):
        table = pa.table({"login": [logins[i] for i in order], "email": [emails[i] for i in order]})
        masker = _masker(rule, column="email", schema=schema)
        assert masker.prepass_columns == ["login", "email"]
        masker.prepass(table.to_batches(max_chunksize=123))
        masked = pa.concat_arrays([masker.mask_batch(b).column("email") for b in table.to_batches(max_chunksize=77)])
        by_row = dict(zip(order.tolist(), masked.to_pylist(), strict=True))
        results.append([by_row[i] for i in range(2000)])
    assert results[0] == results[1]
    by_login = dict(zip(logins, results[0], strict=True))
    assert len(set(by_login.values())) == 500
    assert not any(out == own for out, own in zip(results[0], emails, strict=True))


def test_mask_file_runs_the_first_pass_and_gives_the_same_file_for_shuffled_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("JANEDOE_SECRET", SECRET.decode())
    rng = np.random.default_rng(3)
    emails = [f"client{i}@bank.example" for i in rng.integers(0, 800, 3000)]
    policy = policy_for({"id": "keep", "email": _unique("email", pool_size=250)}, table="clients")
    table = pa.table({"id": pa.array(np.arange(3000)), "email": emails})
    write_table_atomic(table, tmp_path / "clients.csv")
    write_table_atomic(table.take(rng.permutation(3000)), tmp_path / "shuffled.parquet")
    seen = []
    mask_file(policy, tmp_path / "clients.csv", tmp_path / "a.parquet", batch_size=101,
              progress=lambda rows, total: seen.append(rows))
    assert seen[-1] == 6000  # both passes reported
    mask_file(policy, tmp_path / "shuffled.parquet", tmp_path / "b.parquet", table="clients", batch_size=4096)
    a, b = read_table(tmp_path / "a.parquet"), read_table(tmp_path / "b.parquet").sort_by("id")
    assert a.equals(b)
    assert len(set(a.column("email").to_pylist())) == len(set(emails))
