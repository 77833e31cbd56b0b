"""`GET /ui`: the web page for analysts and output checkers, a static shell that calls the API with the user's key.

The shell needs no key: it holds no data. Every data call is made by the page's script with the key the user pasted
(kept in sessionStorage, sent as `Authorization: Bearer`), so the server enforces each role exactly as for any other
client. The files ship inside the package (bases/janedoe/api/web/), are read once, and leave with a strict
Content-Security-Policy: no inline script or style, nothing from another origin, images only from the API or blob:
URLs the page made, and Trusted Types so that no string can ever be parsed as HTML.
"""

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

router = APIRouter(prefix="/ui", include_in_schema=False)

WEB_DIR = Path(__file__).with_name("web")
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
])
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",
}
_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}


@cache
def _file(name: str) -> bytes:
    return (WEB_DIR / name).read_bytes()


def _serve(name: str) -> Response:
    return Response(_file(name), media_type=_FILES[name], headers=SECURITY_HEADERS)


@router.get("")
def page() -> Response:
    return _serve("index.html")


@router.get("/app.js")
def script() -> Response:
    return _serve("app.js")


@router.get("/app.css")
def stylesheet() -> Response:
    return _serve("app.css")
