"""Submitted job folders, kept as content-addressed read-only copies: what runs is exactly what was submitted.

A folder (or a zip of one) is copied file by file into a temporary folder under the store, refusing links, special
files and anything over the size or file-count caps; its sha256 (over sorted relative paths and file digests) names the
stored copy, which is made read-only and renamed into place atomically. The same folder submitted twice is stored once.
"""

import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from janedoe.analysis_jobs.manifest import safe_relative_path
from janedoe.errors import JaneDoeInputError

MAX_FOLDER_BYTES = 50 * 2**20
MAX_FOLDER_FILES = 500
_CHUNK = 1 << 20


def store_job_folder(source: Path | bytes, store_dir: Path, *, max_bytes: int = MAX_FOLDER_BYTES,
                     max_files: int = MAX_FOLDER_FILES) -> tuple[str, Path]:
    """Copies a job folder (a path, or the bytes of a zip) into the store; returns (sha256, stored folder)."""
    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    staging: Path | None  # None once renamed into place
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=store_dir))
    try:
        if isinstance(source, (bytes, bytearray)):
            _copy_zip(bytes(source), staging, max_bytes, max_files)
        else:
            _copy_tree(Path(source), staging, max_bytes, max_files)
        digest = folder_sha256(staging)
        target = store_dir / digest
        if target.is_dir():
            return digest, target
        _make_read_only(staging)
        try:
            os.rename(staging, target)
        except OSError:  # another submission of the same folder won the rename
            if not target.is_dir():
                raise
            return digest, target
        staging = None
        return digest, target
    finally:
        if staging is not None and staging.exists():
            _make_writable(staging)
            shutil.rmtree(staging, ignore_errors=True)


def folder_sha256(folder: Path) -> str:
    """A digest of the folder's regular files: relative paths and contents, in sorted order."""
    outer = hashlib.sha256()
    for relative in sorted(_regular_files(Path(folder))):
        outer.update(relative.encode() + b"\x00" + file_sha256(Path(folder) / relative).encode() + b"\n")
    return outer.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _regular_files(folder: Path) -> list[str]:
    found = []
    for directory, _dirs, files in os.walk(folder):
        for name in files:
            found.append(os.path.relpath(os.path.join(directory, name), folder).replace(os.sep, "/"))
    return found


def _copy_tree(source: Path, staging: Path, max_bytes: int, max_files: int) -> None:
    if not source.is_dir() or source.is_symlink():
        raise JaneDoeInputError("the job folder must be a directory", where="job folder")
    total, count = 0, 0
    for directory, dirs, files in os.walk(source):
        for name in dirs + files:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, source)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                raise JaneDoeInputError("symlinks are not allowed in a job folder", where=f"job folder: {relative}")
            if stat.S_ISDIR(info.st_mode):
                (staging / relative).mkdir()
                continue
            if not stat.S_ISREG(info.st_mode):
                raise JaneDoeInputError("only regular files are allowed in a job folder",
                                        where=f"job folder: {relative}")
            count += 1
            total += info.st_size
            _check_caps(total, count, max_bytes, max_files, relative)
            with open(path, "rb") as reader, open(staging / relative, "xb") as writer:
                copied = _copy_capped(reader, writer, max_bytes - (total - info.st_size), relative)
            total += copied - info.st_size  # the file may have grown since lstat


def _copy_zip(data: bytes, staging: Path, max_bytes: int, max_files: int) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise JaneDoeInputError("not a zip file", where="job folder") from None
    total, count = 0, 0
    with archive:
        for member in archive.infolist():
            relative = safe_relative_path(member.filename.rstrip("/")) if member.filename.rstrip("/") else None
            if relative is None:
                raise JaneDoeInputError("a zip entry is absolute or leaves the folder", where="job folder (zip)")
            kind = stat.S_IFMT(member.external_attr >> 16)
            if member.is_dir():
                (staging / relative).mkdir(parents=True, exist_ok=True)
                continue
            if kind not in (0, stat.S_IFREG):
                raise JaneDoeInputError("only regular files are allowed in a job folder",
                                        where=f"job folder (zip): {relative}")
            count += 1
            _check_caps(total + member.file_size, count, max_bytes, max_files, relative)
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            for parent in PurePosixPath(relative).parents:  # a file and a folder of the same name
                if (staging / parent).is_file():
                    raise JaneDoeInputError("a zip entry is both a file and a folder", where="job folder (zip)")
            try:
                with archive.open(member) as reader, open(target, "xb") as writer:
                    total += _copy_capped(reader, writer, max_bytes - total, relative)
            except FileExistsError:
                raise JaneDoeInputError("the zip holds this file twice",
                                        where=f"job folder (zip): {relative}") from None
            except (zipfile.BadZipFile, EOFError, NotImplementedError):
                raise JaneDoeInputError("a zip entry cannot be read", where=f"job folder (zip): {relative}") from None


def _copy_capped(reader, writer, room: int, relative: str) -> int:
    copied = 0
    while chunk := reader.read(_CHUNK):
        copied += len(chunk)
        if copied > room:
            raise JaneDoeInputError("the job folder is larger than this service allows",
                                    where=f"job folder: {relative}")
        writer.write(chunk)
    return copied


def _check_caps(total: int, count: int, max_bytes: int, max_files: int, relative: str) -> None:
    if count > max_files:
        raise JaneDoeInputError(f"the job folder has more than {max_files} files", where=f"job folder: {relative}")
    if total > max_bytes:
        raise JaneDoeInputError(f"the job folder is larger than {max_bytes >> 20} MiB", where=f"job folder: {relative}")


def _make_read_only(folder: Path) -> None:
    for directory, _dirs, files in os.walk(folder):
        for name in files:
            os.chmod(os.path.join(directory, name), 0o444)
        os.chmod(directory, 0o555)


def _make_writable(folder: Path) -> None:
    for directory, _dirs, _files in os.walk(folder):
        os.chmod(directory, 0o755)
