"""What a job asks for: its resource limits, what is mounted where, and how it ended."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

STATES = (
    "succeeded",
    "failed",
    "cpu_limit",
    "memory_limit",
    "wall_limit",
    "file_size_limit",
    "process_limit",
    "cancelled",
)


@dataclass(frozen=True)
class ResourceLimits:
    """Per job. CPU, memory and file size are per process (rlimits); processes count threads too."""

    cpu_seconds: int = 300
    memory_bytes: int = 2 * 2**30
    file_size_bytes: int = 256 * 2**20
    max_processes: int = 64
    wall_seconds: int = 600


@dataclass(frozen=True)
class SandboxMounts:
    code_dir: Path  # read-only at /job, also the working directory
    output_dir: Path  # read-write at /output: the only writable place besides a private /tmp
    data: Mapping[str, Path] = field(default_factory=dict)  # each read-only at /data/<name>
    broker_socket: Path | None = None  # at /run/janedoe/broker.sock


@dataclass(frozen=True)
class SandboxOutcome:
    state: str  # one of STATES
    exit_code: int | None  # the job's exit code, -N when a signal N ended it, None when the runner killed it
    seconds: float
    log_path: Path  # stdout + stderr of the job, capped: shown to reviewers only
