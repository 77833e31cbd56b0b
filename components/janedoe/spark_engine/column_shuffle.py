"""Whole-column `shuffle` on Spark: every non-null value can land on any row of the table, not only of its batch.

The masking engine gives each non-null value a key (`column_keys`: keyed by the value and its position in the column,
or by its `row_key`); the values in key order are the shuffled column, handed to the non-null rows in row order.
Here: one job counts each partition's rows and non-null values (so every row knows its position in the column), one
job computes the keys, Spark sorts the (key, position, value) triples and numbers them, and a join on that number
gives the k-th non-null row the k-th value. When Spark reads the rows in file order (one file, one split), the result
is exactly `janedoe mask`'s; otherwise it is another keyed permutation of the whole column. Only original values of
the shuffled column travel through the sort; nothing else leaves the tasks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_SIGN = np.uint64(1 << 63)


def _signed(keys: np.ndarray) -> np.ndarray:
    """uint64 keys as int64 with the same order (Spark sorts signed longs)."""
    return (keys ^ _SIGN).view(np.int64)


def _offsets(counts, column: str) -> dict[int, int]:
    """Per partition id, the number of rows (or values) in the partitions before it."""
    ordered = sorted(zip(counts.column("partition").to_pylist(), counts.column(column).to_pylist(), strict=True))
    offsets, total = {}, 0
    for partition, count in ordered:
        offsets[partition] = total
        total += count
    return offsets


def shuffle_whole_columns(frame: DataFrame, masked: DataFrame, shuffled: dict[str, str | None], build_maskers,
                          value_types: dict) -> DataFrame:
    """MASKED (FRAME masked with the `shuffle` columns kept as they were) with those columns shuffled whole.

    `shuffled` maps each column to its row_key column (None: the value is its own identity); `build_maskers()`
    builds, inside a task, the table masker whose `shuffle_maskers` give the keys; MASKED must be a narrow
    transformation of FRAME (same partitions, same rows per partition)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyspark import TaskContext
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_type

    names = list(shuffled)
    needed = sorted({*names, *(key for key in shuffled.values() if key)}, key=frame.columns.index)

    def count_partition(batches):
        rows, values = 0, [0] * len(names)
        for batch in batches:
            rows += batch.num_rows
            for index, name in enumerate(names):
                values[index] += batch.num_rows - batch.column(name).null_count
        yield pa.record_batch({"partition": [TaskContext.get().partitionId()], "rows": [rows],
                               **{f"values{index}": [count] for index, count in enumerate(values)}})

    count_schema = "partition long, rows long, " + ", ".join(f"values{i} long" for i in range(len(names)))
    counts = frame.select(*needed).mapInArrow(count_partition, count_schema).toArrow()
    row_offsets = _offsets(counts, "rows")
    value_offsets = [_offsets(counts, f"values{index}") for index in range(len(names))]

    def add_ranks(batches):
        partition = TaskContext.get().partitionId()
        seen = [value_offsets[index].get(partition, 0) for index in range(len(names))]
        for batch in batches:
            ranks = []
            for index, name in enumerate(names):
                valid = pc.is_valid(batch.column(name)).to_numpy(zero_copy_only=False)
                rank = seen[index] + np.cumsum(valid) - 1
                seen[index] += int(valid.sum())
                ranks.append(pa.array(rank, pa.int64(), mask=~valid))
            rank_names = [f"__janedoe_rank{i}" for i in range(len(names))]
            yield pa.RecordBatch.from_arrays([*batch.columns, *ranks], names=[*batch.schema.names, *rank_names])

    result = masked.mapInArrow(add_ranks, _with_longs(masked.schema, len(names)))
    for index, name in enumerate(names):
        row_key = shuffled[name]

        def keys_partition(batches, name=name, row_key=row_key):
            masker = build_maskers().shuffle_maskers[name]
            position = row_offsets.get(TaskContext.get().partitionId(), 0)
            for batch in batches:
                values = batch.column(name).cast(value_types[name])
                identity = values if row_key is None else batch.column(row_key)
                valid, keys = masker.column_keys(values, identity, position)
                yield pa.record_batch({"key": pa.array(_signed(keys)),
                                       "position": pa.array(valid.astype(np.int64) + position),
                                       "value": values.take(pa.array(valid))})
                position += batch.num_rows

        value_type = from_arrow_type(value_types[name])
        keyed = frame.select(*needed).mapInArrow(
            keys_partition, f"key long, position long, value {value_type.simpleString()}")
        ordered = keyed.orderBy("key", "position").localCheckpoint(eager=True)
        ordered_counts = ordered.mapInArrow(count_rows, "partition long, rows long").toArrow()
        ordered_offsets = _offsets(ordered_counts, "rows")

        def number_values(batches, offsets=ordered_offsets):
            start = offsets.get(TaskContext.get().partitionId(), 0)
            for batch in batches:
                yield pa.record_batch({"rank": pa.array(np.arange(start, start + batch.num_rows, dtype=np.int64)),
                                       "value": batch.column("value")})
                start += batch.num_rows

        numbered = ordered.mapInArrow(number_values, f"rank long, value {value_type.simpleString()}")
        rank = f"__janedoe_rank{index}"
        result = result.join(numbered.withColumnRenamed("value", f"__janedoe_value{index}"),
                             result[rank] == numbered["rank"], "left").drop("rank")
        result = result.withColumn(name, F.col(f"__janedoe_value{index}")).drop(f"__janedoe_value{index}", rank)
    return result.select(*masked.columns)


def count_rows(batches):
    import pyarrow as pa
    from pyspark import TaskContext

    rows = sum(batch.num_rows for batch in batches)
    yield pa.record_batch({"partition": [TaskContext.get().partitionId()], "rows": [rows]})


def _with_longs(schema, count: int):
    from pyspark.sql.types import LongType, StructField, StructType

    return StructType([*schema.fields, *(StructField(f"__janedoe_rank{i}", LongType()) for i in range(count))])
