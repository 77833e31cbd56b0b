"""Runs one command in a bubblewrap sandbox under resource limits, and says how it ended.

When the runner is root, each job gets a fresh host uid (never 0, never shared with another job): bwrap runs as that
uid, so RLIMIT_NPROC bounds the job's processes and threads, and nothing the job does is done as root. Otherwise
the job runs as the runner's own uid inside the same namespaces. All of the job's processes live in one PID
namespace: killing its first process kills them all, including those that called setsid or ignore SIGTERM.
"""

import json
import os
import secrets
import select
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from janedoe.errors import JaneDoeInputError
from janedoe.sandbox.command import build_command
from janedoe.sandbox.job_log import JobLog
from janedoe.sandbox.job_processes import kill_all, pid_namespace, tasks_in_namespace, tasks_under
from janedoe.sandbox.outcome import classify, exit_code_of
from janedoe.sandbox.output_folder import hand_back
from janedoe.sandbox.settings import ResourceLimits, SandboxMounts, SandboxOutcome

TICK_SECONDS = 0.1
LOG_LIMIT_BYTES = 1 * 2**20
TMP_BYTES = 256 * 2**20
_FRESH_UIDS = (1 << 24, 1 << 30)  # far above login users and the usual subordinate-uid ranges


def run_in_sandbox(
    argv: list[str],
    mounts: SandboxMounts,
    limits: ResourceLimits,
    *,
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cancel: threading.Event | None = None,
    log_limit_bytes: int = LOG_LIMIT_BYTES,
    tmp_bytes: int = TMP_BYTES,
) -> SandboxOutcome:
    """Runs argv (sandbox paths, e.g. job_command(entry)) and returns its outcome; never raises for what the job did."""
    for path, where in ((mounts.code_dir, "code_dir"), (mounts.output_dir, "output_dir")):
        if not Path(path).is_dir():
            raise JaneDoeInputError("is not a folder", where=where)
    host_uid = _fresh_uid() if os.geteuid() == 0 else None
    if host_uid is not None:
        for name, path in [("code_dir", mounts.code_dir), *((f"data.{k}", v) for k, v in mounts.data.items())]:
            _check_world_readable(Path(path), name)
    info_read, info_write = os.pipe2(os.O_CLOEXEC)
    log_read, log_write = os.pipe2(os.O_CLOEXEC)
    try:
        command = build_command(
            argv, mounts, limits, env=env, host_uid=host_uid, info_fd=info_write, tmp_bytes=tmp_bytes
        )
    except BaseException:
        for fd in (info_read, info_write, log_read, log_write):
            os.close(fd)
        raise
    try:
        log = JobLog(log_read, log_path, log_limit_bytes)
    except BaseException:
        command.close()
        for fd in (info_read, info_write, log_read, log_write):
            os.close(fd)
        raise
    owners = _lend_to_job(mounts, host_uid)
    process = None
    reaped = False
    started = time.monotonic()
    try:
        process = subprocess.Popen(
            command.argv,
            stdin=subprocess.DEVNULL,
            stdout=log_write,
            stderr=log_write,
            pass_fds=[*command.fds, info_write],
            start_new_session=True,
            env={"PATH": "/usr/bin:/bin"},
        )
        os.close(log_write)
        os.close(info_write)
        log_write = info_write = -1
        command.close()
        watch = _Watch(process.pid, info_read, limits, cancel)
        killed_for, saw_process_cap = watch.until_exit(started)
        _, status, usage = os.wait4(process.pid, 0)
        reaped = True
        process.returncode = os.waitstatus_to_exitcode(status)  # already reaped: keeps Popen from waiting again
        kill_all(watch.namespace, owner_uid=host_uid)
        seconds = time.monotonic() - started
    finally:
        if process is not None and not reaped:  # the runner itself failed: the job must not outlive it
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait()
        command.close()
        for fd in (info_read, info_write, log_write):
            if fd >= 0:
                os.close(fd)
        log.close()
        _take_back(mounts, owners)
    if killed_for is not None:
        return SandboxOutcome(killed_for, None, seconds, Path(log_path))
    exit_code = exit_code_of(os.waitstatus_to_exitcode(status))
    state = classify(
        exit_code,
        tail=log.tail,
        cpu_seconds_used=usage.ru_utime + usage.ru_stime,
        cpu_limit=limits.cpu_seconds,
        saw_process_cap=saw_process_cap,
    )
    return SandboxOutcome(state, exit_code, seconds, Path(log_path))


