"""Saving files fetched from the API: the name must stay inside the target folder and the bytes match their sha256."""

import hashlib
import os
import tempfile
from pathlib import Path, PurePosixPath

from janedoe.cli.api_client import ServerRefused
from janedoe.errors import JaneDoeInputError


def target_path(directory: Path, name: str) -> Path:
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or "\\" in name or any(part in ("", ".", "..") for part in parts):
        raise ServerRefused(f"the server named an output {name!r} that would leave the download folder")
    return directory.joinpath(*parts)


def save_verified(directory: Path, name: str, data: bytes, sha256: str | None) -> Path:
    """Writes the bytes under directory/name (atomically), refusing them if they do not match the listed sha256."""
    if sha256 and hashlib.sha256(data).hexdigest() != sha256:
        raise ServerRefused(f"{name}: the downloaded bytes do not match their sha256; nothing written")
    path = target_path(directory, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(data, path)
    except OSError as error:
        raise JaneDoeInputError(f"cannot write ({error.strerror})", where=str(path)) from None
    return path


def _write_atomic(data: bytes, path: Path) -> None:
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
