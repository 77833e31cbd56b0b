"""Copies a job's stdout+stderr into its log file, up to a cap, keeping the tail in memory to tell why it ended."""

import os
import threading
from pathlib import Path

TAIL_BYTES = 16 * 1024


class JobLog:
    def __init__(self, read_fd: int, log_path: Path, limit_bytes: int) -> None:
        self.tail = b""
        self.truncated = False
        self._read_fd = read_fd
        self._limit = limit_bytes
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed by the copying thread)
        self._thread = threading.Thread(target=self._copy, name="sandbox-log", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        written = 0
        with self._log as log, os.fdopen(self._read_fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                self.tail = (self.tail + chunk)[-TAIL_BYTES:]
                if written < self._limit:
                    piece = chunk[: self._limit - written]
                    log.write(piece)
                    written += len(piece)
                    log.flush()
                elif not self.truncated:
                    self.truncated = True
                    log.write(f"\n[janedoe: log truncated at {self._limit} bytes]\n".encode())
                    log.flush()

    def close(self, timeout: float = 5.0) -> None:
        """Waits until every writer (all of the job's processes) has closed the pipe."""
        self._thread.join(timeout)
