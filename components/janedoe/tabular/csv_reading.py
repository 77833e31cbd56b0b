"""Streaming CSV reading with a sniffed delimiter and errors that name the file and line but never a value.

Types are inferred once from the first block and then frozen, as pyarrow's streaming reader does; columns that are
empty in the first block are read as strings so that later values cannot break the inferred schema.
"""

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from janedoe.errors import JaneDoeInputError
from janedoe.tabular.input_limits import MAX_COLUMNS, check_column_count
from janedoe.tabular.text_encoding import (
    first_invalid_utf8_line,
    not_utf8_error,
    open_text_stream,
    transcoding_error,
)

SNIFF_BYTES = 64 * 1024
BLOCK_BYTES = 4 * 1024 * 1024
HEADER_BLOCK_BYTES = 256 * 1024
_CANDIDATE_DELIMITERS = ",;\t|"


_QUOTED = re.compile(r'"(?:[^"]|"")*"')


def sniff_delimiter(path: Path, encoding: str | None = None) -> str:
    """The delimiter of a CSV file: the candidate that splits the first lines into the same number of fields
    (quoted text ignored); ',' when nothing does. csv.Sniffer is avoided: its regex is quadratic on quoted data."""
    with open_text_stream(path, encoding) as raw:
        try:
            head = raw.read(SNIFF_BYTES)
        except UnicodeError:
            raise transcoding_error(path, encoding) from None
    text = head.decode("utf-8", errors="replace")
    if len(head) == SNIFF_BYTES and "\n" in text:
        text = text[: text.rfind("\n")]
    lines = [line for line in _QUOTED.sub("", text).splitlines() if line.strip()][:50]
    if not lines:
        return ","
    best, best_score = ",", (0, 0)
    for candidate in _CANDIDATE_DELIMITERS:
        counts = [line.count(candidate) for line in lines]
        if counts[0] == 0:
            continue
        consistent = sum(count == counts[0] for count in counts) / len(counts)
        score = (consistent >= 0.9, counts[0])
        if score > best_score:
            best, best_score = candidate, score
    return best


def header_field_count(path: Path, delimiter: str, encoding: str | None) -> int:
    """Fields in the header line (quoted text ignored), counted from the bytes without parsing; stops counting once
    past MAX_COLUMNS, so a header of a million columns costs one block."""
    separator = ord(delimiter)
    fields, quoted = 1, 0
    with open_text_stream(path, encoding) as raw:
        while True:
            try:
                block = raw.read(HEADER_BLOCK_BYTES)
            except UnicodeError:
                raise transcoding_error(path, encoding) from None
            if not block:
                return fields
            data = np.frombuffer(block, np.uint8)
            inside = (np.cumsum(data == ord('"')) + quoted) % 2 == 1
            ends = np.flatnonzero(~inside & ((data == ord("\n")) | (data == ord("\r"))))
            end = ends[0] if len(ends) else len(data)
            fields += int(np.count_nonzero(~inside[:end] & (data[:end] == separator)))
            if len(ends) or fields > MAX_COLUMNS:
                return fields
            quoted = int(inside[-1])


def _options(
    delimiter: str, column_types: dict[str, pa.DataType] | None, failed_rows: list, threads: bool, encoding: str | None
):
    def on_invalid_row(row) -> str:
        failed_rows.append(row)
        return "error"

    read = pacsv.ReadOptions(use_threads=threads, block_size=BLOCK_BYTES, encoding=encoding or "utf8")
    parse = pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid_row, newlines_in_values=True)
    convert = pacsv.ConvertOptions(column_types=column_types or {}, strings_can_be_null=True)
    return read, parse, convert


def _open(
    path: Path,
    delimiter: str,
    column_types: dict[str, pa.DataType] | None,
    threads: bool = False,
    encoding: str | None = None,
):
    failed_rows: list = []
    read, parse, convert = _options(delimiter, column_types, failed_rows, threads, encoding)
    if path.stat().st_size == 0:
        raise JaneDoeInputError("empty file: a CSV file needs at least a header line", where=str(path))
    check_column_count(header_field_count(path, delimiter, encoding), f"{path}:1")
    try:
        return pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert), failed_rows
    except (pa.ArrowInvalid, UnicodeError) as error:
        raise _input_error(path, error, failed_rows, column_types, encoding=encoding) from None


def _has_data_rows(path: Path) -> bool:
    """Whether anything follows the header line (judged from the file's head)."""
    with open(path, "rb") as raw:
        head = raw.read(SNIFF_BYTES)
    _, _, rest = head.partition(b"\n")
    return bool(rest.strip()) or len(head) == SNIFF_BYTES


_SCHEMAS: dict[tuple, tuple[pa.Schema, str]] = {}


def read_csv_schema(path: Path, delimiter: str | None = None, encoding: str | None = None) -> tuple[pa.Schema, str]:
    """The frozen schema of a CSV file (null-typed columns become strings) and its delimiter.

    Remembered per (path, size, mtime), so reading the schema and then streaming the file infers types once.
    """
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, delimiter, encoding)
    if key not in _SCHEMAS:
        if len(_SCHEMAS) > 64:
            _SCHEMAS.clear()
        _SCHEMAS[key] = _infer_csv_schema(path, delimiter, encoding)
    return _SCHEMAS[key]


