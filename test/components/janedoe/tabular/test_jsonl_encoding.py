"""encode_jsonl: the JSON Lines a .jsonl file gets, as bytes batch by batch (what the API streams an export with)."""

import json

import pyarrow as pa
from janedoe.tabular import encode_jsonl, write_table_atomic

TRICKY = ['plain', 'quote " and \\ backslash', "line\nbreak\ttab\r", "\x00\x1f control", "é ü 中文 🙂", None]


def _batches() -> tuple[pa.Schema, list[pa.RecordBatch]]:
    table = pa.table({
        "text": pa.array(TRICKY * 3, pa.string()),
        "number": pa.array([1.5, None, float("nan"), -0.0, 2.0, 3.0] * 3),
        "count": pa.array(list(range(18)), pa.int64()),
    })
    whole = table.to_batches()[0]
    # a slice (non-zero offset), an empty batch and one whose type differs from the schema (cast on the way)
    narrow = pa.RecordBatch.from_arrays(
        [pa.array(["x"]), pa.array([4.0]), pa.array([7], pa.int32())], names=table.schema.names
    )
    return table.schema, [whole.slice(5, 7), whole.slice(0, 0), whole.slice(12), narrow]


def test_the_streamed_bytes_are_the_files_bytes(tmp_path):
    schema, batches = _batches()
    streamed = list(encode_jsonl(batches, schema))
    path = tmp_path / "out.jsonl"
    write_table_atomic(pa.Table.from_batches([b.cast(schema) for b in batches], schema), path)
    assert b"".join(streamed) == path.read_bytes()
    assert len(streamed) == 3  # the empty batch yields no chunk


def test_each_line_is_the_row_as_json():
    schema, batches = _batches()
    lines = b"".join(encode_jsonl(batches, schema)).decode("utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
    expected = [row for batch in batches for row in batch.cast(schema).to_pylist()]
    assert len(rows) == len(expected) == 14
    for got, want in zip(rows, expected, strict=True):
        assert got["text"] == want["text"] and got["count"] == want["count"]
        finite = want["number"] is not None and want["number"] == want["number"]
        assert got["number"] == (want["number"] if finite else None)  # NaN is written as null
