"""Runs one command in a bubblewrap sandbox with resource limits; knows nothing of janedoe's data or privacy.

No network, a clean environment, a fresh unprivileged uid, the code read-only at /job, data read-only at /data/<name>,
/output the only writable bind (plus a private, size-capped /tmp), janedoe's Python environment read-only, and CPU,
memory, file size, process and wall-clock limits, each reported as its own outcome state. A seccomp filter refuses
new user namespaces and a few syscalls that only widen the kernel's reach (seccomp_filter.py).
"""

from janedoe.sandbox.availability import sandbox_available
from janedoe.sandbox.command import BROKER_SOCKET, SANDBOX_UID, basic_environment
from janedoe.sandbox.output_folder import output_files
from janedoe.sandbox.python_env import SANDBOX_PYTHON, job_command
from janedoe.sandbox.runner import run_in_sandbox
from janedoe.sandbox.settings import STATES, ResourceLimits, SandboxMounts, SandboxOutcome

__all__ = [
    "ResourceLimits",
    "SandboxMounts",
    "SandboxOutcome",
    "STATES",
    "job_command",
    "run_in_sandbox",
    "output_files",
    "sandbox_available",
    "basic_environment",
    "BROKER_SOCKET",
    "SANDBOX_PYTHON",
    "SANDBOX_UID",
]
