"""janedoe on Apache Spark: the same policy file and the same guarantees for tables that outgrow one machine.

The components stay engine-free; this brick runs them inside Spark tasks (Arrow batches through `mapInArrow`) and does
on the driver only what needs the whole table's small summaries. pyspark is imported lazily, on first use.
"""

from janedoe.spark_engine.datasets import DatasetLocation, dataset_location, read_dataset, write_dataset
from janedoe.spark_engine.job_progress import running_tasks, watch_jobs
from janedoe.spark_engine.masking import MaskJobReport, mask_dataframe, mask_dataset, mask_job_secret
from janedoe.spark_engine.session import DEFAULT_MASTER, spark_session

__all__ = [
    "DEFAULT_MASTER",
    "DatasetLocation",
    "dataset_location",
    "MaskJobReport",
    "mask_dataframe",
    "mask_dataset",
    "mask_job_secret",
    "read_dataset",
    "running_tasks",
    "spark_session",
    "watch_jobs",
    "write_dataset",
]
