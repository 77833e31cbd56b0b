"""Masking on Spark gives every row what `janedoe mask` gives it, whatever the partitioning; no key in the plan."""

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
import yaml
from janedoe.errors import JaneDoeInputError
from janedoe.masking import mask_file
from janedoe.policy import parse_policy
from janedoe.spark_engine import dataset_location, mask_dataframe, read_dataset, write_dataset

SECRET = b"spark test secret, 32 bytes long"

RULES = {
    "id": "keep",
    "name": {"mask": "pseudonymize", "kind": "name"},
    "email": {"mask": "hash", "algorithm": "sha256", "length": 16},
    "phone": {"mask": "partial", "prefix": 2, "padding": "XXXX", "suffix": 2, "when": {"column": "band", "equals": "x"},
              "otherwise": {"mask": "hash", "length": 8}},
    "salary": {"mask": "noise", "ratio": 0.2},
    "age": {"mask": "generalize", "step": 10},
    "born": {"mask": "random_date", "min": "1950-01-01", "max": "2000-12-31"},
    "city": {"mask": "fake", "kind": "city"},
    "band": {"mask": "random_in", "values": ["a", "b", "c"]},
    "visits": {"mask": "random_int", "min": 0, "max": 100},
    "note": "null",
    "login": {"mask": "pseudonymize", "kind": "email", "unique": True, "pool_size": 1000},
}


def _policy(rules=RULES):
    data = {"version": 1, "default": "error", "secret_env": "JANEDOE_TEST_SPARK_SECRET",
            "tables": {"people": {"columns": rules}}}
    return parse_policy(yaml.safe_dump(data), "spark-policy.yaml")


