"""Text files in other encodings than UTF-8: the encoding's name checked, the bytes transcoded before Arrow reads them,
and a file that is not the UTF-8 it claims to be located to its first bad line.

Arrow reads text that is not UTF-8 as binary (CSV) or as strings holding invalid bytes (JSON), so the same name in
Latin-1 and in UTF-8 would mask differently; an undeclared encoding is therefore an error, never a guess.
"""

import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa
from janedoe.errors import JaneDoeInputError
from janedoe.tabular.input_limits import MAX_LINE_BYTES, SCAN_BLOCK_BYTES, TOO_LARGE

_UTF8 = "utf-8"


def text_encoding(encoding: str | None, where: str | None = None) -> str | None:
    """The codec name for `encoding`, or None for UTF-8 (Arrow's own, read without transcoding)."""
    if encoding is None:
        return None
    try:
        name = codecs.lookup(encoding).name
    except (LookupError, TypeError, ValueError):
        raise JaneDoeInputError(f"unknown text encoding {encoding!r}", where=where or "encoding") from None
    return None if name == _UTF8 else name


def open_text_stream(path: Path, encoding: str | None) -> pa.NativeFile:
    """The file's bytes as UTF-8: as they are, or transcoded from `encoding` while read."""
    raw = pa.OSFile(str(path))
    return raw if encoding is None else pa.transcoding_input_stream(raw, encoding, _UTF8)


def line_chunks(stream: BinaryIO, where: Path) -> Iterator[tuple[bytes, int]]:
    """The stream in chunks of whole lines (the last may lack its newline), each with the number of lines before it.

    A line longer than MAX_LINE_BYTES is refused rather than buffered.
    """
    pending = b""
    lines_before = 0
    while True:
        block = stream.read(SCAN_BLOCK_BYTES)
        if not block:
            if pending:
                yield pending, lines_before
            return
        pending = pending + block if pending else block
        cut = pending.rfind(b"\n") + 1
        if cut == 0:
            if len(pending) > MAX_LINE_BYTES:
                line = f"{where}:{lines_before + 1}"
                raise JaneDoeInputError(f"a line longer than {MAX_LINE_BYTES >> 20} MiB", where=line, code=TOO_LARGE)
            continue
        chunk, pending = pending[:cut], pending[cut:]
        yield chunk, lines_before
        lines_before += chunk.count(b"\n")


def check_utf8_chunk(chunk: bytes, lines_before: int, path: Path) -> None:
    """Refuse a chunk of whole lines that is not valid UTF-8, naming the line of its first bad byte."""
    try:
        chunk.decode(_UTF8)
    except UnicodeDecodeError as error:
        raise not_utf8_error(path, lines_before + chunk.count(b"\n", 0, error.start) + 1) from None


def first_invalid_utf8_line(path: Path) -> int | None:
    """The line holding the file's first byte sequence that is not UTF-8 (read on the error path only)."""
    with open(path, "rb") as source:
        for chunk, lines_before in line_chunks(source, path):
            try:
                chunk.decode(_UTF8)
            except UnicodeDecodeError as error:
                return lines_before + chunk.count(b"\n", 0, error.start) + 1
    return None


def not_utf8_error(path: Path, line: int | None) -> JaneDoeInputError:
    where = f"{path}:{line}" if line else str(path)
    return JaneDoeInputError(
        "the file is not valid UTF-8 text; name its encoding (e.g. --encoding latin-1)", where=where
    )


def transcoding_error(path: Path, encoding: str | None) -> JaneDoeInputError:
    return JaneDoeInputError(f"the file is not valid {encoding} text", where=str(path))
