"""query(): through the broker's socket in stage 2 dp mode, else exact on the job's local table (stage 1, review)."""

import io
import json
import os
import socket
import threading

from janedoe.job_client.protocol import QueryRefused, check_epsilon, encode_line, parse_request

BROKER_SOCKET_ENV = "JANEDOE_BROKER_SOCKET"
MAX_REPLY_BYTES = 64 * 2**20


class BrokerClient:
    """One connection to the broker, opened on first use and reused for every query (thread-safe)."""

    def __init__(self, socket_path: str, *, timeout: float | None = None) -> None:
        self.socket_path, self.timeout = socket_path, timeout
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._replies: io.BufferedReader | None = None  # the socket's reading side, opened with it


    def ask(self, request: dict) -> dict:
        """The broker's answer dict; QueryRefused with its one-line error; ConnectionError if it went away."""
        line = encode_line(request)
        with self._lock:
            if self._socket is None:
                connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                connection.settimeout(self.timeout)
                try:
                    connection.connect(self.socket_path)
                except OSError:
                    connection.close()
                    raise ConnectionError("cannot reach the query broker") from None
                self._socket, self._replies = connection, connection.makefile("rb")
            replies = self._replies
            assert replies is not None  # opened together with the socket
            try:
                self._socket.sendall(line)
                reply_line = replies.readline(MAX_REPLY_BYTES)
            except OSError:
                self._close()
                raise ConnectionError("lost the connection to the query broker") from None
            if not reply_line.endswith(b"\n"):
                self._close()
                raise ConnectionError("the query broker closed the connection")
        reply = json.loads(reply_line)
        if not reply.get("ok"):
            raise QueryRefused(str(reply.get("error") or "the broker refused the query"))
        return reply["answer"]

    def _close(self) -> None:
        for closable in (self._replies, self._socket):
            if closable is not None:
                closable.close()
        self._socket = self._replies = None

    def close(self) -> None:
        with self._lock:
            self._close()


_clients: dict[str, BrokerClient] = {}
_clients_lock = threading.Lock()


def _client(socket_path: str) -> BrokerClient:
    with _clients_lock:
        client = _clients.get(socket_path)
        if client is None:
            client = _clients[socket_path] = BrokerClient(socket_path)
        return client


def query(expression: str, *, by: str | None = None, epsilon: float) -> dict:
    """A query's answer dict (query, mechanism, cost, value or groups, ci_95, noise, notes).

    Stage 2 dp mode: a noisy answer on the real data, charged to the job author's budget before it is made. Otherwise
    an exact answer on the table in JANEDOE_DATA_DIR, marked "stage" (the job's JANEDOE_JOB_STAGE, "1" by default):
    in stage 1 an exact answer on DP synthetic data, free and noiseless. A refusal raises QueryRefused in both.
    """
    request = {"expression": expression, "by": by, "epsilon": check_epsilon(epsilon)}
    socket_path = os.environ.get(BROKER_SOCKET_ENV)
    if socket_path:
        return _client(socket_path).ask(request)
    checked = parse_request(encode_line(request))  # the broker's own checks: a call refused there fails here too
    from janedoe.errors import JaneDoeInputError
    from janedoe.job_client.exact_answers import exact_answer  # numpy and pyarrow, only when a query runs locally

    try:
        return exact_answer(checked["expression"], checked["by"])
    except JaneDoeInputError as error:
        raise QueryRefused(str(error)) from None
