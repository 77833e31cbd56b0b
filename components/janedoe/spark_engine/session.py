"""One Spark session per process, configured so that janedoe's guarantees hold on the engine.

Arrow carries batches between the JVM and Python (the masking engine works on record batches); the session time zone
is UTC so that timestamps cross the boundary unchanged; the event log stays off unless the caller turns it on (it
would record plans and configuration). pyspark is imported here, lazily: the rest of janedoe never needs it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"

_SETTINGS = {
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    # the masking engine's batch size: per-batch costs (keyed digests, ciphers, pool lookups) are paid per 65,536 rows
    "spark.sql.execution.arrow.maxRecordsPerBatch": "65536",
    "spark.sql.session.timeZone": "UTC",
    "spark.eventLog.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Parquet as janedoe writes it: microsecond timestamps, not the legacy INT96.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}


def spark_session(master: str = DEFAULT_MASTER, *, app_name: str = "janedoe", settings: dict | None = None,
                  ui: bool = True) -> SparkSession:
    """The process's session (created on first use); `settings` add or override Spark configuration."""
    from pyspark.sql import SparkSession

    if master.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
        os.environ["PYSPARK_PYTHON"] = sys.executable  # local workers run this interpreter, with janedoe importable
    builder = SparkSession.builder.master(master).appName(app_name)
    for name, value in {**_SETTINGS, "spark.ui.enabled": str(ui).lower(), **(settings or {})}.items():
        builder = builder.config(name, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
