"""The output folder after a job: only regular files come out, and they go back to the runner's ownership."""

import os
import stat
from pathlib import Path

from janedoe.errors import JaneDoeInputError


def output_files(output_dir: Path) -> list[Path]:
    """The regular files under output_dir, sorted; anything that could point elsewhere is refused.

    A symlink (to /etc/shadow or the real data), a hard link (a second name of a file the job should not hand out),
    a device, fifo or socket: JaneDoeInputError naming the relative path. Nothing is followed.
    """
    root = Path(output_dir)
    top = os.lstat(root)
    if not stat.S_ISDIR(top.st_mode):
        raise JaneDoeInputError("the output folder is not a folder", where="output")
    found: list[Path] = []
    pending = [root]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                path = Path(entry.path)
                where = f"output/{path.relative_to(root).as_posix()}"
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    pending.append(path)
                elif stat.S_ISLNK(info.st_mode):
                    raise JaneDoeInputError("a symbolic link is not an output", where=where)
                elif not stat.S_ISREG(info.st_mode):
                    raise JaneDoeInputError("only regular files are outputs (a device, fifo or socket)", where=where)
                elif info.st_nlink > 1:
                    raise JaneDoeInputError("a hard-linked file is not an output", where=where)
                else:
                    found.append(path)
    return sorted(found)


def hand_back(output_dir: Path, uid: int, gid: int) -> None:
    """Gives everything the job wrote to uid:gid, without following links, and drops setuid/setgid bits.

    Called only once no process of the job is left, so nothing can swap a file for a link meanwhile.
    """
    pending = [Path(output_dir)]
    os.chown(output_dir, uid, gid, follow_symlinks=False)
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                info = entry.stat(follow_symlinks=False)
                os.chown(entry.path, uid, gid, follow_symlinks=False)
                if stat.S_ISLNK(info.st_mode):
                    continue
                if info.st_mode & (stat.S_ISUID | stat.S_ISGID):
                    os.chmod(entry.path, stat.S_IMODE(info.st_mode) & 0o777)
                if stat.S_ISDIR(info.st_mode):
                    pending.append(Path(entry.path))
