import csv
import json
import os
from pathlib import Path

import pyarrow as pa
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.tabular import AtomicTableWriter, iter_batches, read_schema, read_table, write_table_atomic

ADULT = Path(__file__).resolve().parents[4] / "data" / "adult" / "adult.csv"

TRICKY_TEXT = [
    "plain", 'quote " inside', "new\nline", "tab\tand\\backslash", "ünïcødé 日本 😀", "ctrl\x01\x1f", None, ""
]


def _sample_table() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1, 2, None, 4, 5, 6, 7, 8], pa.int64()),
            "text": pa.array(TRICKY_TEXT, pa.string()),
            "score": pa.array([1.5, None, -2.25, 0.0, 1e10, 3.0, 4.0, 5.0]),
            "flag": pa.array([True, False, None, True, True, False, True, False]),
        }
    )


@pytest.mark.parametrize("suffix", [".parquet", ".jsonl"])
def test_round_trip_keeps_values_types_and_nulls(tmp_path, suffix):
    table = _sample_table()
    path = tmp_path / f"t{suffix}"
    write_table_atomic(table, path)
    back = read_table(path)
    assert back.column_names == table.column_names
    assert back.to_pylist() == table.to_pylist()


def test_csv_round_trip_keeps_unicode_and_quoted_newlines(tmp_path):
    table = _sample_table().drop_columns(["text"]).append_column(
        "text", pa.array(["a", 'quote "', "new\nline", "ünïcødé 😀", None, "x,y", "semi;colon", "z"])
    )
    path = tmp_path / "t.csv"
    write_table_atomic(table, path)
    with open(path, newline="", encoding="utf-8") as source:  # independent reader
        rows = list(csv.DictReader(source))
    assert [row["text"] for row in rows] == ["a", 'quote "', "new\nline", "ünïcødé 😀", "", "x,y", "semi;colon", "z"]
    back = read_table(path)
    assert back.column("id").to_pylist() == table.column("id").to_pylist()
    assert back.column("text").to_pylist() == table.column("text").to_pylist()


