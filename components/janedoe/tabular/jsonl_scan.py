"""A vectorized pre-scan of JSON Lines bytes: nesting depth, keys per line and UTF-8, refused before Arrow parses.

Only the structural bytes are looked at (quotes, backslashes, newlines, brackets, colons), in numpy over blocks of
whole lines. A quote is a string delimiter unless an odd run of backslashes precedes it; a newline always ends a
string (JSON strings cannot hold one, so the parser stops there). The depth is the running count of brackets outside
strings, held at zero by stray closers and carried across lines, since the parser accepts a value spanning lines.
Over every prefix that is valid JSON this is exactly the depth the parser reaches; the count can differ from the
parser's only after a syntax error, where the parser stops. Keys are counted only on lines long enough to hold more
than MAX_COLUMNS of them.
"""

import json
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from janedoe.errors import JaneDoeInputError
from janedoe.tabular.input_limits import MAX_COLUMNS, MAX_JSON_DEPTH, MAX_JSON_KEYS_PER_LINE, TOO_LARGE
from janedoe.tabular.text_encoding import check_utf8_chunk, line_chunks

_QUOTE, _BACKSLASH, _NEWLINE, _COLON = ord('"'), ord("\\"), ord("\n"), ord(":")
_OPENER, _CLOSER = 1, 2
_BRACKETS = bytes(_OPENER if byte in b"[{" else _CLOSER if byte in b"]}" else 0 for byte in range(256))
_MIN_KEY_BYTES = 4  # '"":0' and a comma or brace: a line of n keys is longer than 4 n bytes


class _Walk:
    """The bracket walk's state carried from one chunk to the next."""

    def __init__(self) -> None:
        self.total = 0  # opens minus closes so far
        self.lowest = 0  # min(0, lowest total so far): depth = total - lowest


def scan_jsonl(stream: BinaryIO, path: Path, *, check_utf8: bool) -> None:
    """Raise a JaneDoeInputError naming the line if the stream nests too deep, has too many keys on a line or (with
    check_utf8) is not UTF-8."""
    walk = _Walk()
    for chunk, lines_before in line_chunks(stream, path):
        if check_utf8:
            check_utf8_chunk(chunk, lines_before, path)
        _scan_chunk(chunk, lines_before, walk, path, first=lines_before == 0)


def _string_quotes(data: np.ndarray, chunk: bytes) -> np.ndarray:
    """Positions of the quotes that open or close a string: those not escaped by an odd run of backslashes."""
    quotes = np.flatnonzero(data == _QUOTE)
    if b"\\" not in chunk:
        return quotes
    at = np.flatnonzero(data == _BACKSLASH)
    starts = np.ones(len(at), bool)
    starts[1:] = at[1:] != at[:-1] + 1
    run_start = np.maximum.accumulate(np.where(starts, at, -1))
    ends = np.ones(len(at), bool)
    ends[:-1] = starts[1:]
    odd = ends & ((at - run_start) % 2 == 0)  # run length minus one is even
    escaped = at[odd] + 1
    escaped = escaped[escaped < len(data)]
    escaped = escaped[data[escaped] == _QUOTE]
    return np.setdiff1d(quotes, escaped, assume_unique=True)


def _outside_strings(at: np.ndarray, quotes: np.ndarray, line_starts: np.ndarray) -> np.ndarray:
    """Which positions `at` lie outside strings: an even number of string quotes since their line began.
    `line_starts` holds -1 and every newline's position."""
    quotes_before_line = np.searchsorted(quotes, line_starts)
    line = np.searchsorted(line_starts, at) - 1
    return (np.searchsorted(quotes, at) - quotes_before_line[line]) % 2 == 0


def _scan_chunk(chunk: bytes, lines_before: int, walk: _Walk, path: Path, first: bool = False) -> None:
    data = np.frombuffer(chunk, np.uint8)
    kinds = np.frombuffer(chunk.translate(_BRACKETS), np.uint8)  # bytes.translate: one pass in C
    brackets = np.flatnonzero(kinds != 0)  # nonzero is fastest on booleans
    newlines = np.flatnonzero(data == _NEWLINE)
    line_starts = np.concatenate(([-1], newlines))
    quotes = _string_quotes(data, chunk) if len(brackets) else np.empty(0, np.int64)
    brackets = brackets[_outside_strings(brackets, quotes, line_starts)]
    steps = np.where(kinds[brackets] == _OPENER, 1, -1)
    total = walk.total + np.cumsum(steps, dtype=np.int64)
    lowest = np.minimum(np.minimum.accumulate(total), walk.lowest) if len(total) else np.array([walk.lowest])
    depth = total - np.minimum(lowest, 0)
    too_deep = np.flatnonzero(depth > MAX_JSON_DEPTH)
    if len(too_deep):
        line = lines_before + np.searchsorted(newlines, brackets[too_deep[0]]) + 1
        raise JaneDoeInputError(
            f"JSON nested deeper than {MAX_JSON_DEPTH} levels", where=f"{path}:{line}", code=TOO_LARGE
        )
    _check_keys(data, lines_before, walk, (brackets, depth), quotes, line_starts, path)
    if first:
        if not len(quotes):
            quotes = _string_quotes(data, chunk)
        _check_inferred_fields(chunk, data, (brackets, depth), quotes, line_starts, path)
    if len(total):
        walk.total, walk.lowest = int(total[-1]), int(min(lowest[-1], 0))


