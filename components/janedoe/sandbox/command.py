"""The bubblewrap command line of one job, and the small files (passwd, pyvenv.cfg, the seccomp program) it hands
bwrap as descriptors.

As root, bwrap itself runs as root, so it can bind paths under folders the job's uid cannot traverse (/root, a 0700
state folder); setpriv then drops the job to its fresh uid with no capabilities and no_new_privs before the job runs.
"""

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from janedoe.errors import JaneDoeInputError
from janedoe.sandbox.job_processes import tasks_in_namespace
from janedoe.sandbox.python_env import SANDBOX_VENV, current_python_environment
from janedoe.sandbox.seccomp_filter import seccomp_program
from janedoe.sandbox.settings import ResourceLimits, SandboxMounts

SANDBOX_UID = 1000  # the job's uid as seen inside (its host uid is a fresh one per job when the runner is root)
BROKER_SOCKET = "/run/janedoe/broker.sock"
_DATA_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# usr-merged systems make these symlinks into /usr; older layouts have real folders, bound read-only
_ROOT_FOLDERS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


@dataclass
class SandboxCommand:
    argv: list[str]
    fds: list[int] = field(default_factory=list)  # to pass to the child, closed by close()

    def close(self) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.fds.clear()


def basic_environment(limits: ResourceLimits) -> dict[str, str]:
    """The variables every job gets; nothing comes from the runner's own environment."""
    threads = str(max(1, min(4, limits.max_processes // 8)))  # BLAS pools sized by core count would hit the cap
    variables = {
        "PATH": f"{SANDBOX_VENV}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "MPLBACKEND": "Agg",
    }
    variables.update({name: threads for name in THREAD_VARIABLES})
    return variables


def build_command(
    argv: list[str],
    mounts: SandboxMounts,
    limits: ResourceLimits,
    *,
    env: Mapping[str, str] | None,
    host_uid: int | None,
    info_fd: int,
    tmp_bytes: int,
) -> SandboxCommand:
    """prlimit -> bwrap -> (when the runner is root: setpriv to host_uid) -> argv."""
    if not argv:
        raise JaneDoeInputError("the job has no command", where="argv")
    command = SandboxCommand(argv=[])
    try:
        command.argv = _limits_prefix(limits, host_uid) + _bwrap(
            argv, mounts, limits, env, command, info_fd, tmp_bytes, host_uid
        )
    except BaseException:
        command.close()
        raise
    return command


def _limits_prefix(limits: ResourceLimits, host_uid: int | None) -> list[str]:
    for name in ("cpu_seconds", "memory_bytes", "file_size_bytes", "max_processes", "wall_seconds"):
        if int(getattr(limits, name)) <= 0:
            raise JaneDoeInputError("must be a positive number", where=f"limits.{name}")
    # as root, only the job runs as its fresh uid. Otherwise the runner's threads, bwrap (2) and the runner's later
    # threads count too: a margin so the job itself can reach max_processes, where the runner ends it
    processes = limits.max_processes if host_uid is not None else limits.max_processes + _own_processes() + 8
    prefix = [
        "/usr/bin/prlimit",
        f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 2}",  # SIGXCPU at the soft limit, SIGKILL 2 s later
        f"--as={limits.memory_bytes}",
        f"--fsize={limits.file_size_bytes}",
        f"--nproc={processes}",
        "--core=0",
        "--",
    ]
    return prefix


def _bwrap(argv, mounts, limits, env, command: SandboxCommand, info_fd: int, tmp_bytes: int, host_uid) -> list[str]:
    def data_fd(content: str | bytes) -> str:
        fd = memory_file(content.encode() if isinstance(content, str) else content)
        command.fds.append(fd)
        return str(fd)

    made: set[str] = {"/", "/tmp", "/proc", "/dev", "/usr"}

    def bind(kind: str, host: Path, inside: str, where: str) -> list[str]:
        try:
            source = os.path.realpath(host, strict=True)
        except OSError as error:
            raise JaneDoeInputError(f"cannot open: {error.strerror}", where=where) from None
        return [*folders(Path(inside).parent), kind, source, inside]

    def folders(inside: Path) -> list[str]:
        """--dir for inside and its missing parents: bwrap would make them 0700, closed to the job's uid."""
        made_now = []
        for folder in [*reversed(inside.parents), inside]:
            if str(folder) not in made:
                made.add(str(folder))
                made_now += ["--perms", "0755", "--dir", str(folder)]
        return made_now

    if host_uid is None:  # bwrap runs as the runner's uid: its own user namespace, no nested ones
        uid = SANDBOX_UID
        args = ["/usr/bin/bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(uid)]
        args += ["--gid", str(uid)]
    else:  # bwrap runs as root to bind what only root can reach, then drops to the job's fresh uid
        uid = host_uid
        args = ["/usr/bin/bwrap", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        args += ["--cap-add", "CAP_SETPCAP"]
    args += ["--hostname", "sandbox", "--die-with-parent", "--new-session", "--clearenv"]
    args += ["--seccomp", data_fd(seccomp_program())]  # bwrap fails to start if the kernel refuses it
    args += system_binds()
    args += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", "/tmp"]
    args += folders(Path("/etc"))
    passwd = f"job:x:{uid}:{uid}:job:/tmp:/usr/sbin/nologin\n"
    args += ["--perms", "0444", "--ro-bind-data", data_fd(passwd), "/etc/passwd"]
    args += ["--perms", "0444", "--ro-bind-data", data_fd(f"job:x:{uid}:\n"), "/etc/group"]

    python = current_python_environment()
    for host, inside in python.binds:
        args += bind("--ro-bind", host, inside, "python environment")
    args += folders(Path(SANDBOX_VENV) / "bin")
    args += ["--perms", "0444", "--ro-bind-data", data_fd(python.pyvenv_cfg), f"{SANDBOX_VENV}/pyvenv.cfg"]
    for target, link in python.symlinks:
        args += ["--symlink", target, link]

    args += bind("--ro-bind", Path(mounts.code_dir), "/job", "code_dir")
    args += bind("--bind", Path(mounts.output_dir), "/output", "output_dir")
    args += folders(Path("/data"))
    for name, path in sorted(mounts.data.items()):
        if not _DATA_NAME.fullmatch(name) or name in (".", ".."):
            raise JaneDoeInputError("a data name is letters, digits, '_', '-' and '.'", where=f"data.{name[:40]}")
        args += bind("--ro-bind", Path(path), f"/data/{name}", f"data.{name}")
    if mounts.broker_socket is not None:
        args += bind("--bind", Path(mounts.broker_socket), BROKER_SOCKET, "broker_socket")

    variables = basic_environment(limits)
    variables.update(dict(python.variables))
    for name, value in (env or {}).items():
        if not _ENV_NAME.fullmatch(name) or "\0" in str(value):
            raise JaneDoeInputError("not a valid environment variable", where=f"env.{name[:40]}")
        variables[name] = str(value)
    for name, value in variables.items():
        args += ["--setenv", name, value]
    args += ["--chdir", "/job", "--info-fd", str(info_fd), "--"]
    if host_uid is not None:
        args += ["/usr/bin/setpriv", f"--reuid={host_uid}", f"--regid={host_uid}", "--clear-groups"]
        args += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return [*args, *argv]


def memory_file(content: bytes) -> int:
    """A descriptor reading content from its start: bwrap reads passwd, pyvenv.cfg and the filter from these."""
    fd = os.memfd_create("janedoe-sandbox", 0)
    try:
        os.write(fd, content)
        os.lseek(fd, 0, os.SEEK_SET)
    except BaseException:
        os.close(fd)
        raise
    return fd


def system_binds() -> list[str]:
    """/usr read-only, and /bin, /lib... as the host has them (symlinks into /usr, or read-only folders)."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in _ROOT_FOLDERS:
        host = f"/{name}"
        if os.path.islink(host):
            args += ["--symlink", os.readlink(host), host]
        elif os.path.isdir(host):
            args += ["--ro-bind", host, host]
    return args


def _own_processes() -> int:
    """Threads already running under the runner's uid: RLIMIT_NPROC counts them with the job's."""
    uid = os.getuid()
    return sum(tasks for pid, tasks in tasks_in_namespace("-", owner_uid=uid).items())
