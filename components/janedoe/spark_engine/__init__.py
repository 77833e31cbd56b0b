"""janedoe on Apache Spark: the same policy file and the same guarantees for tables that outgrow one machine.

The components stay engine-free; this brick runs them inside Spark tasks (Arrow batches through `mapInArrow`) and does
on the driver only what needs the whole table's small summaries. pyspark is imported lazily, on first use.
"""

from janedoe.spark_engine.datasets import DatasetLocation, dataset_location, read_dataset, write_dataset
from janedoe.spark_engine.masking import mask_dataframe
from janedoe.spark_engine.session import DEFAULT_MASTER, spark_session

__all__ = [
    "DEFAULT_MASTER",
    "DatasetLocation",
    "dataset_location",
    "mask_dataframe",
    "read_dataset",
    "spark_session",
    "write_dataset",
]
