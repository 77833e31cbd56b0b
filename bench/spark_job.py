"""One timed job of the Spark benchmark, run in its own process (so that each gets a fresh JVM and its own memory):

    spark_job.py ENGINE JOB INPUT WORKDIR      ENGINE: local[1] | local[2] | single   JOB: floor|mask|dp_sum|kanon|mst

Prints one JSON line: {"seconds": ..., "rows": ...}. Session start-up is outside the timing (it is paid once per
cluster, not per job); reading, computing and writing are inside.
"""

import json
import os
import sys
import time
from pathlib import Path

SECRET = "benchmark secret, not a real one"
POLICY = """
version: 1
secret_env: JANEDOE_BENCH_SECRET
tables:
  people:
    dp:
      epsilon: 1000
      user_id: person
      max_rows_per_user: 5
    synthetic:
      method: mst
      epsilon: 1.0
      delta: 1.0e-9
    columns:
      id: keep
      person: keep
      name: {mask: pseudonymize, kind: name}
      email: {mask: hash, length: 16}
      age: {mask: generalize, step: 5, bounds: [0, 100], bins: 20}
      zip: {mask: partial, prefix: 3, padding: "**", suffix: 0}
      sex: {mask: keep, categories: [F, M]}
      region: {mask: keep, categories: [north, south, east, west, centre, coast, hills, islands]}
      salary: {mask: noise, ratio: 0.1, bounds: [0, 200000]}
"""


def _policy():
    from janedoe.policy import parse_policy

    return parse_policy(POLICY, "bench-policy.yaml")


def run_spark(master: str, job: str, source: str, workdir: Path) -> dict:
    from janedoe.spark_engine import dataset_location, read_dataset, spark_session, write_dataset

    spark = spark_session(master, ui=False, settings={"spark.driver.memory": "4g",
                                                      "spark.sql.files.maxPartitionBytes": "16m"})
    spark.range(1).count()  # start-up outside the timing
    policy = _policy()
    started = time.perf_counter()
    location = dataset_location(source)
    rows = None
    if job == "floor":
        write_dataset(read_dataset(spark, location), dataset_location(str(workdir / "floor")))
    elif job == "mask":
        from janedoe.spark_engine import mask_dataset, mask_job_secret

        table, secret = mask_job_secret(policy, location, "people")
        rows = mask_dataset(spark, policy, location, dataset_location(str(workdir / "masked")), table=table,
                            secret=secret).rows
    elif job == "dp_sum":
        from janedoe.spark_engine import spark_query

        entry = policy.tables["people"]
        spark_query(read_dataset(spark, location), "sum(salary)", epsilon=1.0, section=entry.dp,
                    columns_bounds=_bounds(policy), by="region")
    elif job == "kanon":
        from janedoe.spark_engine import spark_measure

        spark_measure(read_dataset(spark, location), ["age", "zip", "sex"], [], 5)
    elif job == "mst":
        from janedoe.spark_engine import spark_synthesize

        entry = policy.tables["people"]
        result = spark_synthesize(read_dataset(spark, location).select("age", "sex", "region"), entry.synthetic,
                                  entry.columns, rows=10_000, seed=1)
        result.frame.count()
    return {"seconds": time.perf_counter() - started, "rows": rows}


def _bounds(policy):
    return policy.tables["people"].columns


def run_single(job: str, source: str, workdir: Path) -> dict:
    policy = _policy()
    started = time.perf_counter()
    if job == "floor":
        import pyarrow.parquet as pq

        with pq.ParquetFile(source) as reader, pq.ParquetWriter(workdir / "floor.parquet", reader.schema_arrow) as out:
            for batch in reader.iter_batches(batch_size=65536):
                out.write_batch(batch)
    elif job == "mask":
        from janedoe.masking import mask_file

        mask_file(policy, source, workdir / "masked.parquet", table="people")
    elif job == "dp_sum":
        from janedoe.dp_noise import run_query
        from janedoe.tabular import read_table

        run_query(read_table(source), "sum(salary)", epsilon=1.0, section=policy.tables["people"].dp,
                  columns_bounds=_bounds(policy), by="region")
    elif job == "kanon":
        import pyarrow.parquet as pq
        from janedoe.k_anonymity import measure

        measure(pq.read_table(source, columns=["age", "zip", "sex"]), ["age", "zip", "sex"], [], 5)
    elif job == "mst":
        import pyarrow as pa
        import pyarrow.parquet as pq
        from janedoe.synthetic import synthesize

        entry = policy.tables["people"]
        columns = ["age", "sex", "region"]
        schema = pq.read_schema(source)
        synthesize(lambda: pq.ParquetFile(source).iter_batches(batch_size=1 << 18, columns=columns),
                   entry.synthetic, entry.columns, rows=10_000, seed=1,
                   schema=pa.schema([schema.field(name) for name in columns]))
    return {"seconds": time.perf_counter() - started, "rows": None}


def main() -> None:
    engine, job, source, workdir = sys.argv[1:5]
    os.environ["JANEDOE_BENCH_SECRET"] = SECRET
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    result = run_single(job, source, workdir) if engine == "single" else run_spark(engine, job, source, workdir)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
