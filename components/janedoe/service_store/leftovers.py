"""What a crash leaves in the data dir: upload dirs (full raw copies of callers' files) and half-written `*.tmp` files.

An upload dir holds an flock on its `.lock` file for as long as its request lives, so a dir whose lock is free
belongs to a dead process, whichever worker or host it was. Temp files carry no lock: one left untouched for an hour
is abandoned (writers rewrite theirs batch by batch).
"""

import contextlib
import fcntl
import os
import shutil
import time

UPLOAD_DIR_PREFIX = ".upload-"
_LOCK_FILE = ".lock"
_STALE_SECONDS = 3600.0


def hold_upload_lock(directory: str) -> int | None:
    """Locks a fresh upload dir for this process; the lock ends with the returned fd (closed, or the process gone).

    None when a sweep took the dir between its creation and the lock (the caller makes another).
    """
    path = os.path.join(directory, _LOCK_FILE)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # a sweep holds it while removing the dir
        os.close(fd)
        return None
    if not os.path.exists(path):
        os.close(fd)
        return None
    return fd


def remove_leftovers(data_dir: str, *, stale_seconds: float = _STALE_SECONDS) -> int:
    """Removes abandoned upload dirs and stale temp files under data_dir (and its jobs/ dir); returns how many."""
    removed = 0
    cutoff = time.time() - stale_seconds
    for directory in (data_dir, os.path.join(data_dir, "jobs")):
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.name.startswith(UPLOAD_DIR_PREFIX) and entry.is_dir(follow_symlinks=False):
                removed += _remove_if_abandoned(entry.path, cutoff)
            elif entry.name.endswith(".tmp") and entry.is_file(follow_symlinks=False) and _older(entry.path, cutoff):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(entry.path)
                    removed += 1
    return removed


def _remove_if_abandoned(directory: str, cutoff: float) -> int:
    try:
        fd = os.open(os.path.join(directory, _LOCK_FILE), os.O_RDWR)
    except FileNotFoundError:  # no lock yet (being created) or never one: only an old dir is abandoned
        if not _older(directory, cutoff):
            return 0
        shutil.rmtree(directory, ignore_errors=True)
        return 1
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # a live request owns it
        os.close(fd)
        return 0
    try:
        shutil.rmtree(directory, ignore_errors=True)
    finally:
        os.close(fd)
    return 1


def _older(path: str, cutoff: float) -> bool:
    try:
        return os.stat(path, follow_symlinks=False).st_mtime < cutoff
    except FileNotFoundError:
        return False
