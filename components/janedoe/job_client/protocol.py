"""The broker's wire format, shared by the job client and the broker: one JSON object per line each way.

    request  {"expression": "mean(age)", "by": "region" | null, "epsilon": 0.1}
    reply    {"ok": true, "answer": {...}}  or  {"ok": false, "error": "one line"}

The checks live here so a job's malformed call fails the same way in stage 1 (no broker) as in stage 2.
"""

import json
import math
import numbers

MAX_REQUEST_BYTES = 16 * 1024  # a request line, newline included
MAX_EXPRESSION_CHARS = 1000
MAX_COLUMN_CHARS = 256
FIELDS = frozenset({"expression", "by", "epsilon"})


class QueryRefused(Exception):
    """The broker (or the stage-1 checks) refused a query; the message is one line and holds no data value."""


def check_epsilon(epsilon) -> float:
    """epsilon as a float; QueryRefused unless it is a positive finite number (numpy scalars included)."""
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise QueryRefused("epsilon must be a positive finite number")
    try:
        value = float(epsilon)
    except (OverflowError, ValueError):
        raise QueryRefused("epsilon must be a positive finite number") from None
    if not (math.isfinite(value) and value > 0):
        raise QueryRefused("epsilon must be a positive finite number")
    return value


def parse_request(line: bytes) -> dict:
    """The checked request of one line: {"expression", "by", "epsilon"}; QueryRefused naming what is wrong."""
    if len(line) > MAX_REQUEST_BYTES:
        raise QueryRefused(f"request too large: at most {MAX_REQUEST_BYTES} bytes per line")
    try:
        request = json.loads(line)
    except (ValueError, RecursionError):
        raise QueryRefused("malformed request: expected one JSON object per line") from None
    if not isinstance(request, dict):
        raise QueryRefused("malformed request: expected a JSON object with expression, by and epsilon")
    if not set(request) <= FIELDS:
        raise QueryRefused("unknown request field: a request has only expression, by and epsilon")
    expression, by = request.get("expression"), request.get("by")
    if not isinstance(expression, str) or not expression.strip() or len(expression) > MAX_EXPRESSION_CHARS:
        raise QueryRefused(f"expression must be a query text of at most {MAX_EXPRESSION_CHARS} characters")
    if by is not None and (not isinstance(by, str) or not by or len(by) > MAX_COLUMN_CHARS):
        raise QueryRefused(f"by must be a column name of at most {MAX_COLUMN_CHARS} characters, or null")
    if "epsilon" not in request:
        raise QueryRefused("epsilon is required")
    return {"expression": expression, "by": by, "epsilon": check_epsilon(request["epsilon"])}


def encode_line(message: dict) -> bytes:
    """One JSON line, the broker protocol's only framing: compact, so a request stays under the size cap."""
    return json.dumps(message, separators=(",", ":"), default=str).encode() + b"\n"
