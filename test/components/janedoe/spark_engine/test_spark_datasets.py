"""Reading and writing on Spark: paths, globs, catalog tables; an output appears whole or not at all."""

import os

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.spark_engine import dataset_location, read_dataset, write_dataset


def _source(tmp_path, rows=1_000):
    path = tmp_path / "people.parquet"
    pq.write_table(pa.table({"id": pa.array(np.arange(rows)), "v": pa.array(np.arange(rows) * 2)}), path)
    return path


def test_a_task_failing_mid_write_leaves_no_output_and_no_staging(spark, tmp_path):
    frame = read_dataset(spark, dataset_location(str(_source(tmp_path)))).repartition(4)

    def fail_in_one_partition(batches):
        from pyspark import TaskContext

        for batch in batches:
            if TaskContext.get().partitionId() == 2:
                raise RuntimeError("disk full")
            yield batch

    target = tmp_path / "out"
    with pytest.raises(Exception, match="disk full"):
        write_dataset(frame.mapInArrow(fail_in_one_partition, frame.schema), dataset_location(str(target)))
    assert not target.exists()
    assert [name for name in os.listdir(tmp_path) if name != "people.parquet"] == []


def test_paths_globs_and_csv_are_read(spark, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    for part in range(3):
        pq.write_table(pa.table({"id": pa.array([part * 10 + i for i in range(10)])}), folder / f"p{part}.parquet")
    assert read_dataset(spark, dataset_location(str(folder))).count() == 30
    assert read_dataset(spark, dataset_location(str(folder / "p*.parquet"), format="parquet")).count() == 30
    csv = tmp_path / "rows.csv"
    csv.write_text("a;b\n1;x\n2;y\n", encoding="utf-8")
    frame = read_dataset(spark, dataset_location(str(csv)), delimiter=";")
    assert frame.columns == ["a", "b"] and frame.count() == 2


def test_catalog_tables_are_written_whole_and_read_back(spark, tmp_path):
    frame = read_dataset(spark, dataset_location(str(_source(tmp_path, 50))))
    target = dataset_location("table:default.janedoe_people_test")
    spark.sql("DROP TABLE IF EXISTS default.janedoe_people_test")
    try:
        write_dataset(frame, target)
        with pytest.raises(JaneDoeInputError, match="exists"):
            write_dataset(frame, target)
        write_dataset(frame.limit(10), target, overwrite=True)
        assert read_dataset(spark, target).count() == 10
        assert not [t.name for t in spark.catalog.listTables("default") if "__janedoe_" in t.name]
    finally:
        spark.sql("DROP TABLE IF EXISTS default.janedoe_people_test")


def test_bad_locations_are_one_line_errors(spark, tmp_path):
    with pytest.raises(JaneDoeInputError, match="catalog table name"):
        dataset_location("table:bad name; drop")
    with pytest.raises(JaneDoeInputError, match="unknown format"):
        dataset_location(str(tmp_path / "x.xlsx"))
    with pytest.raises(JaneDoeInputError) as error:
        read_dataset(spark, dataset_location(str(tmp_path / "missing.parquet")))
    assert "\n" not in str(error.value)


def test_an_existing_output_is_replaced_only_when_asked(spark, tmp_path):
    frame = read_dataset(spark, dataset_location(str(_source(tmp_path, 20))))
    target = dataset_location(str(tmp_path / "out"))
    write_dataset(frame, target)
    with pytest.raises(JaneDoeInputError, match="exists"):
        write_dataset(frame.limit(5), target)
    assert ds.dataset(str(tmp_path / "out")).count_rows() == 20
    write_dataset(frame.limit(5), target, overwrite=True)
    assert ds.dataset(str(tmp_path / "out")).count_rows() == 5


def test_an_output_that_is_the_input_or_holds_it_is_refused_however_spelled(tmp_path, monkeypatch):
    from janedoe.spark_engine import check_output_apart

    folder = tmp_path / "lake" / "people"
    folder.mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    source = dataset_location("lake/people/part.parquet")
    for spelled in ("./lake/people/part.parquet", str(folder / "part.parquet"), "lake/people", "lake/",
                    f"file:{tmp_path}/lake"):
        with pytest.raises(JaneDoeInputError, match="must not be the input"):
            check_output_apart(source, dataset_location(spelled, format="parquet"))
    check_output_apart(source, dataset_location("lake/people_masked"))
    with pytest.raises(JaneDoeInputError):
        check_output_apart(dataset_location("table:crm.People"), dataset_location("table:CRM.people"))
    with pytest.raises(JaneDoeInputError):
        check_output_apart(dataset_location("table:people"), dataset_location("table:default.people"))
    check_output_apart(dataset_location("table:crm.people"), dataset_location("table:crm.people_masked"))
