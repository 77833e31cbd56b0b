"""Private temp dirs for uploads inside the data dir, locked for as long as their request lives."""

import os
import shutil
import tempfile
import weakref

from janedoe.errors import JaneDoeInputError
from janedoe.service_store.leftovers import UPLOAD_DIR_PREFIX, hold_upload_lock
from janedoe.service_store.store import StateStore


class UploadDir:
    """A private temp directory for uploads inside the data dir (same filesystem), removed with everything in it.

    It stays locked while this object lives, so a start-up sweep (remove_leftovers) removes only dirs of dead processes.
    """

    def __init__(self, state: StateStore) -> None:
        base = state.datasets.data_dir
        if base is None:
            raise JaneDoeInputError("this server has no data directory for uploads", where="--data-dir")
        while True:
            self.path = tempfile.mkdtemp(prefix=UPLOAD_DIR_PREFIX, dir=base)
            lock = hold_upload_lock(self.path)
            if lock is not None:
                break
        self._unlock = weakref.finalize(self, os.close, lock)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self._unlock()

    def file(self, filename: str) -> str:
        """A path for an uploaded file, keeping only the extension of the client's name (never its directories)."""
        extension = os.path.splitext(os.path.basename(filename or ""))[1].lower()[:12]
        return os.path.join(self.path, f"upload{extension}")

    def __enter__(self) -> "UploadDir":
        return self

    def __exit__(self, *_exc) -> None:
        self.remove()
