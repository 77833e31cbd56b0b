"""The DP query broker: serves one sandboxed job's queries over a Unix socket, outside the sandbox.

The job never sees the real data in dp mode; it sends JSON lines (janedoe.job_client's protocol) and gets back answers
made by `answer`, which charges the author's budget before any noise is drawn. Whatever the job sends, it gets one
reply line per request and goes on: a malformed, oversized or refused request gets {"ok": false, "error": ...}
(an oversized one also ends the connection, since the rest of its line cannot be read as a request). After
`max_queries` requests every reply is an error. Answers are made one at a time, in order.

The socket lives in a private folder (mode 0700, made here if missing) and is itself mode 0600.
"""

import logging
import os
import socket
import socketserver
import stat
import threading
from collections.abc import Callable
from pathlib import Path

from janedoe.errors import JaneDoeInputError
from janedoe.job_client import MAX_REQUEST_BYTES, QueryRefused, encode_line, parse_request

log = logging.getLogger("janedoe.stage_one")
_SOCKET_PATH_MAX = 107  # sun_path is 108 bytes with its terminating NUL


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _private_folder(folder: Path) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        raise JaneDoeInputError("the broker socket's folder must be private (mode 0700, owned by this user)",
                                where="broker socket")


class _Connection(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        assert isinstance(self.server, _Server)  # the only server this handler is given
        broker = self.server.broker
        if not broker._opened(self.connection):
            self._send({"ok": False, "error": "too many connections to the query broker"})
            return
        try:
            while True:
                line = self.rfile.readline(MAX_REQUEST_BYTES + 1)
                if not line:
                    return
                if len(line) > MAX_REQUEST_BYTES:
                    broker._count_refused()
                    self._send({"ok": False, "error": f"request too large: at most {MAX_REQUEST_BYTES} bytes per line"})
                    return
                self._send(broker.reply(line))
        except OSError:
            return
        finally:
            broker._closed(self.connection)

    def _send(self, reply: dict) -> None:
        self.wfile.write(encode_line(reply))


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    broker: "QueryBroker"


class QueryBroker:
    """Serves DP queries to one sandboxed job over a Unix socket (JSON lines); each answer charged before it is made.

    `answered` holds every checked request with its reply ({"request": ..., "reply": ...}, refusals included), in
    order: the job's DP answers to release. Malformed requests and those past max_queries are not kept.
    """

    def __init__(self, socket_path: Path, answer: Callable[[str, str | None, float], dict], *,
                 max_queries: int = 1000, max_connections: int = 4) -> None:
        self.socket_path = Path(socket_path)
        self.answer, self.max_queries, self.max_connections = answer, max_queries, max_connections
        self.answered: list[dict] = []
        self.asked = 0
        self._lock = threading.Lock()  # one answer at a time; guards the counters and `answered`
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "QueryBroker":
        if len(os.fsencode(str(self.socket_path))) > _SOCKET_PATH_MAX:
            raise JaneDoeInputError(f"the socket path is longer than {_SOCKET_PATH_MAX} bytes", where="broker socket")
        _private_folder(self.socket_path.parent)
        if self.socket_path.exists() or self.socket_path.is_symlink():
            raise JaneDoeInputError("the broker socket path is already taken", where="broker socket")
        self._server = _Server(str(self.socket_path), _Connection)
        self._server.broker = self
        os.chmod(self.socket_path, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="janedoe-query-broker", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop serving, end open connections and remove the socket file."""
        if self._server is None:
            return
        self._server.shutdown()
        with self._connections_lock:
            for connection in self._connections:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._server.server_close()
        assert self._thread is not None  # started with the server
        self._thread.join()
        self._server = self._thread = None
        try:
            self.socket_path.unlink()
        except FileNotFoundError:
            pass

    def _opened(self, connection: socket.socket) -> bool:
        with self._connections_lock:
            if len(self._connections) >= self.max_connections:
                return False
            self._connections.add(connection)
            return True

    def _closed(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def _count_refused(self) -> None:
        with self._lock:
            self.asked += 1

    def reply(self, line: bytes) -> dict:
        """The reply to one request line (what the socket sends back); never raises for anything the job sends."""
        with self._lock:
            self.asked += 1
            if self.asked > self.max_queries:
                return {"ok": False, "error": f"this job has asked its maximum of {self.max_queries} queries"}
            try:
                request = parse_request(line)
            except QueryRefused as error:
                return {"ok": False, "error": _one_line(error)}
            try:
                reply = {"ok": True, "answer": self.answer(request["expression"], request["by"], request["epsilon"])}
            except JaneDoeInputError as error:  # refusals, budget exceeded included: nothing was released
                reply = {"ok": False, "error": _one_line(error)}
            except Exception:  # noqa: BLE001  (the job goes on; the details stay in the server's log)
                log.exception("query broker: answering failed")
                reply = {"ok": False, "error": "internal error: the query was not answered"}
            self.answered.append({"request": request, "reply": reply})
            return reply