def _people(rows: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table({
        "id": pa.array(np.arange(rows), pa.int64()),
        "name": pa.array([f"Person {i % 997}" for i in range(rows)]),
        "email": pa.array([None if i % 50 == 0 else f"p{i}@mail.test" for i in range(rows)]),
        "phone": pa.array([f"+4930{i:07d}" for i in range(rows)]),
        "salary": pa.array(rng.integers(20_000, 120_000, rows).astype(np.float64)),
        "age": pa.array(rng.integers(18, 90, rows), pa.int64()),
        "born": pa.array([dt.date(1960, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 15_000, rows)]),
        "city": pa.array([f"City {i % 31}" for i in range(rows)]),
        "band": pa.array([["x", "y"][i % 2] for i in range(rows)]),
        "visits": pa.array(rng.integers(0, 10, rows), pa.int64()),
        "note": pa.array([f"remark {i}" for i in range(rows)]),
        "login": pa.array([f"user{i % 1500}@corp.test" for i in range(rows)]),
    })


def _read_sorted(path) -> pa.Table:
    return ds.dataset(str(path), format="parquet").to_table().sort_by("id")


@pytest.mark.parametrize("partitions", [1, 7])
def test_every_row_gets_what_janedoe_mask_gives_it(spark, tmp_path, partitions):
    source = tmp_path / "people.parquet"
    pq.write_table(_people(3_000), source)
    policy = _policy()
    local = tmp_path / "local.parquet"
    mask_file(policy, source, local, secret=SECRET, batch_size=512)

    frame = read_dataset(spark, dataset_location(str(source))).repartition(partitions)
    out = tmp_path / "spark-out"
    write_dataset(mask_dataframe(frame, policy, "people", secret=SECRET), dataset_location(str(out)))

    expected = pq.read_table(local).sort_by("id")
    actual = _read_sorted(out)
    assert actual.num_rows == expected.num_rows == 3_000
    for name in expected.column_names:
        assert actual.column(name).to_pylist() == expected.column(name).to_pylist(), name
    # and the masks did mask; unique pseudonyms stay unique past the pool (1,500 logins, a pool of 1,000)
    assert not set(actual.column("name").to_pylist()) & set(_people(3_000).column("name").to_pylist())
    assert len(set(actual.column("login").to_pylist())) == 1_500


def test_the_key_is_in_no_plan_and_no_configuration(spark, tmp_path):
    source = tmp_path / "people.parquet"
    pq.write_table(_people(200), source)
    frame = read_dataset(spark, dataset_location(str(source)))
    masked = mask_dataframe(frame, _policy(), "people", secret=SECRET)
    plan = masked._jdf.queryExecution().toString()
    assert SECRET.decode() not in plan
    assert SECRET.hex() not in plan
    serialized = masked._jdf.queryExecution().logical().toJSON()
    assert SECRET.decode() not in serialized and SECRET.hex() not in serialized
    # the pickled Python function the plan ships to the tasks carries the broadcast's id, never the key's bytes
    command = bytes(masked._jdf.queryExecution().analyzed().expressions().apply(0).func().command().unsafeArray())
    assert len(command) > 100 and SECRET not in command and SECRET.hex().encode() not in command
    assert all(SECRET.decode() not in str(value) for _, value in spark.sparkContext.getConf().getAll())
    assert masked.count() == 200


def test_seeded_fresh_noise_differs_between_partitions(spark, tmp_path):
    rows = 4_000
    source = tmp_path / "flat.parquet"
    pq.write_table(pa.table({"id": pa.array(np.arange(rows)), "v": pa.array(np.full(rows, 1000.0))}), source)
    policy = parse_policy(yaml.safe_dump({"version": 1, "tables": {"flat": {"columns": {
        "id": "keep", "v": {"mask": "noise", "ratio": 0.5, "fresh": True}}}}}), "p.yaml")
    frame = read_dataset(spark, dataset_location(str(source))).repartition(4)
    out = tmp_path / "noised"
    write_dataset(mask_dataframe(frame, policy, "flat", secret=SECRET, seed=5), dataset_location(str(out)))
    noise = _read_sorted(out).column("v").to_numpy()
    # a generator captured once would give each partition the same sequence: many repeated values
    assert len(np.unique(noise)) > 0.99 * rows


def test_policy_errors_surface_before_any_task(spark, tmp_path):
    source = tmp_path / "people.parquet"
    pq.write_table(_people(10), source)
    frame = read_dataset(spark, dataset_location(str(source)))
    with pytest.raises(JaneDoeInputError, match="not in the input|policy does not name"):
        mask_dataframe(frame.drop("note"), _policy(), "people", secret=SECRET)
    with pytest.raises(JaneDoeInputError):
        mask_dataframe(frame, _policy(), "people", secret=None)


SHUFFLE_RULES = {"id": "keep", "city": {"mask": "shuffle"}, "band": {"mask": "shuffle", "row_key": "id"},
                 "age": {"mask": "generalize", "step": 10}}


def test_shuffle_moves_values_across_the_whole_column_as_janedoe_mask_does(spark, tmp_path):
    rows = 4_000
    people = _people(rows).select(["id", "city", "band", "age"])
    people = people.set_column(1, "city", pa.array([None if i % 9 == 0 else f"c{i}" for i in range(rows)]))
    source = tmp_path / "people.parquet"
    pq.write_table(people, source)
    policy = _policy(SHUFFLE_RULES)
    local = tmp_path / "local.parquet"
    mask_file(policy, source, local, secret=SECRET, batch_size=500)
    expected = pq.read_table(local).sort_by("id")

    # one file read in order: exactly janedoe mask's permutation
    out = tmp_path / "in-order"
    frame = read_dataset(spark, dataset_location(str(source)))
    write_dataset(mask_dataframe(frame, policy, "people", secret=SECRET), dataset_location(str(out)))
    assert _read_sorted(out).equals(expected)

    # six partitions: another permutation of the whole column; values leave their partition, NULLs stay put
    out = tmp_path / "partitioned"
    frame = read_dataset(spark, dataset_location(str(source))).repartition(6, "id")
    write_dataset(mask_dataframe(frame, policy, "people", secret=SECRET), dataset_location(str(out)))
    actual = _read_sorted(out)
    original = people.sort_by("id")
    for name in ("city", "band"):
        assert sorted(map(str, actual.column(name).to_pylist())) == sorted(map(str, original.column(name).to_pylist()))
    assert actual.column("city").is_null().equals(original.column("city").is_null())
    kept = np.mean([a == b for a, b in zip(actual.column("city").to_pylist(), original.column("city").to_pylist(),
                                           strict=True) if a is not None])
    assert kept < 0.01  # distinct cities: a value stays on its own row about 1/3,600 of the time
    assert actual.column("age").equals(expected.column("age"))