class _Watch:
    """Wall clock, cancel and the process cap, checked every tick until bwrap exits."""

    def __init__(self, pid: int, info_fd: int, limits: ResourceLimits, cancel: threading.Event | None) -> None:
        self.pid = pid
        self.info_fd = info_fd
        self.info = b""
        self.sandbox_init: int | None = None
        self.namespace: str | None = None
        self.limits = limits
        self.cancel = cancel

    def until_exit(self, started: float) -> tuple[str | None, bool]:
        pidfd = os.pidfd_open(self.pid)
        watched = [pidfd, self.info_fd]
        saw_cap = False
        try:
            while True:
                ready, _, _ = select.select(watched, [], [], TICK_SECONDS)
                if self.info_fd in ready:
                    chunk = os.read(self.info_fd, 4096)
                    if chunk:
                        self.info += chunk
                        self._learn_namespace()
                    else:
                        watched.remove(self.info_fd)
                if pidfd in ready:
                    return None, saw_cap
                reason = None
                if self.cancel is not None and self.cancel.is_set():
                    reason = "cancelled"
                elif time.monotonic() - started > self.limits.wall_seconds:
                    reason = "wall_limit"
                elif self.sandbox_init is not None:
                    tasks = sum(tasks_under(self.pid).values()) - 2  # minus bwrap and its reaper (PID 1)
                    if tasks >= self.limits.max_processes:
                        saw_cap = True
                        reason = "process_limit"
                if reason is not None:
                    self._kill()
                    select.select([pidfd], [], [], 10)
                    return reason, saw_cap
        finally:
            os.close(pidfd)

    def _learn_namespace(self) -> None:
        if self.namespace is not None:
            return
        try:
            self.sandbox_init = int(json.loads(self.info.decode())["child-pid"])
        except (ValueError, KeyError, TypeError):
            return
        self.namespace = pid_namespace(self.sandbox_init)

    def _kill(self) -> None:
        """The sandbox's PID 1 first (the kernel then kills its whole namespace), then bwrap's process group."""
        for kill, target in ((os.kill, self.sandbox_init), (os.killpg, self.pid)):
            if target is not None:
                try:
                    kill(target, signal.SIGKILL)
                except OSError:
                    pass


def _fresh_uid() -> int:
    while True:
        uid = _FRESH_UIDS[0] + secrets.randbelow(_FRESH_UIDS[1] - _FRESH_UIDS[0])
        if not tasks_in_namespace("-", owner_uid=uid):
            return uid


def _check_world_readable(path: Path, where: str) -> None:
    """The job's fresh uid reads only what everyone may read: say so now rather than fail inside the job."""
    paths = [path]
    if path.is_dir():
        paths += [Path(root) / name for root, dirs, files in os.walk(path) for name in [*dirs, *files]]
    for item in paths:
        info = os.lstat(item)
        needed = (stat.S_IROTH | stat.S_IXOTH) if stat.S_ISDIR(info.st_mode) else stat.S_IROTH
        if not stat.S_ISLNK(info.st_mode) and info.st_mode & needed != needed:
            relative = item.relative_to(path).as_posix() if item != path else ""
            raise JaneDoeInputError(
                "must be readable by everyone (o+r, folders o+rx): the job runs as an unprivileged user",
                where=f"{where}/{relative}".rstrip("/"),
            )


def _lend_to_job(mounts: SandboxMounts, host_uid: int | None) -> list[tuple[Path, int, int]]:
    """The job's uid owns the output folder (and the broker socket) while it runs."""
    if host_uid is None:
        return []
    owners = []
    for path in (mounts.output_dir, mounts.broker_socket):
        if path is not None:
            info = os.lstat(path)
            owners.append((Path(path), info.st_uid, info.st_gid))
            os.chown(path, host_uid, host_uid, follow_symlinks=False)
    return owners


def _take_back(mounts: SandboxMounts, owners: list[tuple[Path, int, int]]) -> None:
    for path, uid, gid in owners:
        if path == Path(mounts.output_dir):
            hand_back(path, uid, gid)
        elif os.path.lexists(path):
            os.chown(path, uid, gid, follow_symlinks=False)
