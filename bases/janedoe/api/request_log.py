"""One log line per request with a request id, and JSON logs for log collectors; never data values.

A line names the method, the route's template (`/v1/datasets/{dataset_id}/rows`, not the path the caller sent, and
never the query string, where values could travel), the status, the time taken and the analyst's name. The request id
comes back in `X-Request-ID` so a user can quote it; a caller may send their own (letters, digits, `._-`, at most 64).
"""

import json
import logging
import re
import secrets
import sys
import time
from contextvars import ContextVar

REQUEST_ID_HEADER = b"x-request-id"
_CALLER_ID = re.compile(rb"^[A-Za-z0-9._-]{1,64}$")
current_request_id: ContextVar[str | None] = ContextVar("janedoe_request_id", default=None)
access_log = logging.getLogger("janedoe.api.access")


class RequestLog:
    """ASGI middleware: sets the request id, answers with it and logs the request when it ends."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = dict(scope["headers"]).get(REQUEST_ID_HEADER)
        request_id = given.decode() if given is not None and _CALLER_ID.match(given) else secrets.token_hex(8)
        token = current_request_id.set(request_id)
        started, status = time.perf_counter(), 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (REQUEST_ID_HEADER, request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            access_log.info("request", extra={"http": {
                "method": scope["method"],
                "route": getattr(route, "path", None) or "(no route)",
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "analyst": scope.get("state", {}).get("analyst"),
            }})
            current_request_id.reset(token)


class JsonLines(logging.Formatter):
    """A log record as one JSON object. Exceptions are named by type only: their messages can quote data."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": current_request_id.get(),
        }
        entry.update(getattr(record, "http", {}))
        if record.exc_info:
            entry["error"] = _error_site(record.exc_info)
        return json.dumps(entry, default=str)


class _RequestIdText(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        http = getattr(record, "http", None)
        line = f"{self.formatTime(record)} {record.levelname.lower()} {record.name} [{current_request_id.get()}] "
        if http:
            line += " ".join(f"{key}={value}" for key, value in http.items())
        else:
            line += record.getMessage()
        if record.exc_info:
            line += f" error={_error_site(record.exc_info)}"
        return line


def _error_site(exc_info) -> str:
    """The exception's type and where it was raised: enough to find the bug, without the message."""
    kind, _error, trace = exc_info
    while trace is not None and trace.tb_next is not None:
        trace = trace.tb_next
    where = f" at {trace.tb_frame.f_code.co_filename}:{trace.tb_lineno}" if trace is not None else ""
    return f"{kind.__name__}{where}"


def configure_logging(log_format: str, level: str = "warning") -> None:
    """janedoe's and uvicorn's loggers to stderr in the chosen format; request lines are logged at info level."""
    import time as _time

    handler = logging.StreamHandler(sys.stderr)
    formatter = JsonLines() if log_format == "json" else _RequestIdText()
    formatter.converter = _time.gmtime
    handler.setFormatter(formatter)
    for name in ("janedoe", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
    logging.getLogger("janedoe").setLevel(level.upper())
