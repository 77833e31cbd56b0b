"""Synthetic data on Spark: the counts, the fitted model and the accounting equal the single-machine ones; sampling
runs in parallel with one stream per partition and gives the input's schema."""

import datetime as dt
import itertools

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.spark_engine import SparkMarginalSource, dataset_location, read_dataset, spark_synthesize
from janedoe.synthetic import MarginalQuery, build_domain, fit_aim, fit_mst, synthesis_cost, synthesize

CITIES = ["Berlin", "Paris", "Rome", "Oslo"]
COLUMNS = {
    "age": {"bounds": [18, 90], "bins": 8},
    "city": {"categories": CITIES, "nullable": True},
    "score": {"bounds": [0.0, 1.0], "bins": 5},
    "joined": {"bounds": ["2020-01-01", "2023-12-31"], "bins": 6},
    "seen": {"bounds": ["2024-01-01T00:00:00", "2024-12-31T23:59:59"], "bins": 4},
    "member": {},
}


def _people(rows: int = 3_000, seed: int = 3) -> pa.Table:
    """Dependent columns, plus records the domain drops (an undeclared city, a missing age) and clips (age 99)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 100, rows)
    city = np.array(CITIES + ["Madrid"])[np.minimum((age - 18) // 18, 4)]
    city = np.where(rng.random(rows) < 0.3, rng.choice(CITIES, rows), city)
    score = np.clip((age - 18) / 80 + rng.normal(0, 0.15, rows), -0.2, 1.2)
    joined = [dt.date(2020, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 1461, rows)]
    seen = np.datetime64("2024-01-01T00:00:00", "us") + rng.integers(0, 366 * 86_400, rows) * np.timedelta64(1, "s")
    return pa.table({
        "age": pa.array(age, pa.int64(), mask=rng.random(rows) < 0.02),
        "city": pa.array(city, mask=rng.random(rows) < 0.05),
        "score": pa.array(score),
        "joined": pa.array(joined, pa.date32()),
        "seen": pa.array(seen, pa.timestamp("us", tz="UTC")),
        "member": pa.array(score > 0.5),
    })


@pytest.fixture(scope="module")
def people(tmp_path_factory) -> tuple[pa.Table, str]:
    path = tmp_path_factory.mktemp("synth") / "people.parquet"
    pq.write_table(_people(), path)
    return pq.read_table(path), str(path)


def _frame(spark, path: str, partitions: int):
    return read_dataset(spark, dataset_location(path)).repartition(partitions)


@pytest.mark.parametrize("partitions", [1, 5])
def test_spark_counts_equal_the_local_counts_exactly(spark, people, partitions):
    table, path = people
    domain = build_domain(table.schema, COLUMNS)
    width = len(domain.names)
    marginals = tuple([(a,) for a in range(width)] + list(itertools.combinations(range(width), 2)) + [(0, 1, 2)])
    coarse = tuple(np.arange(size) // 2 for size in domain.sizes)  # MST's second look: cells merged pairwise
    spark_source = SparkMarginalSource(_frame(spark, path, partitions))
    assert spark_source.schema == table.schema
    for query in (MarginalQuery(domain, marginals), MarginalQuery(domain, marginals[width:], cell_maps=coarse)):
        totals = query.zeros()
        for batch in table.to_batches(max_chunksize=700):
            query.count_batch(batch, totals)
        expected = query.split(totals)
        distributed = spark_source.count(query)
        assert 2_000 < distributed.rows == expected.rows < 3_000  # dropped: a Madrid or a missing age
        for got, want in zip(distributed.arrays, expected.arrays, strict=True):
            assert got.dtype == np.int64 and got.shape == want.shape
            np.testing.assert_array_equal(got, want)
        if query.cell_maps is None:
            age_city = distributed.arrays[marginals.index((0, 1))]
    # and they are the data's counts: one cell of age x city counted independently (the top age bin is 82..90,
    # older ages are clipped into it; the last city cell is the null one)
    kept = [(a, c) for a, c in zip(table["age"].to_pylist(), table["city"].to_pylist(), strict=True)
            if a is not None and c != "Madrid"]
    assert age_city.sum() == len(kept)
    assert age_city[7, 4] == sum(1 for a, c in kept if a >= 82 and c is None) > 0


def test_the_fit_on_spark_counts_equals_the_local_fit(spark, people):
    table, path = people
    frame = _frame(spark, path, 5)
    local = fit_mst(table, COLUMNS, epsilon=2.0, delta=1e-9, rng=np.random.default_rng(11))
    distributed = fit_mst(SparkMarginalSource(frame), COLUMNS, epsilon=2.0, delta=1e-9, rng=np.random.default_rng(11))
    assert distributed.noise == local.noise and distributed.edges == local.edges
    assert distributed.tree.total == local.tree.total
    for got, want in zip(distributed.tree.node_marginals, local.tree.node_marginals, strict=True):
        np.testing.assert_array_equal(got, want)
    assert distributed.tree.edge_marginals.keys() == local.tree.edge_marginals.keys()
    for node, want in local.tree.edge_marginals.items():
        np.testing.assert_array_equal(distributed.tree.edge_marginals[node], want)

    spec = {name: COLUMNS[name] for name in ("age", "city", "score", "member")}
    narrow = table.select(list(spec))
    local_aim = fit_aim(narrow, spec, epsilon=1.0, delta=1e-9, rounds=4, rng=np.random.default_rng(12))
    spark_aim = fit_aim(SparkMarginalSource(frame.select(*spec)), spec, epsilon=1.0, delta=1e-9, rounds=4,
                        rng=np.random.default_rng(12))
    assert spark_aim.noise == local_aim.noise and spark_aim.measured == local_aim.measured
    assert spark_aim.model.total == local_aim.model.total
    for got, want in zip(spark_aim.model.marginals, local_aim.model.marginals, strict=True):
        np.testing.assert_array_equal(got, want)


def test_sampling_gives_the_input_schema_the_rows_and_one_stream_per_partition(spark, people):
    from pyspark.sql import functions as F

    table, path = people
    frame = read_dataset(spark, dataset_location(path))
    result = spark_synthesize(frame, {"epsilon": 1.0}, COLUMNS, rows=1_200, seed=7, partitions=4)
    assert result.frame.schema == frame.schema and result.rows == 1_200 and result.partitions == 4
    sampled = result.frame.withColumn("partition", F.spark_partition_id()).toArrow()
    assert sampled.num_rows == 1_200
    assert sampled.drop_columns(["partition"]).schema.equals(table.schema)
    parts = [sampled.filter(pc.equal(sampled["partition"], p)).drop_columns(["partition"]) for p in range(4)]
    assert [part.num_rows for part in parts] == [300] * 4
    # the same stream in two partitions would give them the same rows; uniform draws inside bins never repeat
    for first, second in itertools.combinations(parts, 2):
        assert not first.equals(second)
        assert not set(first["score"].to_pylist()) & set(second["score"].to_pylist())
    # values stay in the declared domain; the nullable city gets nulls back, the other columns none
    assert set(sampled["city"].drop_null().to_pylist()) <= set(CITIES)
    assert pc.min(sampled["age"]).as_py() >= 18 and pc.max(sampled["age"]).as_py() <= 90
    assert sampled["age"].null_count == 0 and sampled["member"].null_count == 0


def test_the_accounting_equals_the_local_one(spark, people):
    table, path = people
    frame = read_dataset(spark, dataset_location(path))
    for section in ({"epsilon": 1.0, "delta": 1e-8}, {"method": "aim", "epsilon": 0.3, "delta": 1e-8}):
        spec = COLUMNS if section.get("method") != "aim" else {n: COLUMNS[n] for n in ("age", "city", "member")}
        data = frame.select(*spec)
        distributed = spark_synthesize(data, section, spec, rows=10)
        local = synthesize(table.select(list(spec)), section, spec, rows=10)
        assert (distributed.method, distributed.epsilon, distributed.delta) == (local.method, local.epsilon,
                                                                                local.delta)
        # the same mechanisms at the same scales; the exponential mechanism's dyadic epsilon may differ in its last bits
        assert distributed.rho == pytest.approx(local.rho, rel=1e-12)
        assert distributed.rho <= synthesis_cost(section).rho * (1 + 1e-12)
        if section.get("method") != "aim":
            assert [(r.mechanism, r.sigma) for r in distributed.model.noise] == [
                (r.mechanism, r.sigma) for r in local.model.noise]


def test_bad_declarations_are_refused_before_any_job(spark, people):
    _, path = people
    frame = read_dataset(spark, dataset_location(path))
    context = spark.sparkContext
    context.setJobGroup("janedoe-synth-refusals", "refused synthesis")
    try:
        with pytest.raises(JaneDoeInputError, match="bounds or categories"):
            spark_synthesize(frame, {"epsilon": 1.0}, {k: v for k, v in COLUMNS.items() if k != "score"})
        with pytest.raises(JaneDoeInputError, match="epsilon"):
            spark_synthesize(frame, {"delta": 1e-9}, COLUMNS)
        with pytest.raises(JaneDoeInputError, match="rows"):
            spark_synthesize(frame, {"epsilon": 1.0}, COLUMNS, rows=-1)
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    assert context.statusTracker().getJobIdsForGroup("janedoe-synth-refusals") == []
