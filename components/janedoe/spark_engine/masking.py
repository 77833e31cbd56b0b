"""Masking a Spark DataFrame with janedoe's masking engine, one Arrow batch at a time inside the tasks.

The masker is built and checked on the driver first (every policy error before a task runs), then rebuilt inside each
Python worker from the policy and the key: maskers hold cipher and hash state that does not pickle, and building
them where they run keeps the key out of the serialized plan. The key travels as a broadcast variable, sent once per
executor; the plan only holds the broadcast's id. Deterministic and keyed rules give every row the output
`janedoe mask` gives it, whatever the partitioning; seeded `fresh` rules draw one stream per partition.
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING

from janedoe.errors import JaneDoeInputError
from janedoe.masking import build_table_masker
from janedoe.policy import Policy

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

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
                   seed: int | None = None) -> DataFrame:
    """FRAME masked per the policy's rules for TABLE (lazy: nothing runs until the result is written or counted)."""
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    if table not in policy.tables:
        known = ", ".join(sorted(policy.tables)) or "none"
        raise JaneDoeInputError(f"table {table!r} is not in the policy (its tables: {known})", where="table")
    input_schema = to_arrow_schema(frame.schema)
    driver_masker = build_table_masker(policy, table, input_schema, secret=secret, seed=seed)
    output_schema = from_arrow_schema(driver_masker.output_schema)
    key = frame.sparkSession.sparkContext.broadcast(secret)
    run_id = uuid.uuid4().hex
    fresh_streams = seed is not None and _has_fresh_rule(policy, table)

    def mask_partition(batches):
        from pyspark import TaskContext

        partition = TaskContext.get().partitionId() if fresh_streams else -1

        def build():
            return build_table_masker(policy, table, input_schema, secret=key.value, seed=seed,
                                      stream=f"partition {partition}" if fresh_streams else "")

        masker = _worker_masker(run_id, partition, build)
        for batch in batches:
            yield masker.mask_batch(batch)

    return frame.mapInArrow(mask_partition, output_schema)


def _has_fresh_rule(policy: Policy, table: str) -> bool:
    columns = policy.tables[table].columns
    return any(getattr(column.mask, "fresh", False) for column in columns.values())