def _infer_csv_schema(path: Path, delimiter: str | None, encoding: str | None) -> tuple[pa.Schema, str]:
    delimiter = delimiter or sniff_delimiter(path, encoding)
    reader, _ = _open(path, delimiter, None, encoding=encoding)
    schema = reader.schema
    reader.close()
    if encoding is None and any(pa.types.is_binary(f.type) for f in schema):
        # Arrow reads text that is not UTF-8 as binary: masked, it would differ from the same text in UTF-8.
        raise not_utf8_error(path, first_invalid_utf8_line(path))
    # A column empty in the first block may hold values later: read it as text. With no rows at all, nothing is
    # known about it and it stays null-typed.
    has_rows = _has_data_rows(path)
    fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) and has_rows else f for f in schema]
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise JaneDoeInputError(f"duplicate column name {duplicate!r} in the header", where=f"{path}:1")
    return pa.schema(fields), delimiter


def iter_csv_batches(
    path: Path, delimiter: str | None = None, encoding: str | None = None
) -> Iterator[pa.RecordBatch]:
    """Record batches of a CSV file in file order, each about one block of the file."""
    schema, delimiter = read_csv_schema(path, delimiter, encoding)
    column_types = {f.name: f.type for f in schema}
    reader, failed_rows = _open(path, delimiter, column_types, threads=True, encoding=encoding)
    try:
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except (pa.ArrowInvalid, UnicodeError) as error:
                reader.close()
                if failed_rows and failed_rows[-1].number is None:
                    failed_rows[:] = _rows_failing_serially(path, delimiter, column_types, encoding)
                raise _input_error(path, error, failed_rows, column_types, delimiter, encoding) from None
            yield batch
    finally:
        reader.close()  # here, in the reading thread: never left to the interpreter's exit


def _rows_failing_serially(
    path: Path, delimiter: str, column_types: dict[str, pa.DataType], encoding: str | None
) -> list:
    """Re-read serially (the error path only): a threaded read does not know which line a bad row is on."""
    reader, failed_rows = _open(path, delimiter, column_types, threads=False, encoding=encoding)
    try:
        for _ in reader:
            pass
    except (pa.ArrowInvalid, UnicodeError):
        pass
    finally:
        reader.close()
    return failed_rows


def _input_error(path, error, failed_rows, column_types, delimiter=",", encoding=None) -> JaneDoeInputError:
    message = str(error)
    if isinstance(error, UnicodeError) and encoding is not None:
        return transcoding_error(path, encoding)
    if failed_rows:
        row = failed_rows[-1]
        where = f"{path}:{row.number}" if row.number else str(path)
        return JaneDoeInputError(
            f"malformed CSV row: expected {row.expected_columns} fields, found {row.actual_columns}", where=where
        )
    if isinstance(error, UnicodeError) or "invalid UTF8" in message or "invalid UTF-8" in message:
        return not_utf8_error(path, first_invalid_utf8_line(path))
    if "conversion error" in message and column_types:
        return _conversion_error(path, message, column_types, delimiter, encoding)
    if "Empty CSV file" in message:
        return JaneDoeInputError("empty file: a CSV file needs at least a header line", where=str(path))
    return JaneDoeInputError(f"unreadable CSV ({message.split(':')[0]})", where=str(path))


def _first_bad_row(values: pa.Array, expected: pa.DataType) -> int | None:
    """Index of the first value that does not cast to `expected` (bisecting with whole-array casts)."""
    def fits(part: pa.Array) -> bool:
        try:
            part.cast(expected)
            return True
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return False

    if fits(values):
        return None
    low, high = 0, len(values)  # values[low:high] holds the first bad value
    while high - low > 1:
        middle = (low + high) // 2
        if fits(values.slice(low, middle - low)):
            low = middle
        else:
            high = middle
    return low


def _conversion_error(
    path: Path, message: str, column_types: dict[str, pa.DataType], delimiter: str, encoding: str | None
):
    """Find the line whose value does not fit its column's inferred type (only runs on the error path): re-read
    that one column as text and bisect. The line is exact unless quoted values span lines."""
    names = list(column_types)
    index = None
    if "column #" in message:
        try:
            index = int(message.split("column #")[1].split(":")[0])
        except ValueError:
            index = None
    column = names[index] if index is not None and index < len(names) else None
    expected = column_types.get(column) if column else None
    line = None
    if column is not None:
        read = pacsv.ReadOptions(use_threads=False, block_size=BLOCK_BYTES, encoding=encoding or "utf8")
        parse = pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True)
        convert = pacsv.ConvertOptions(
            include_columns=[column], column_types={column: pa.string()}, strings_can_be_null=True
        )
        rows_before = 0
        for batch in pacsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert):
            bad = _first_bad_row(batch.column(0), expected)
            if bad is not None:
                line = rows_before + bad + 2
                break
            rows_before += batch.num_rows
    where = f"{path}:{line}" if line else str(path)
    what = f"column {column!r}" if column else "a column"
    return JaneDoeInputError(
        f"{what}: a value does not fit the type {expected} inferred from the first rows", where=where
    )
