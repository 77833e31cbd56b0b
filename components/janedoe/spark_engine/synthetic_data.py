"""Differentially private synthetic tables on Spark: counts measured by Spark, the fit on the driver, parallel sampling.

The fit is the synthetic brick's own (MST or AIM), fed by a SparkMarginalSource: Spark builds the exact marginal
counts in one pass, the driver draws the noise (OS CSPRNG, once per measured marginal) and fits the model. The model
is differentially private, so it can be broadcast; each sampling task draws its share of the rows from its own
stream, a child of one seed sequence keyed by the partition number: no two partitions share a stream, and a retried
task draws the same rows again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from janedoe.errors import JaneDoeInputError
from janedoe.spark_engine.synthetic_counts import SparkMarginalSource, spark_arrow_schema
from janedoe.synthetic import AimModel, FittedModel, check_synthesis, fit_synthesis_model, synthesis_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

SAMPLE_ROWS_PER_PARTITION = 1_000_000


@dataclass(frozen=True)
class SparkSynthesis:
    """A lazy synthetic DataFrame and what it cost (the fields of the synthetic brick's SynthesisResult).

    fit_seconds covers the Spark counting job and the driver's fit; the rows are sampled by the tasks when `frame` is
    written, so sample_seconds only covers planning that (time the write for the sampling's cost).
    """

    frame: DataFrame
    model: FittedModel | AimModel
    method: str
    epsilon: float
    delta: float
    rho: float
    rows: int
    partitions: int
    fit_seconds: float
    sample_seconds: float


def check_spark_synthesis(frame: DataFrame, synthetic_section, columns: Mapping, *, rows: int | None = None) -> None:
    """Refuse a bad method, budget, declaration or row count from FRAME's schema alone (no Spark job): call it
    before charging the ledger, as `janedoe synth fit` calls check_synthesis."""
    check_synthesis(spark_arrow_schema(frame.sparkSession, frame.schema), synthetic_section, columns)
    if rows is not None and rows < 0:
        raise JaneDoeInputError("the number of rows must be non-negative", where="rows")


def spark_synthesize(frame: DataFrame, synthetic_section, columns: Mapping, *, rows: int | None = None,
                     seed: int | None = None, partitions: int | None = None) -> SparkSynthesis:
    """Fit the section's method (MST or AIM) on FRAME under its budget; return a SparkSynthesis whose `frame` holds
    `rows` synthetic rows (else the section's rows, else the noisy count) with FRAME's schema.

    Charge `synthesis_cost(section)` to the ledger before calling: the noise is drawn here. `seed` makes only the
    sampling (post-processing) reproducible; `partitions` (default: one per million rows, at least the default
    parallelism) sets how many tasks sample.
    """
    from pyspark.sql.types import StructField, StructType

    started = time.perf_counter()
    check_spark_synthesis(frame, synthetic_section, columns, rows=rows)  # every refusal before a job or any noise
    source = SparkMarginalSource(frame)
    model = fit_synthesis_model(source, synthetic_section, columns)
    fitted = time.perf_counter()
    total = synthesis_rows(model, synthetic_section, rows)
    spark = frame.sparkSession
    if partitions is None:
        partitions = max(spark.sparkContext.defaultParallelism, math.ceil(total / SAMPLE_ROWS_PER_PARTITION))
    partitions = max(1, min(int(partitions), total))
    nullable = {column.name: column.nullable for column in model.domain.columns}
    output_type = StructType([StructField(field.name, field.dataType, field.nullable or nullable[field.name])
                              for field in frame.schema.fields])
    arrow_schema = spark_arrow_schema(spark, output_type)
    shared_model = spark.sparkContext.broadcast(model)
    entropy = np.random.SeedSequence(seed).entropy

    def sample_partition(batches):
        sampler = shared_model.value
        for batch in batches:
            for part in batch.column(0).to_pylist():
                share = total // partitions + int(part < total % partitions)
                stream = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(part,)))
                yield from sampler.sample(share, stream).cast(arrow_schema).to_batches()

    synthetic = spark.range(0, partitions, 1, numPartitions=partitions).mapInArrow(sample_partition, output_type)
    return SparkSynthesis(
        frame=synthetic,
        model=model,
        method="aim" if isinstance(model, AimModel) else "mst",
        epsilon=model.epsilon,
        delta=model.delta,
        rho=model.rho_spent,
        rows=total,
        partitions=partitions,
        fit_seconds=fitted - started,
        sample_seconds=time.perf_counter() - fitted,
    )

