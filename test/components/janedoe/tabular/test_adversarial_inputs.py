"""One file crafted to crash, stall or mislead a reader: nested JSON, a wide header, bytes in another encoding.

Each attack is made as an attacker would make it and must gain nothing: a one-line JaneDoeInputError naming the file
(and the line), raised before Arrow parses, quickly, with the process still alive.
"""

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from janedoe.errors import JaneDoeInputError
from janedoe.tabular import iter_batches, read_schema, read_table, write_table_atomic
from janedoe.tabular.input_limits import MAX_COLUMNS, MAX_JSON_DEPTH
from janedoe.tabular.jsonl_scan import scan_jsonl

ROOT = Path(__file__).resolve().parents[4]
CUSTOMERS = ROOT / "data" / "demo" / "customers.csv"

READERS = {
    "read_schema": lambda path: read_schema(path),
    "read_table": lambda path: read_table(path),
    "iter_batches": lambda path: list(iter_batches(path, batch_size=100)),
}


def _refused(read, path: Path, *fragments: str, seconds: float = 1.0) -> JaneDoeInputError:
    started = time.perf_counter()
    with pytest.raises(JaneDoeInputError) as caught:
        read(path)
    assert time.perf_counter() - started < seconds
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(path))
    for fragment in fragments:
        assert fragment in message, message
    return caught.value


# --- nesting: Arrow's JSON parser recursed until the process died (depth 1,000: a 500; 10,000: a segfault) ---


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_deeply_nested_json_lines_are_refused_at_their_line(tmp_path, reader, depth):
    path = tmp_path / "nested.jsonl"
    path.write_text('{"id": 1}\n' * 3 + '{"id": 4, "x": ' + "[" * depth + "]" * depth + "}\n")
    _refused(READERS[reader], path, f"{path}:4", "nested deeper than 64")


def test_nesting_spread_over_lines_or_hidden_after_strings_is_still_counted(tmp_path):
    # Arrow accepts a value spanning lines, so the depth carries across them; quotes and escapes must not reset it.
    spread = tmp_path / "spread.jsonl"
    spread.write_text('{"a": 1}\n{"a": ' + "[\n" * 100 + "]\n" * 100 + "}\n")
    _refused(read_schema, spread, f"{spread}:{1 + MAX_JSON_DEPTH}")  # line k is at depth k
    escaped = tmp_path / "escaped.jsonl"
    escaped.write_text('{"a": "\\\\", "b": "\\"]]]", "c": ' + "[" * 100 + "]" * 100 + "}\n")
    _refused(read_schema, escaped, f"{escaped}:1")
    closers = tmp_path / "closers.jsonl"  # stray closers first: a plain sum would go negative and hide the depth
    closers.write_text("]" * 1000 + "\n" + "[" * 100 + "\n")
    _refused(read_schema, closers, f"{closers}:2")


def test_brackets_inside_strings_are_not_nesting(tmp_path):
    path = tmp_path / "strings.jsonl"
    rows = [{"id": i, "note": "[" * 500 + '\\" {{{' + "]" * 3, "tags": [[["a"]]]} for i in range(3)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert read_table(path).to_pylist() == rows


def _depth_of(value) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth_of(v) for v in value), default=0)
    return 0


