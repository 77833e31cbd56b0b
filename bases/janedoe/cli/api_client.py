"""The CLI's remote commands talk to the janedoe API with the standard library only (the CLI's wheel has no HTTP
library). The key comes from JANEDOE_API_KEY or a file, never from the command line (where `ps` and shell history
would show it), is sent only as a header, and never follows a redirect to another place.
"""

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from janedoe.errors import JaneDoeInputError

API_URL_ENV, API_KEY_ENV = "JANEDOE_API_URL", "JANEDOE_API_KEY"
DEFAULT_API_URL = "http://127.0.0.1:8000"

ApiUrlOption = Annotated[str, typer.Option(
    "--api-url", envvar=API_URL_ENV, show_envvar=True, help="The janedoe API's base URL.")]
KeyFileOption = Annotated[Path | None, typer.Option(
    "--key-file", help=f"A file holding the API key (default: the {API_KEY_ENV} variable).")]


class ServerRefused(Exception):
    """The server said no (4xx/5xx) or could not be reached: one line, CLI exit code 1."""


@dataclass(frozen=True)
class ApiClient:
    url: str
    key: str
    timeout: float = 300.0

    @classmethod
    def from_options(cls, api_url: str | None, key_file: Path | None) -> "ApiClient":
        from urllib.parse import urlsplit

        url = (api_url or DEFAULT_API_URL).rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise JaneDoeInputError("must be an http:// or https:// URL without credentials", where="--api-url")
        return cls(url, _key(key_file))

    def get(self, path: str) -> bytes:
        return self._send("GET", path)

    def get_json(self, path: str):
        return json.loads(self.get(path))

    def post_json(self, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        return json.loads(self._send("POST", path, data, "application/json" if data is not None else None))

    def post_form(self, path: str, fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]):
        data, content_type = multipart(fields, files)
        return json.loads(self._send("POST", path, data, content_type))

    def _send(self, method: str, path: str, data: bytes | None = None, content_type: str | None = None) -> bytes:
        import urllib.error
        import urllib.request

        headers = {"Authorization": f"Bearer {self.key}", "Accept": "application/json, */*"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        opener = urllib.request.build_opener(_NoRedirects())
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            raise ServerRefused(_refusal(error.code, error.read())) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error.__class__.__name__
            raise ServerRefused(f"cannot reach {self.url}: {reason}") from None


def _key(key_file: Path | None) -> str:
    if key_file is not None:
        try:
            key = key_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            raise JaneDoeInputError(f"cannot read the key file ({getattr(error, 'strerror', None) or 'not text'})",
                                    where=str(key_file)) from None
        where = str(key_file)
    else:
        key, where = os.environ.get(API_KEY_ENV, "").strip(), API_KEY_ENV
        if not key:
            raise JaneDoeInputError(f"no API key: set {API_KEY_ENV} or give --key-file", where=API_KEY_ENV)
    if not key or any(character.isspace() or not character.isprintable() for character in key):
        raise JaneDoeInputError("does not hold one API key", where=where)
    return key


def _refusal(status: int, body: bytes) -> str:
    try:
        payload = json.loads(body)
        message = f"{payload['message']} ({payload['code']})"
    except (ValueError, KeyError, TypeError):
        message = "no details"
    return f"the server refused ({status}): {' '.join(message.split())}"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body and its content type."""
    import secrets

    boundary = f"janedoe-{secrets.token_hex(16)}"
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + value.encode() + b"\r\n")
    for name, (filename, data, media_type) in files.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                     f"Content-Type: {media_type}\r\n\r\n".encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _no_redirects_class():
    import urllib.request

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        """A redirect is an error: following one would send the key wherever the server pointed."""

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            return None

    return NoRedirects


def _NoRedirects():  # noqa: N802  (builds the handler class on first use: urllib.request loads only then)
    return _no_redirects_class()()


def quoted(value: str, *, keep_slashes: bool = False) -> str:
    """A job id (one path segment) or an output name (its slashes kept) for the URL."""
    from urllib.parse import quote

    return quote(value, safe="/" if keep_slashes else "")
