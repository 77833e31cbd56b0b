"""A text output (.txt, .md): no real identifier anywhere in it; this is what catches a job printing raw rows."""

from pathlib import Path

import pyarrow as pa
from janedoe.output_checks.identifier_index import IdentifierIndex
from janedoe.output_checks.kind_result import KindResult
from janedoe.tabular import write_text_atomic


def identifier_lines(lines: list[str], identifiers: IdentifierIndex | None) -> int:
    """How many real identifiers the texts hold (0 without an index)."""
    if identifiers is None or not lines:
        return 0
    return identifiers.occurrences(pa.array(lines, pa.string()))


def check_text(path: Path, data: bytes, identifiers: IdentifierIndex | None) -> KindResult:
    result = KindResult()
    text = data.decode("utf-8")
    found = identifier_lines(text.splitlines(), identifiers)
    if found:
        return result.block("identifier_values", f"{found} real identifier value(s) in the text")
    result.write = lambda target: write_text_atomic(text, target)
    return result