def _random_value(rng: random.Random, depth: int):
    text = "".join(rng.choice('ab[]{}"\\:,\n\t') for _ in range(rng.randint(0, 6)))
    if depth == 0 or rng.random() < 0.3:
        return rng.choice([text, 1, None, True])
    if rng.random() < 0.5:
        return [_random_value(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    return {text + str(i): _random_value(rng, depth - 1) for i in range(rng.randint(0, 3))}


def test_the_scan_measures_exactly_the_depth_of_valid_json():
    """Against the depth of the value itself, on random documents full of brackets, quotes and escapes in strings:
    wrapped to exactly the limit a line is accepted, one level more and it is refused."""
    rng = random.Random(11)

    def wrapped(line: bytes, levels: int) -> bytes:  # {"w": [[...line...]]}: 1 + levels + the line's own depth
        return b'{"w": ' + b"[" * levels + line + b"]" * levels + b"}\n"

    for _ in range(300):
        value = {"v": _random_value(rng, rng.randint(1, 12))}
        line = json.dumps(value).encode()
        depth = _depth_of(value)
        at_limit = wrapped(line, MAX_JSON_DEPTH - 1 - depth)
        scan_jsonl(pa.BufferReader(line + b"\n" + at_limit * 2), Path("x.jsonl"), check_utf8=True)
        past_limit = wrapped(line, MAX_JSON_DEPTH - depth)
        with pytest.raises(JaneDoeInputError, match="x.jsonl:2: JSON nested deeper"):
            scan_jsonl(pa.BufferReader(line + b"\n" + past_limit), Path("x.jsonl"), check_utf8=True)


def test_the_pre_scan_costs_less_than_arrows_own_parse(tmp_path):
    import pyarrow.json as pajson

    table = pa.concat_tables([read_table(CUSTOMERS)] * 20)
    path = tmp_path / "big.jsonl"
    write_table_atomic(table, path)
    scan = parse = float("inf")
    for _ in range(3):  # the best of three: CPU time, on a machine shared with other work
        started = time.process_time()
        with pa.OSFile(str(path)) as stream:
            scan_jsonl(stream, path, check_utf8=True)
        scan = min(scan, time.process_time() - started)
        started = time.process_time()
        options = pajson.ReadOptions(use_threads=False, block_size=4 * 1024 * 1024)
        rows = sum(batch.num_rows for batch in pajson.open_json(path, read_options=options))
        parse = min(parse, time.process_time() - started)
    assert rows == table.num_rows
    assert scan < 1.5 * parse  # measured: 0.7-0.9 of the parse (numpy over the structural bytes only)


# --- width: a 100,000-column CSV cost 23 s of CPU ---


@pytest.mark.parametrize("reader", READERS)
def test_a_hundred_thousand_column_csv_is_refused_in_well_under_a_second(tmp_path, reader):
    path = tmp_path / "wide.csv"
    columns = 100_000
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" * columns) + "\n")
    _refused(READERS[reader], path, f"{path}:1", f"more than {MAX_COLUMNS:,} columns", seconds=0.5)


def test_quoted_delimiters_do_not_count_as_columns(tmp_path):
    path = tmp_path / "quoted.csv"
    header = ",".join(f'"name, part {i}"' for i in range(MAX_COLUMNS))
    path.write_text(header + "\n" + ",".join("1" * MAX_COLUMNS) + "\n")
    assert len(read_schema(path)) == MAX_COLUMNS
    path.write_text(header + ",extra\n" + ",".join("1" * (MAX_COLUMNS + 1)) + "\n")
    _refused(read_schema, path, "columns")


@pytest.mark.parametrize("reader", READERS)
def test_a_json_line_with_too_many_keys_is_refused(tmp_path, reader):
    path = tmp_path / "wide.jsonl"
    path.write_text('{"a": 1}\n' + json.dumps({f"c{i}": 1 for i in range(100_000)}) + "\n")
    _refused(READERS[reader], path, f"{path}:2", "keys", seconds=0.5)
    nested = tmp_path / "nested_wide.jsonl"  # one column holding a 100,000-field struct
    nested.write_text(json.dumps({"a": {f"c{i}": 1 for i in range(100_000)}}) + "\n")
    _refused(READERS[reader], nested, f"{nested}:1", "keys", seconds=0.5)


@pytest.mark.parametrize("reader", READERS)
def test_columns_spread_over_many_lines_are_refused_before_arrow_infers_them(tmp_path, reader):
    """100 new keys on each of 1,000 lines (1.4 MB) cost Arrow's schema inference 18 s before it was refused."""
    path = tmp_path / "union.jsonl"
    path.write_text("".join(json.dumps({f"k{i}_{j}": 1 for j in range(100)}) + "\n" for i in range(1000)))
    _refused(READERS[reader], path, f"{path}:41", "columns")  # 40 lines hold 4,000 keys, the 41st crosses 4,096
    nested = tmp_path / "paths.jsonl"  # 47 names per level, three levels: 103,823 field paths from 141 names
    level = {f"o{c}": 1 for c in range(47)}
    nested.write_text("".join(json.dumps({f"n{a}": {f"m{b}": level for b in range(47)}}) + "\n" for a in range(47)))
    _refused(READERS[reader], nested, f"{nested}:2", "fields")


def test_many_rows_with_the_same_nested_keys_are_read(tmp_path):
    path = tmp_path / "nested_rows.jsonl"
    rows = [{"id": i, "address": {"city": f"c{i % 7}", "geo": {"lat": i, "lon": -i}}} for i in range(20_000)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert read_table(path).to_pylist() == rows


@pytest.mark.parametrize("reader", READERS)
def test_a_wide_parquet_file_is_refused_from_its_footer(tmp_path, reader):
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({f"c{i}": pa.array([1], pa.int8()) for i in range(MAX_COLUMNS + 1)}), path)
    _refused(READERS[reader], path, "columns", seconds=0.5)
    fine = tmp_path / "fine.parquet"
    pq.write_table(pa.table({f"c{i}": pa.array([1], pa.int8()) for i in range(MAX_COLUMNS)}), fine)
    assert len(read_schema(fine)) == MAX_COLUMNS


# --- encodings: Latin-1 was read as binary and masked differently from the same text in UTF-8 ---

NAMES = ["Müller", "Zoë", "François", "Ødegård", "plain"]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("reader", READERS)
def test_latin1_without_an_encoding_is_refused_at_the_first_bad_line(tmp_path, suffix, reader):
    rows = [{"id": i, "name": "plain"} for i in range(5)] + [{"id": 5, "name": "Müller"}]
    if suffix == ".csv":
        text = "id,name\n" + "".join(f"{r['id']},{r['name']}\n" for r in rows)
        line = 7
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        line = 6
    path = _write(tmp_path / f"latin{suffix}", text, "latin-1")
    _refused(READERS[reader], path, f"{path}:{line}", "not valid UTF-8", "--encoding")


def test_a_bad_byte_after_the_first_block_is_found_by_line(tmp_path):
    # Types are inferred from the first block; the bad byte is far beyond it, in a column already typed as text.
    lines = ["id,name"] + [f"{i},name {i}" for i in range(400_000)]
    path = tmp_path / "late.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode() + "400000,Zo\xeb\n".encode("latin-1"))
    with pytest.raises(JaneDoeInputError, match=f"{path}:400002: .*not valid UTF-8"):
        list(iter_batches(path))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_an_encoding_decodes_to_exactly_the_utf8_table(tmp_path, suffix):
    table = pa.table({"id": list(range(len(NAMES))), "name": NAMES})
    utf8 = tmp_path / f"utf8{suffix}"
    write_table_atomic(table, utf8)
    latin1 = _write(tmp_path / f"latin1{suffix}", utf8.read_text(encoding="utf-8"), "latin-1")
    assert read_table(latin1, encoding="latin-1").equals(read_table(utf8))
    assert read_schema(latin1, encoding="latin-1") == read_schema(utf8)
    assert pa.Table.from_batches(list(iter_batches(latin1, encoding="latin-1"))).equals(read_table(utf8))


def test_an_unknown_encoding_is_one_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n")
    with pytest.raises(JaneDoeInputError, match="unknown text encoding 'klingon'"):
        read_table(path, encoding="klingon")


def test_bytes_invalid_in_the_named_encoding_are_a_user_error(tmp_path):
    path = _write(tmp_path / "t.csv", "id,name\n1,Müller\n", "utf-8")
    with pytest.raises(JaneDoeInputError, match="not valid ascii text"):
        read_table(path, encoding="ascii")


# --- the process survives: the nested file that used to kill it, read in a child process ---


def test_the_process_survives_the_nested_file_that_used_to_kill_it(tmp_path):
    path = tmp_path / "bomb.jsonl"
    path.write_text('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    code = (
        "import sys\nfrom janedoe.errors import JaneDoeInputError\nfrom janedoe.tabular import read_table\n"
        f"try:\n    read_table({str(path)!r})\nexcept JaneDoeInputError as error:\n    print(error)\n    sys.exit(2)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "nested deeper" in result.stdout


def test_a_normal_file_is_untouched_by_the_checks(tmp_path):
    table = read_table(CUSTOMERS)
    for suffix in (".jsonl", ".parquet"):
        path = tmp_path / f"c{suffix}"
        write_table_atomic(table, path)
        assert read_table(path).num_rows == table.num_rows
    assert np.all(np.array(table.column("id").to_pylist()) > 0)