def test_jsonl_writer_lines_are_valid_json(tmp_path):
    table = _sample_table()
    path = tmp_path / "t.jsonl"
    write_table_atomic(table, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == table.to_pylist()


def test_semicolon_adult_is_sniffed():
    table = read_table(ADULT)
    with open(ADULT, newline="") as source:
        rows = list(csv.reader(source, delimiter=";"))
    assert table.num_rows == len(rows) - 1
    assert table.column_names == rows[0]
    assert pa.types.is_integer(table.schema.field("age").type)
    assert table.column("occupation").to_pylist()[:50] == [row[7] for row in rows[1:51]]


def test_iter_batches_cuts_exact_sizes_and_keeps_order():
    sizes = [batch.num_rows for batch in iter_batches(ADULT, batch_size=7000)]
    total = read_table(ADULT).num_rows
    assert sizes == [7000] * (total // 7000) + [total % 7000]
    streamed = pa.Table.from_batches(list(iter_batches(ADULT, batch_size=999)))
    assert streamed.equals(read_table(ADULT))


def test_parquet_streams_in_batches(tmp_path):
    table = pa.table({"n": pa.array(range(10_000))})
    write_table_atomic(table, tmp_path / "n.parquet")
    batches = list(iter_batches(tmp_path / "n.parquet", batch_size=3000))
    assert [b.num_rows for b in batches] == [3000, 3000, 3000, 1000]
    assert pa.Table.from_batches(batches).column("n").to_pylist() == list(range(10_000))


def test_given_delimiter_wins(tmp_path):
    path = tmp_path / "pipes.csv"
    path.write_text("a|b\n1|x,y\n2|z\n")
    table = read_table(path, delimiter="|")
    assert table.column("b").to_pylist() == ["x,y", "z"]


def test_malformed_csv_names_file_and_line(tmp_path):
    lines = ["a,b,c"] + [f"{i},{i},{i}" for i in range(40)] + ["1,2"] + ["3,4,5"]
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n")
    bad_line = lines.index("1,2") + 1
    with pytest.raises(JaneDoeInputError) as error:
        read_table(path)
    assert str(error.value).startswith(f"{path}:{bad_line}:")
    assert "1,2" not in str(error.value)


def test_value_that_breaks_the_inferred_type_names_its_line(tmp_path):
    path = tmp_path / "late.csv"
    filler = "f" * 200
    count = 25_000  # more than the first 4 MB block, where types are inferred
    with open(path, "w") as sink:
        sink.write("n,filler\n")
        sink.write(f"7,{filler}\n" * count)
        sink.write(f"SECRETVALUE,{filler}\n")
    with pytest.raises(JaneDoeInputError) as error:
        for _ in iter_batches(path):
            pass
    assert str(error.value).startswith(f"{path}:{count + 2}:")
    assert "SECRETVALUE" not in str(error.value)


def test_malformed_jsonl_names_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"a": 1}\n{"a": 2}\n{"a": \n')
    with pytest.raises(JaneDoeInputError, match=r"bad\.jsonl:3:"):
        read_table(path)


def test_empty_and_header_only_files(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(JaneDoeInputError, match="empty"):
        read_table(empty)
    header = tmp_path / "header.csv"
    header.write_text("a,b\n")
    table = read_table(header)
    assert table.num_rows == 0 and table.column_names == ["a", "b"]
    assert read_schema(header).field("a").type == pa.null()  # nothing is known about a column without values


def test_missing_directory_and_unknown_extension(tmp_path):
    with pytest.raises(JaneDoeInputError, match="no such file"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(JaneDoeInputError, match="not a regular file"):
        read_table(tmp_path)
    (tmp_path / "x.xlsx").write_text("x")
    with pytest.raises(JaneDoeInputError, match="unsupported file extension"):
        read_table(tmp_path / "x.xlsx")


def test_corrupt_parquet_is_an_input_error(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(JaneDoeInputError, match="broken.parquet"):
        read_table(path)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl"])
def test_failed_write_leaves_nothing(tmp_path, suffix):
    table = _sample_table().drop_columns(["text"])
    target = tmp_path / f"out{suffix}"
    with pytest.raises(RuntimeError):
        with AtomicTableWriter(target, table.schema) as writer:
            writer.write_table(table)
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous\n")
    table = pa.table({"a": [1]})
    with pytest.raises(KeyboardInterrupt):
        with AtomicTableWriter(target, table.schema) as writer:
            writer.write_table(table)
            raise KeyboardInterrupt
    assert target.read_text() == "previous\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_writer_into_missing_directory_is_an_input_error(tmp_path):
    with pytest.raises(JaneDoeInputError, match="directory"):
        write_table_atomic(pa.table({"a": [1]}), tmp_path / "no" / "out.csv")


def test_wide_table_round_trips(tmp_path):
    table = pa.table({f"c{i}": pa.array([i, i + 1, None]) for i in range(300)})
    for suffix in (".csv", ".parquet", ".jsonl"):
        write_table_atomic(table, tmp_path / f"wide{suffix}")
        assert read_table(tmp_path / f"wide{suffix}").to_pylist() == table.to_pylist()


def test_malformed_row_after_the_first_block_names_its_line(tmp_path):
    filler = "f" * 200
    count = 25_000  # past the first 4 MB block, read by parallel threads
    path = tmp_path / "late.csv"
    with open(path, "w") as sink:
        sink.write("n,filler\n")
        sink.write(f"1,{filler}\n" * count)
        sink.write("1,2,3\n")
    with pytest.raises(JaneDoeInputError) as error:
        for _ in iter_batches(path):
            pass
    assert str(error.value).startswith(f"{path}:{count + 2}: malformed CSV row")
