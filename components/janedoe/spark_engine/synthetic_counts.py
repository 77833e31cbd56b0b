"""Marginal counts for MST and AIM measured by Spark: one pass, per-partition count vectors, an exact sum.

Each task encodes its Arrow batches with the policy's public domain (the synthetic brick's own `count_batch`, so the
cells are the ones the single-machine fit sees) into one int64 vector per partition and emits only its non-zero
cells; Spark sums them per cell as longs, so the totals are exact whatever the partitioning. The query shipped to
the tasks holds only public things (declared domain, requested marginals, already-noisy compressions); the counts
come back to the driver, where the synthetic brick adds the noise once per measured marginal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from janedoe.synthetic import MarginalCounts, MarginalQuery

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import StructType

_CELL, _COUNT = "cell", "count"


def spark_arrow_schema(spark: SparkSession, struct: StructType) -> pa.Schema:
    """The Arrow schema of batches of this Spark type as `mapInArrow` exchanges them (timestamps in session time)."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(struct, timezone=spark.conf.get("spark.sql.session.timeZone"))


class SparkMarginalSource:
    """A MarginalSource over a Spark DataFrame: every `count` is one Spark job over the data."""

    def __init__(self, frame: DataFrame) -> None:
        self.frame = frame
        self.schema = spark_arrow_schema(frame.sparkSession, frame.schema)

    def count(self, query: MarginalQuery) -> MarginalCounts:
        from pyspark.sql import functions as F

        names = query.domain.names
        schema = pa.schema([self.schema.field(name) for name in names])

        def count_partition(batches):
            totals = query.zeros()
            for batch in batches:
                if not batch.schema.equals(schema):
                    batch = batch.cast(schema)
                query.count_batch(batch, totals)
            cells = np.flatnonzero(totals)
            yield pa.record_batch([pa.array(cells, pa.int64()), pa.array(totals[cells], pa.int64())],
                                  names=[_CELL, _COUNT])

        partial = self.frame.select(*names).mapInArrow(count_partition, f"{_CELL} long, {_COUNT} long")
        summed = partial.groupBy(_CELL).agg(F.sum(_COUNT).alias(_COUNT)).toArrow()
        totals = query.zeros()
        totals[summed.column(_CELL).to_numpy()] = summed.column(_COUNT).to_numpy()
        return query.split(totals)
