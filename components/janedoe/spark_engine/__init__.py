"""janedoe on Apache Spark: the same policy file and the same guarantees for tables that outgrow one machine.

The components stay engine-free; this brick runs them inside Spark tasks (Arrow batches through `mapInArrow`) and does
on the driver only what needs the whole table's small summaries. pyspark is imported lazily, on first use.
"""

from janedoe.spark_engine.datasets import (
    DatasetLocation,
    check_output_apart,
    dataset_location,
    read_dataset,
    write_dataset,
)
from janedoe.spark_engine.dp_query import spark_query
from janedoe.spark_engine.job_progress import running_tasks, watch_jobs
from janedoe.spark_engine.kanon_apply import spark_anonymize_with_policy
from janedoe.spark_engine.kanon_measure import spark_measure
from janedoe.spark_engine.masking import MaskJobReport, mask_dataframe, mask_dataset, mask_job_secret
from janedoe.spark_engine.session import DEFAULT_MASTER, spark_session
from janedoe.spark_engine.synthetic_counts import SparkMarginalSource
from janedoe.spark_engine.synthetic_data import SparkSynthesis, check_spark_synthesis, spark_synthesize

__all__ = [
    "DEFAULT_MASTER",
    "DatasetLocation",
    "check_output_apart",
    "dataset_location",
    "MaskJobReport",
    "mask_dataframe",
    "mask_dataset",
    "mask_job_secret",
    "read_dataset",
    "running_tasks",
    "spark_anonymize_with_policy",
    "spark_measure",
    "spark_query",
    "spark_session",
    "spark_synthesize",
    "check_spark_synthesis",
    "SparkMarginalSource",
    "SparkSynthesis",
    "watch_jobs",
    "write_dataset",
]
