"""JSON Lines: streaming reads through pyarrow, and a vectorized writer (pyarrow has no JSON writer).

The writer builds each line with Arrow string kernels, column by column, instead of json.dumps per row.
"""

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson
from janedoe.errors import JaneDoeInputError
from janedoe.tabular.input_limits import check_column_count
from janedoe.tabular.jsonl_scan import scan_jsonl
from janedoe.tabular.text_encoding import open_text_stream, transcoding_error

BLOCK_BYTES = 4 * 1024 * 1024
_ROW_IN_MESSAGE = re.compile(r"in row (\d+)")


def _input_error(path: Path, error: Exception, rows_before: int) -> JaneDoeInputError:
    match = _ROW_IN_MESSAGE.search(str(error))
    if match:
        line = rows_before + int(match.group(1)) + 1
        return JaneDoeInputError("malformed JSON line", where=f"{path}:{line}")
    kind = str(error).split(":")[0]
    return JaneDoeInputError(f"unreadable JSON Lines file ({kind})", where=str(path))


_SCANNED: set[tuple] = set()


def _prescan(path: Path, encoding: str | None) -> None:
    """Refuse nesting, key counts and bytes Arrow's reader cannot take safely; remembered per (path, size, mtime)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, encoding)
    if key in _SCANNED:
        return
    with open_text_stream(path, encoding) as stream:
        try:
            scan_jsonl(stream, path, check_utf8=encoding is None)
        except UnicodeError:
            raise transcoding_error(path, encoding) from None
    if len(_SCANNED) > 64:
        _SCANNED.clear()
    _SCANNED.add(key)


def _open(path: Path, encoding: str | None = None):
    if path.stat().st_size == 0:
        raise JaneDoeInputError("empty file: a JSON Lines file needs at least one object", where=str(path))
    _prescan(path, encoding)
    try:
        reader = pajson.open_json(
            open_text_stream(path, encoding), read_options=pajson.ReadOptions(use_threads=False, block_size=BLOCK_BYTES)
        )
    except pa.ArrowInvalid as error:
        raise _input_error(path, error, 0) from None
    check_column_count(len(reader.schema), f"{path}:1")
    return reader


def read_jsonl_schema(path: Path, encoding: str | None = None) -> pa.Schema:
    reader = _open(path, encoding)
    reader.close()
    return reader.schema


def iter_jsonl_batches(path: Path, encoding: str | None = None) -> Iterator[pa.RecordBatch]:
    reader = _open(path, encoding)
    rows = 0
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as error:
                raise _input_error(path, error, rows) from None
            rows += batch.num_rows
            yield batch
    finally:
        reader.close()  # here, in the reading thread: never left to the interpreter's exit


_CONTROL_ESCAPES = [("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")] + [
    (chr(code), f"\\u{code:04x}") for code in range(32) if chr(code) not in "\n\r\t"
]


def _json_string(values: pa.Array) -> pa.Array:
    """JSON string literals for a string array (quotes and escapes), nulls kept."""
    for raw, escaped in _CONTROL_ESCAPES:
        if pc.any(pc.match_substring(values, raw)).as_py():
            values = pc.replace_substring(values, raw, escaped)
    return pc.binary_join_element_wise('"', values, '"', "")


def _json_values(values: pa.Array) -> pa.Array:
    """Each value's JSON text ('null' for nulls)."""
    kind = values.type
    if pa.types.is_dictionary(kind):
        values = values.cast(kind.value_type)
        kind = values.type
    if pa.types.is_null(kind):
        return pa.array(["null"] * len(values), pa.string())
    if pa.types.is_boolean(kind) or pa.types.is_integer(kind):
        text = pc.cast(values, pa.string())
    elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        if pa.types.is_floating(kind):
            values = pc.if_else(pc.is_finite(values), values, pa.scalar(None, kind))
        text = pc.cast(values, pa.string())
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = _json_string(values.cast(pa.string()))
    elif pa.types.is_temporal(kind):
        text = _json_string(pc.cast(values, pa.string()))
    else:
        text = pa.array([None if v is None else json.dumps(v, default=str) for v in values.to_pylist()], pa.string())
    return pc.fill_null(text, "null")


def jsonl_lines(batch: pa.RecordBatch) -> pa.Array:
    """One JSON object text per row of the batch."""
    if batch.num_columns == 0:
        return pa.array(["{}"] * batch.num_rows, pa.string())
    parts: list = []
    for index, field in enumerate(batch.schema):
        prefix = ("{" if index == 0 else ",") + json.dumps(field.name, ensure_ascii=False) + ":"
        parts.extend([prefix, _json_values(batch.column(index))])
    parts.append("}\n")
    return pc.binary_join_element_wise(*parts, "")


def jsonl_bytes(batch: pa.RecordBatch) -> bytes:
    """The batch as JSON Lines (UTF-8): the lines' bytes taken from the Arrow buffer whole, not joined row by row."""
    lines = jsonl_lines(batch)
    if len(lines) == 0:
        return b""
    _validity, offsets_buffer, data = lines.buffers()
    offset_type = pa.int64() if pa.types.is_large_string(lines.type) else pa.int32()
    offsets = pa.Array.from_buffers(offset_type, len(lines) + 1, [None, offsets_buffer], offset=lines.offset)
    return data[offsets[0].as_py() : offsets[-1].as_py()].to_pybytes()


def encode_jsonl(batches: Iterable[pa.RecordBatch], schema: pa.Schema) -> Iterator[bytes]:
    """JSON Lines bytes batch by batch (each cast to `schema`), the same bytes a .jsonl file gets: for streaming."""
    for batch in batches:
        chunk = jsonl_bytes(batch if batch.schema == schema else batch.cast(schema))
        if chunk:
            yield chunk
