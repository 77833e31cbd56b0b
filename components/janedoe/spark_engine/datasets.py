"""Reading inputs and writing outputs on Spark: Parquet or CSV paths (files, directories, globs) and catalog tables.

Outputs are committed whole or not at all: the job writes into a hidden sibling path (or a staging table), and only a
finished write is renamed into place, so a failed task or job leaves no half-written dataset under the target name.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from janedoe.errors import JaneDoeInputError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TABLE_PREFIX = "table:"
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}$")
_FORMATS = {"parquet": "parquet", "csv": "csv", "jsonl": "json", "json": "json"}


@dataclass(frozen=True)
class DatasetLocation:
    """Where a dataset lives: a catalog table (`table:db.name`) or a path in one format."""

    text: str
    table: str | None = None
    path: str | None = None
    format: str | None = None

    @property
    def file(self) -> tuple[str, str]:
        """(path, Spark format) of a dataset that is not a table: dataset_location sets both for every path."""
        assert self.path is not None and self.format is not None, self.text
        return self.path, self.format

    @property
    def name(self) -> str:
        """The policy's table name for this dataset: the table's or the file's stem."""
        if self.table:
            return self.table.rsplit(".", 1)[-1]
        path, _format = self.file
        stem = path.rstrip("/").rsplit("/", 1)[-1]
        stem = re.sub(r"[*?\[].*$", "", stem) or path.rstrip("/").rsplit("/", 2)[-2]
        return stem.split(".", 1)[0]


def dataset_location(text: str, *, format: str | None = None, where: str = "input") -> DatasetLocation:
    """Parse `table:db.name` or a path; the format is `format` or the path's extension (a directory: parquet)."""
    if text.startswith(TABLE_PREFIX):
        table = text[len(TABLE_PREFIX):]
        if not _TABLE_NAME.match(table):
            raise JaneDoeInputError(f"not a catalog table name: {table!r} (expected db.name)", where=where)
        return DatasetLocation(text, table=table)
    if not text:
        raise JaneDoeInputError("empty path", where=where)
    if format is None:
        suffix = text.rstrip("/").rsplit("/", 1)[-1]
        suffix = suffix.rsplit(".", 1)[-1].lower() if "." in suffix else "parquet"
        if suffix not in _FORMATS:
            raise JaneDoeInputError(f"unknown format {suffix!r} (parquet, csv, jsonl; or --format)", where=where)
        format = suffix
    if format not in _FORMATS:
        raise JaneDoeInputError(f"unknown format {format!r} (parquet, csv, jsonl)", where=where)
    return DatasetLocation(text, path=text, format=_FORMATS[format])


def read_dataset(spark: SparkSession, location: DatasetLocation, *, delimiter: str | None = None) -> DataFrame:
    """A DataFrame over the dataset; a missing path or table is a one-line input error."""
    from pyspark.errors import AnalysisException

    try:
        if location.table:
            return spark.read.table(location.table)
        path, file_format = location.file
        reader = spark.read.format(file_format)
        if file_format == "csv":
            reader = reader.option("header", "true").option("inferSchema", "true").option("mode", "FAILFAST")
            reader = reader.option("sep", delimiter or ",")
        return reader.load(path)
    except AnalysisException as error:
        raise JaneDoeInputError(_first_line(error), where=location.text) from None


def write_dataset(frame: DataFrame, location: DatasetLocation, *, overwrite: bool = False) -> None:
    """Write FRAME to LOCATION atomically: into a staging path or table, then renamed into place."""
    spark = frame.sparkSession
    staging_id = uuid.uuid4().hex[:12]
    if location.table:
        _write_table(spark, frame, location.table, staging_id, overwrite)
        return
    path, file_format = location.file
    jvm = spark.sparkContext._jvm
    assert jvm is not None  # a running session has its JVM gateway
    hadoop_conf = spark.sparkContext._jsc.hadoopConfiguration()
    target = jvm.org.apache.hadoop.fs.Path(path)
    fs = target.getFileSystem(hadoop_conf)
    if fs.exists(target) and not overwrite:
        raise JaneDoeInputError("the output exists (pass --overwrite to replace it)", where=location.text)
    staging = jvm.org.apache.hadoop.fs.Path(target.getParent(), f".{target.getName()}.janedoe-{staging_id}")
    writer = frame.write.format(file_format).mode("error")
    if file_format == "csv":
        writer = writer.option("header", "true")
    previous = jvm.org.apache.hadoop.fs.Path(target.getParent(), f".{target.getName()}.janedoe-old-{staging_id}")
    try:
        writer.save(staging.toString())
        # the old output steps aside (never deleted before the new one is in place), so a crash leaves one of them
        replaced = fs.exists(target) and fs.rename(target, previous)
        if not fs.rename(staging, target):
            if replaced:
                fs.rename(previous, target)
            raise JaneDoeInputError("could not move the finished output into place", where=location.text)
        if replaced:
            fs.delete(previous, True)
    finally:
        if fs.exists(staging):
            fs.delete(staging, True)


def _write_table(spark: SparkSession, frame: DataFrame, table: str, staging_id: str, overwrite: bool) -> None:
    staging = f"{table}__janedoe_{staging_id}"
    if spark.catalog.tableExists(table) and not overwrite:
        raise JaneDoeInputError("the output table exists (pass --overwrite to replace it)", where=f"table:{table}")
    previous = f"{table}__janedoe_old_{staging_id}"
    try:
        frame.write.mode("error").saveAsTable(staging)
        replaced = spark.catalog.tableExists(table)
        if replaced:  # the old table steps aside first: a failure from here leaves it under one of two names
            spark.sql(f"ALTER TABLE {table} RENAME TO {previous}")
        spark.sql(f"ALTER TABLE {staging} RENAME TO {table}")
        if replaced:
            spark.sql(f"DROP TABLE {previous}")
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {staging}")


def check_output_apart(source: DatasetLocation, target: DatasetLocation) -> None:
    """Refuse an output that is the input, or a folder holding it: replacing it would delete the source."""
    if source.table or target.table:
        if source.table and target.table and _table_key(source.table) == _table_key(target.table):
            raise JaneDoeInputError("the output must not be the input (sources are never modified)", where="OUTPUT")
        return
    input_path, output_path = _comparable(source.file[0]), _comparable(target.file[0])
    if input_path == output_path or input_path.startswith(output_path.rstrip("/") + "/"):
        raise JaneDoeInputError("the output must not be the input or a folder holding it (sources are never "
                                "modified)", where="OUTPUT")


def _table_key(table: str) -> str:
    name = table.lower()
    return name if "." in name else f"default.{name}"


def _comparable(path: str) -> str:
    if "://" in path:
        return path.rstrip("/")
    return os.path.realpath(path.removeprefix("file:"))


def _first_line(error: Exception) -> str:
    text = str(getattr(error, "getMessage", lambda: error)()) if hasattr(error, "getMessage") else str(error)
    return text.strip().splitlines()[0][:300] if text.strip() else type(error).__name__
