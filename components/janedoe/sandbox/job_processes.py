"""Finding and killing every process of one job: all of them share the job's PID namespace (even after setsid)."""

import os
import signal
import time


def pid_namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def tasks_in_namespace(namespace: str, *, owner_uid: int | None = None) -> dict[int, int]:
    """{pid: number of threads} of the processes in the namespace (or, with owner_uid, whose real uid is that)."""
    found: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid_namespace(pid) != namespace and (owner_uid is None or _real_uid(pid) != owner_uid):
            continue
        fields = _stat_fields(pid)
        if fields is not None and fields[0] not in (b"Z", b"X"):  # the dead wait for their reaper, holding nothing
            found[pid] = int(fields[17])
    return found


def tasks_under(root_pid: int) -> dict[int, int]:
    """{pid: number of threads} of root_pid and all its descendants (world-readable: works without root).

    Orphans of a sandboxed job are adopted by the sandbox's PID 1, itself a descendant of bwrap, so nothing escapes.
    """
    children: dict[int, list[int]] = {}
    threads: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        fields = _stat_fields(int(name))
        if fields is None or fields[0] in (b"Z", b"X"):
            continue
        children.setdefault(int(fields[1]), []).append(int(name))
        threads[int(name)] = int(fields[17])
    found: dict[int, int] = {}
    pending = [root_pid]
    while pending:
        pid = pending.pop()
        if pid in threads and pid not in found:
            found[pid] = threads[pid]
            pending.extend(children.get(pid, []))
    return found


def kill_all(namespace: str | None, *, owner_uid: int | None = None, timeout: float = 5.0) -> bool:
    """SIGKILL every process of the job until none is left; True when none is left."""
    if namespace is None and owner_uid is None:
        return True
    deadline = time.monotonic() + timeout
    while True:
        left = tasks_in_namespace(namespace or "-", owner_uid=owner_uid)
        if not left:
            return True
        if time.monotonic() > deadline:
            return False
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)


def _stat_fields(pid: int) -> list[bytes] | None:
    """/proc/<pid>/stat after the command name: state, ppid, ... (num_threads at index 17)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat_file:
            fields = stat_file.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields if len(fields) > 17 else None


def _real_uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None
