"""Whether this machine can run sandboxed jobs, and if not, why in one line."""

import functools
import os
import shutil
import subprocess

from janedoe.sandbox.command import memory_file, system_binds
from janedoe.sandbox.seccomp_filter import seccomp_program

_TOOLS = ("/usr/bin/bwrap", "/usr/bin/prlimit", "/usr/bin/setpriv")


def sandbox_available() -> str | None:
    """None when usable, else a one-line reason (e.g. "bwrap not installed")."""
    if shutil.which("bwrap") is None or not os.access("/usr/bin/bwrap", os.X_OK):
        return "bwrap not installed (apt-get install bubblewrap)"
    return probe_sandbox(seccomp_program())


@functools.cache
def probe_sandbox(program: bytes) -> str | None:
    """Starts /usr/bin/true the way jobs start, under the seccomp program: a kernel refusing it is reported here."""
    for tool in _TOOLS[1:]:
        if not os.access(tool, os.X_OK):
            return f"{tool} missing (util-linux)"
    seccomp_fd = memory_file(program)
    if os.geteuid() == 0:
        probe = ["/usr/bin/bwrap", "--unshare-pid", "--unshare-net", "--cap-add", "CAP_SETUID", "--cap-add"]
        probe += ["CAP_SETGID", "--seccomp", str(seccomp_fd), *system_binds(), "--proc", "/proc", "--"]
        probe += ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", "/usr/bin/true"]
    else:
        probe = ["/usr/bin/bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--seccomp"]
        probe += [str(seccomp_fd), *system_binds(), "--proc", "/proc", "--", "/usr/bin/true"]
    try:
        result = subprocess.run(
            probe, capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"}, pass_fds=[seccomp_fd]
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap cannot start: {error}"
    finally:
        os.close(seccomp_fd)
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        message = lines[-1] if lines else str(result.returncode)
        if "seccomp" in message.lower():
            return f"the kernel refuses the sandbox's seccomp filter: {message}"
        return f"bwrap cannot create its namespaces here: {message}"
    return None
