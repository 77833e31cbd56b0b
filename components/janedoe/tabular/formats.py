"""Which file format a path means: chosen by extension so reading and writing agree without a flag."""

from pathlib import Path

from janedoe.errors import JaneDoeInputError

_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def table_format(path: str | Path) -> str:
    """'csv', 'parquet' or 'jsonl' for a path, or a user error naming the supported extensions."""
    suffix = Path(path).suffix.lower()
    try:
        return _FORMATS[suffix]
    except KeyError:
        supported = ", ".join(sorted(_FORMATS))
        raise JaneDoeInputError(
            f"unsupported file extension {suffix or '(none)'!r}; use one of {supported}", where=str(path)
        ) from None