def _check_keys(data, lines_before, walk, walked, quotes, line_starts, path) -> None:
    """Count keys (colons outside strings) on the lines long enough to hold more than MAX_COLUMNS of them."""
    line_ends = np.concatenate((line_starts[1:], [len(data)]))
    long_lines = np.flatnonzero(line_ends - line_starts > _MIN_KEY_BYTES * MAX_COLUMNS)
    if not len(long_lines):
        return
    if not len(quotes):
        quotes = _string_quotes(data, data.tobytes())
    brackets, depth = walked
    for index in long_lines:
        first, end = line_starts[index] + 1, line_ends[index]
        colons = np.flatnonzero(data[first:end] == _COLON) + first
        colons = colons[_outside_strings(colons, quotes, line_starts)]
        before = np.searchsorted(brackets, colons)
        colon_depth = np.where(before > 0, depth[np.maximum(before - 1, 0)], walk.total - walk.lowest)
        line = lines_before + index + 1
        counts = [(int(np.count_nonzero(colon_depth == 1)), MAX_COLUMNS, "keys (columns)"),
                  (len(colons), MAX_JSON_KEYS_PER_LINE, "keys")]
        for count, limit, what in counts:
            if count > limit:
                raise JaneDoeInputError(
                    f"more than {limit:,} {what} on one line", where=f"{path}:{line}", code=TOO_LARGE
                )


def _key_bytes(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> pa.Array:
    """The byte strings data[start:end] as one binary array, gathered without a Python loop."""
    lengths = ends - starts
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    gather = np.arange(offsets[-1]) - np.repeat(offsets[:-1] - starts, lengths)
    buffers = [None, pa.py_buffer(offsets.astype(np.int64)), pa.py_buffer(data[gather].tobytes())]
    return pa.Array.from_buffers(pa.large_binary(), len(lengths), buffers)


def _keys(data: np.ndarray, quotes: np.ndarray, line_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The strings that are object keys (followed by ':'), as their opening and closing quote positions.

    Strings are pairs of string quotes; only the lines before the first with an odd count of them are paired (the
    reader stops at that line). A key's colon may follow whitespace: past a few bytes of it a string counts as a
    key, which can only overcount."""
    per_line = np.diff(np.searchsorted(quotes, np.concatenate((line_starts + 1, [len(data)]))))
    unpaired = np.flatnonzero(per_line % 2)
    if len(unpaired):
        quotes = quotes[: np.searchsorted(quotes, line_starts[unpaired[0]] + 1)]
    opens, closes = quotes[0::2], quotes[1::2]
    is_key = np.zeros(len(closes), bool)
    probe = closes + 1
    pending = np.arange(len(closes))
    for _ in range(8):
        pending = pending[probe[pending] < len(data)]
        byte = data[probe[pending]]
        is_key[pending[byte == _COLON]] = True
        pending = pending[(byte == 32) | (byte == 9) | (byte == 10) | (byte == 13)]
        if not len(pending):
            break
        probe[pending] += 1
    is_key[pending] = True
    return opens[is_key], closes[is_key]


def _check_inferred_fields(chunk, data, walked, quotes, line_starts, path) -> None:
    """Arrow infers the schema from the file's first block (fields met later are an error), at a cost that grows
    faster than the number of fields: refuse a first block whose objects name more than MAX_COLUMNS fields.

    Top-level keys are told apart by their raw bytes, vectorized; nested keys are fields by their whole path, so
    when there are many of them their paths are collected from the decoded lines (on this first block only)."""
    opens, closes = _keys(data, quotes, line_starts)
    if len(closes) <= MAX_COLUMNS:
        return
    brackets, depth = walked
    before = np.searchsorted(brackets, closes)
    key_depth = np.where(before > 0, depth[np.maximum(before - 1, 0)], 0)
    top = key_depth == 1
    keys = _key_bytes(data, opens[top] + 1, closes[top])
    distinct = pc.count_distinct(keys).as_py()
    if distinct > MAX_COLUMNS:
        codes = keys.dictionary_encode().indices.to_numpy()
        first_seen = np.sort(np.unique(codes, return_index=True)[1])
        line = np.searchsorted(line_starts, closes[top][first_seen[MAX_COLUMNS]])
        raise JaneDoeInputError(
            f"more than {MAX_COLUMNS:,} columns among the first lines", where=f"{path}:{line}", code=TOO_LARGE
        )
    if distinct + np.count_nonzero(key_depth > 1) > MAX_COLUMNS:
        _check_field_paths(chunk, path)


def _field_paths(value, prefix: tuple, paths: set) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            paths.add((*prefix, key))
            _field_paths(item, (*prefix, key), paths)
    elif isinstance(value, list):
        for item in value:
            _field_paths(item, prefix, paths)


def _check_field_paths(chunk: bytes, path: Path) -> None:
    paths: set = set()
    for number, line in enumerate(chunk.splitlines(), 1):
        try:
            _field_paths(json.loads(line), (), paths)  # depth already bounded by the scan
        except ValueError:
            return  # the reader reports the malformed line
        if len(paths) > MAX_COLUMNS:
            raise JaneDoeInputError(
                f"more than {MAX_COLUMNS:,} fields among the first lines", where=f"{path}:{number}", code=TOO_LARGE
            )
