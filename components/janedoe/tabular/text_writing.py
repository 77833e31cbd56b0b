"""Atomic writes of small text outputs (policies, JSON reports, HTML): a temp file beside the target, then a rename,
so a crash never leaves a half-written file where a finished one is expected."""

import os
import tempfile
from pathlib import Path

from janedoe.errors import JaneDoeInputError


def write_text_atomic(text: str, path: str | Path) -> None:
    """Write `text` (UTF-8) to `path`: the old file or the new one is there, never half of either."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise JaneDoeInputError("the output directory does not exist", where=str(target))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as sink:
            sink.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
