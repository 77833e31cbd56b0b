"""Submitted job folders, kept as content-addressed read-only copies: what runs is exactly what was submitted.

A folder (or a zip of one) is copied file by file into a temporary folder under the store, refusing links, special
files and anything over the size, file-count or folder-count caps (a zip's central directory is sized before it is
parsed: 600,000 empty entries fit in a 64 MiB body and take seconds and ~300 MiB just to list); its sha256 (over
sorted relative paths and file digests) names the stored copy, which is made read-only and renamed into place
atomically. The same folder submitted twice is stored once.
"""

import hashlib
import io
import os
import shutil
import stat
import struct
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from janedoe.analysis_jobs.manifest import safe_relative_path
from janedoe.errors import JaneDoeInputError

MAX_FOLDER_BYTES = 50 * 2**20
MAX_FOLDER_FILES = 500
MAX_FOLDER_DIRS = 500  # folders, given or implied by a file's path: each one is an inode and a walk step
_MAX_ZIP_ENTRY_BYTES = 1024  # of central directory per allowed entry (46 fixed, the rest name and extra fields)
_CHUNK = 1 << 20


def store_job_folder(source: Path | bytes, store_dir: Path, *, max_bytes: int = MAX_FOLDER_BYTES,
                     max_files: int = MAX_FOLDER_FILES, max_dirs: int = MAX_FOLDER_DIRS) -> tuple[str, Path]:
    """Copies a job folder (a path, or the bytes of a zip) into the store; returns (sha256, stored folder)."""
    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    staging: Path | None  # None once renamed into place
    staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=store_dir))
    try:
        if isinstance(source, (bytes, bytearray)):
            _copy_zip(bytes(source), staging, max_bytes, max_files, max_dirs)
        else:
            _copy_tree(Path(source), staging, max_bytes, max_files, max_dirs)
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


def _copy_tree(source: Path, staging: Path, max_bytes: int, max_files: int, max_dirs: int) -> None:
    if not source.is_dir() or source.is_symlink():
        raise JaneDoeInputError("the job folder must be a directory", where="job folder")
    total, count, folders = 0, 0, 0
    for directory, dirs, files in os.walk(source):
        for name in dirs + files:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, source)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                raise JaneDoeInputError("symlinks are not allowed in a job folder", where=f"job folder: {relative}")
            if stat.S_ISDIR(info.st_mode):
                folders += 1
                _check_folder_cap(folders, max_dirs, relative)
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


def _copy_zip(data: bytes, staging: Path, max_bytes: int, max_files: int, max_dirs: int) -> None:
    _check_zip_directory(data, max_files + max_dirs)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise JaneDoeInputError("not a zip file", where="job folder") from None
    total, count = 0, 0
    folders: set[str] = set()  # made so far, given or implied
    with archive:
        for member in archive.infolist():
            relative = safe_relative_path(member.filename.rstrip("/")) if member.filename.rstrip("/") else None
            if relative is None:
                raise JaneDoeInputError("a zip entry is absolute or leaves the folder", where="job folder (zip)")
            kind = stat.S_IFMT(member.external_attr >> 16)
            if member.is_dir():
                _make_folders(staging, relative, folders, max_dirs)
                continue
            if kind not in (0, stat.S_IFREG):
                raise JaneDoeInputError("only regular files are allowed in a job folder",
                                        where=f"job folder (zip): {relative}")
            if relative in folders:
                raise JaneDoeInputError("a zip entry is both a file and a folder",
                                        where=f"job folder (zip): {relative}")
            count += 1
            _check_caps(total + member.file_size, count, max_bytes, max_files, relative)
            parent = PurePosixPath(relative).parent
            if parent.name:
                _make_folders(staging, str(parent), folders, max_dirs)
            try:
                with archive.open(member) as reader, open(staging / relative, "xb") as writer:
                    total += _copy_capped(reader, writer, max_bytes - total, relative)
            except FileExistsError:
                raise JaneDoeInputError("the zip holds this file twice",
                                        where=f"job folder (zip): {relative}") from None
            except (zipfile.BadZipFile, EOFError, NotImplementedError):
                raise JaneDoeInputError("a zip entry cannot be read", where=f"job folder (zip): {relative}") from None


def _check_zip_directory(data: bytes, max_entries: int) -> None:
    """Refuses a zip listing more entries than the caps allow before zipfile parses them all into memory; the central
    directory's size is checked too, as zipfile reads entries until it is consumed, whatever the count field says."""
    listed = _central_directory_size(data)
    if listed is None:
        raise JaneDoeInputError("not a zip file", where="job folder")
    entries, size = listed
    if entries > max_entries or size > max_entries * _MAX_ZIP_ENTRY_BYTES:
        raise JaneDoeInputError(f"the zip has more than {max_entries} entries", where="job folder (zip)")


_END_RECORD = struct.Struct("<4s4H2LH")  # end of central directory (APPNOTE 4.3.16)
_ZIP64_LOCATOR = struct.Struct("<4sLQL")  # zip64 end of central directory locator (4.3.15)
_ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record (4.3.14)


def _central_directory_size(data: bytes) -> tuple[int, int] | None:
    """(entries, bytes) of the central directory from the zip's end records, without reading the directory; None
    when there is no end record, or a zip64 one that does not hold together."""
    at = data.rfind(b"PK\x05\x06", max(0, len(data) - _END_RECORD.size - 0xFFFF))
    if at < 0 or at + _END_RECORD.size > len(data):
        return None
    _, _, _, _, entries, size, _, _ = _END_RECORD.unpack_from(data, at)
    if entries != 0xFFFF and size != 0xFFFFFFFF:
        return entries, size
    locator_at = at - _ZIP64_LOCATOR.size
    if locator_at < 0 or data[locator_at:locator_at + 4] != b"PK\x06\x07":
        return None
    _, _, record_at, _ = _ZIP64_LOCATOR.unpack_from(data, locator_at)
    if record_at + _ZIP64_END_RECORD.size > locator_at or data[record_at:record_at + 4] != b"PK\x06\x06":
        return None
    fields = _ZIP64_END_RECORD.unpack_from(data, record_at)
    return fields[7], fields[8]


def _make_folders(staging: Path, relative: str, folders: set[str], max_dirs: int) -> None:
    """Makes `relative` and its missing parents, each counted against the folder cap (a file's path implies them)."""
    path = PurePosixPath(relative)
    for folder in [*reversed(path.parents[:-1]), path]:  # outermost first, without "."
        name = str(folder)
        if name in folders:
            continue
        _check_folder_cap(len(folders) + 1, max_dirs, relative)
        try:
            os.mkdir(staging / name)
        except FileExistsError:  # a file of that name came first
            raise JaneDoeInputError("a zip entry is both a file and a folder",
                                    where=f"job folder (zip): {name}") from None
        folders.add(name)


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


def _check_folder_cap(count: int, max_dirs: int, relative: str) -> None:
    if count > max_dirs:
        raise JaneDoeInputError(f"the job folder has more than {max_dirs} folders", where=f"job folder: {relative}")


def _make_read_only(folder: Path) -> None:
    for directory, _dirs, files in os.walk(folder):
        for name in files:
            os.chmod(os.path.join(directory, name), 0o444)
        os.chmod(directory, 0o555)


def _make_writable(folder: Path) -> None:
    for directory, _dirs, _files in os.walk(folder):
        os.chmod(directory, 0o755)
