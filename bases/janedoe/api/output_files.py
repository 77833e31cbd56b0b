"""Serving a job's output bytes: a media type from the suffix, always as a download, never run by the browser."""

import re

from fastapi.responses import Response

_MEDIA_TYPES = {
    ".csv": "text/csv; charset=utf-8", ".json": "application/json", ".jsonl": "application/x-ndjson",
    ".ipynb": "application/json", ".parquet": "application/vnd.apache.parquet", ".png": "image/png",
    ".svg": "image/svg+xml", ".txt": "text/plain; charset=utf-8", ".md": "text/plain; charset=utf-8",
}
# An output is the job author's bytes: a page that opens one directly must not run anything in the API's origin.
_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


def output_response(data: bytes, name: str) -> Response:
    base = name.rsplit("/", 1)[-1]
    suffix = "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""
    shown = re.sub(r"[^A-Za-z0-9_.-]", "_", base) or "output"
    return Response(data, media_type=_MEDIA_TYPES.get(suffix, "application/octet-stream"),
                    headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{shown}"'})
