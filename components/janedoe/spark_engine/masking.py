"""Masking a Spark DataFrame with janedoe's masking engine, one Arrow batch at a time inside the tasks.

The masker is built and checked on the driver first (every policy error before a task runs), then rebuilt inside each
Python worker from the policy and the key: maskers hold cipher and hash state that does not pickle, and building
them where they run keeps the key out of the serialized plan. The key travels as a broadcast variable, sent once per
executor; the plan only holds the broadcast's id. Deterministic and keyed rules give every row the output
`janedoe mask` gives it, whatever the partitioning; seeded `fresh` rules draw one stream per partition.
"""

from __future__ import annotations

import pickle
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from janedoe.masking import build_table_masker, require_secret
from janedoe.policy import KeepRule, Policy, choose_table
from janedoe.spark_engine.column_shuffle import shuffle_whole_columns
from janedoe.spark_engine.datasets import DatasetLocation, read_dataset, write_dataset

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_WORKER_MASKERS: dict[tuple, object] = {}  # per Python worker: maskers of the runs it serves, built once
_WORKER_LOCK = threading.Lock()
_MAX_WORKER_MASKERS = 8


def _worker_masker(run_id: str, partition: int, build):
    identity = (run_id, partition)
    with _WORKER_LOCK:
        masker = _WORKER_MASKERS.get(identity)
        if masker is None:
            while len(_WORKER_MASKERS) >= _MAX_WORKER_MASKERS:
                _WORKER_MASKERS.pop(next(iter(_WORKER_MASKERS)))
            masker = _WORKER_MASKERS[identity] = build()
        return masker


def mask_dataframe(frame: DataFrame, policy: Policy, table: str, *, secret: bytes | None,
                   seed: int | None = None, row_counter=None) -> DataFrame:
    """FRAME masked per the policy's rules for TABLE (lazy: nothing runs until the result is written or counted).

    `row_counter`, a Spark accumulator, counts the rows as the tasks mask them."""
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    choose_table(policy, table, table, where="table")
    input_schema = to_arrow_schema(frame.schema)
    driver_masker = build_table_masker(policy, table, input_schema, secret=secret, seed=seed)
    output_schema = from_arrow_schema(driver_masker.output_schema)
    key = frame.sparkSession.sparkContext.broadcast(secret)
    run_id = uuid.uuid4().hex
    fresh_streams = seed is not None and _has_fresh_rule(policy, table)
    # shuffle columns are kept by the masking tasks, then shuffled whole by Spark (column_shuffle)
    shuffled = {name: masker.identity_column for name, masker in driver_masker.shuffle_maskers.items()}
    rules = None
    if shuffled:
        rules = {name: column.mask for name, column in policy.tables[table].columns.items()}
        rules.update({name: KeepRule(mask="keep") for name in shuffled})
    prepass = None
    if driver_masker.needs_prepass:
        state = _observed_state(frame, policy, table, input_schema, key, seed, driver_masker.prepass_columns)
        prepass = frame.sparkSession.sparkContext.broadcast(state)

    def mask_partition(batches):
        from pyspark import TaskContext

        partition = TaskContext.get().partitionId() if fresh_streams else -1

        def build():
            return build_table_masker(policy, table, input_schema, secret=key.value, seed=seed, rules=rules,
                                      stream=f"partition {partition}" if fresh_streams else "")

        masker = _worker_masker(run_id, partition, build)
        if prepass is not None and not masker.prepared:
            masker.use_prepass(prepass.value)
        for batch in batches:
            if row_counter is not None:
                row_counter.add(batch.num_rows)
            yield masker.mask_batch(batch)

    masked = frame.mapInArrow(mask_partition, output_schema)
    if not shuffled:
        return masked

    def build_with_shuffles():
        return build_table_masker(policy, table, input_schema, secret=key.value, seed=seed)

    value_types = {name: input_schema.field(name).type for name in shuffled}
    return shuffle_whole_columns(frame, masked, shuffled, build_with_shuffles, value_types)


def _observed_state(frame, policy, table, input_schema, key, seed, columns):
    """The merged prepass state of every partition (unique pseudonyms): one Spark job; each task ships its distinct
    keyed words (8 bytes per distinct value, never a value), the driver merges them in any order."""
    import pyarrow as pa
    from janedoe.masking import PrepassState

    def observe_partition(batches):
        masker = build_table_masker(policy, table, input_schema, secret=key.value, seed=seed)
        state = PrepassState()
        for batch in batches:
            state = state.merge(masker.observe(batch))
        yield pa.record_batch({"state": pa.array([pickle.dumps(state)], pa.binary())})

    merged = PrepassState()
    rows = frame.select(*columns).mapInArrow(observe_partition, "state binary").toArrow()
    for blob in rows.column("state").to_pylist():
        merged = merged.merge(pickle.loads(blob))  # our own tasks' output, never outside data
    return merged


def _has_fresh_rule(policy: Policy, table: str) -> bool:
    columns = policy.tables[table].columns
    return any(getattr(column.mask, "fresh", False) for column in columns.values())


@dataclass
class MaskJobReport:
    """What a Spark masking job did (no data values)."""

    table: str
    input: str
    output: str
    rows: int
    seconds: float
    rules: dict[str, str] = field(default_factory=dict)


def mask_job_secret(policy: Policy, source: DatasetLocation, table: str | None = None) -> tuple[str, bytes | None]:
    """(table, key) for masking SOURCE, checked before any Spark session starts: the table must be in the policy and
    the key comes from the policy's `secret_env` (never an argument, which could reach a shell history or a Spark
    configuration)."""
    table, _ = choose_table(policy, table, source.name, where=source.text)
    return table, require_secret(policy, table)


def mask_dataset(spark: SparkSession, policy: Policy, source: DatasetLocation, target: DatasetLocation, *,
                 table: str, secret: bytes | None, seed: int | None = None, delimiter: str | None = None,
                 overwrite: bool = False) -> MaskJobReport:
    """Mask SOURCE into TARGET per the policy's rules for TABLE; TARGET appears whole or not at all."""
    started = time.perf_counter()
    frame = read_dataset(spark, source, delimiter=delimiter)
    rows = spark.sparkContext.accumulator(0)
    masked = mask_dataframe(frame, policy, table, secret=secret, seed=seed, row_counter=rows)
    write_dataset(masked, target, overwrite=overwrite)
    rules = {name: getattr(column.mask, "mask", "keep") for name, column in policy.tables[table].columns.items()}
    return MaskJobReport(table, source.text, target.text, rows.value, time.perf_counter() - started, rules)
