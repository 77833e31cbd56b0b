"""Starts the real `janedoe-api serve` console script on 127.0.0.1 and a free port, for tests."""

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "janedoe-api")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    def __init__(self, state: str, *, data_dir: str | None = None, extra: list[str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.state, self.data_dir, self.extra = state, data_dir, extra or []
        self.env = {**os.environ, "JANEDOE_SECRET": "test-secret-0123456789abcdef", **(env or {})}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "ServerProcess":
        return self.launch().wait_ready()

    def launch(self) -> "ServerProcess":
        """Starts the process without waiting (to boot several servers in parallel)."""
        argv = [CONSOLE_SCRIPT, "serve", "--host", "127.0.0.1", "--port", str(self.port), "--state", self.state,
                *(["--data-dir", self.data_dir] if self.data_dir else []), *self.extra]
        self.process = subprocess.Popen(argv, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def wait_ready(self) -> "ServerProcess":
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not come up in 60 s")

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()

    def stderr_tail(self) -> str:
        return self.process.stderr.read().decode()[-2000:] if self.process.poll() is not None else ""
