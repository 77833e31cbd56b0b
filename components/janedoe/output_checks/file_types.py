"""Which files each kind of output may be, judged by the suffix and then by the bytes (a suffix is only a claim)."""

SUFFIXES = {
    "table": (".csv", ".parquet", ".json", ".jsonl"),
    "figure": (".png", ".svg"),
    "text": (".txt", ".md"),
    "notebook": (".ipynb",),
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PARQUET_MAGIC = b"PAR1"


def file_type_problem(path: str, kind: str, data: bytes) -> str | None:
    """Why these bytes cannot be this kind of output (one line, no content), or None."""
    if kind not in SUFFIXES:
        return f"unknown output kind {kind!r}; use one of {', '.join(SUFFIXES)}"
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if suffix not in SUFFIXES[kind]:
        return f"a {kind} must be one of {', '.join(SUFFIXES[kind])}, not {suffix or 'a file without suffix'}"
    if suffix == ".png":
        return None if data.startswith(PNG_SIGNATURE) else "not a PNG image (wrong signature)"
    if suffix == ".parquet":
        ok = len(data) >= 12 and data.startswith(PARQUET_MAGIC) and data.endswith(PARQUET_MAGIC)
        return None if ok else "not a Parquet file (wrong magic bytes)"
    if b"\0" in data:
        return "not a text file (holds NUL bytes)"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    return None
