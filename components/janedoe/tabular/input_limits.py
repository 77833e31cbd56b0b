"""Bounds on what one input file may ask of a reader, checked before Arrow parses it.

Arrow's JSON reader recurses once per nesting level (a deep enough line overflows the C stack and kills the process)
and its readers' cost grows with the column count, so both are refused from cheap pre-scans of the bytes or of the
header; the limits are far above what a table of people needs.
"""

from janedoe.errors import JaneDoeInputError

MAX_COLUMNS = 4096
MAX_JSON_DEPTH = 64
MAX_JSON_KEYS_PER_LINE = 16 * MAX_COLUMNS
MAX_LINE_BYTES = 64 * 1024 * 1024
SCAN_BLOCK_BYTES = 4 * 1024 * 1024
TOO_LARGE = "input_too_large"


def check_column_count(count: int, where: str) -> None:
    if count > MAX_COLUMNS:
        raise JaneDoeInputError(
            f"more than {MAX_COLUMNS:,} columns (the most a table may have)", where=where, code=TOO_LARGE
        )
