"""Whether this machine can run sandboxed jobs, and if not, why in one line."""

import functools
import os
import shutil
import subprocess

from janedoe.sandbox.command import system_binds

_TOOLS = ("/usr/bin/bwrap", "/usr/bin/prlimit", "/usr/bin/setpriv")


def sandbox_available() -> str | None:
    """None when usable, else a one-line reason (e.g. "bwrap not installed")."""
    if shutil.which("bwrap") is None or not os.access("/usr/bin/bwrap", os.X_OK):
        return "bwrap not installed (apt-get install bubblewrap)"
    return _probe()


@functools.cache
def _probe() -> str | None:
    for tool in _TOOLS[1:]:
        if not os.access(tool, os.X_OK):
            return f"{tool} missing (util-linux)"
    if os.geteuid() == 0:
        probe = ["/usr/bin/bwrap", "--unshare-pid", "--unshare-net", "--cap-add", "CAP_SETUID", "--cap-add"]
        probe += ["CAP_SETGID", *system_binds(), "--proc", "/proc", "--", "/usr/bin/setpriv", "--reuid=65534"]
        probe += ["--regid=65534", "--clear-groups", "--", "/usr/bin/true"]
    else:
        probe = ["/usr/bin/bwrap", "--unshare-all", "--unshare-user", "--disable-userns", *system_binds()]
        probe += ["--proc", "/proc", "--", "/usr/bin/true"]
    try:
        result = subprocess.run(probe, capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap cannot start: {error}"
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        return f"bwrap cannot create its namespaces here: {message[-1] if message else result.returncode}"
    return None
