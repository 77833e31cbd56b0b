"""Which limit ended a job, told from how it ended: its signal, the runner's own kill, or its last words.

A job's last words are its own, so a job can make itself look like it hit a limit: that only mislabels its own
failure. The runner's kills (wall clock, process cap, cancel) are never guessed.
"""

import signal

_MEMORY_WORDS = (b"MemoryError", b"Cannot allocate memory", b"std::bad_alloc", b"Unable to allocate", b"out of memory")
_FILE_SIZE_WORDS = (b"File too large", b"[Errno 27]")
_PROCESS_WORDS = (b"Resource temporarily unavailable", b"can't start new thread", b"[Errno 11]", b"Cannot fork")


def exit_code_of(status: int) -> int:
    """bwrap's own exit status: the job's code, or 128 + N when signal N ended the job."""
    if hasattr(signal, "Signals") and status > 128 and (status - 128) in {s.value for s in signal.Signals}:
        return -(status - 128)
    return status


def classify(exit_code: int, *, tail: bytes, cpu_seconds_used: float, cpu_limit: int, saw_process_cap: bool) -> str:
    if exit_code == 0:
        return "succeeded"
    if exit_code == -signal.SIGXCPU or (exit_code == -signal.SIGKILL and cpu_seconds_used >= cpu_limit - 0.5):
        return "cpu_limit"
    if exit_code == -signal.SIGXFSZ or _says(tail, _FILE_SIZE_WORDS):
        return "file_size_limit"
    if _says(tail, _MEMORY_WORDS):
        return "memory_limit"
    if saw_process_cap or _says(tail, _PROCESS_WORDS):
        return "process_limit"
    return "failed"


def _says(tail: bytes, words: tuple[bytes, ...]) -> bool:
    last = tail[-4096:]
    return any(word in last for word in words)
