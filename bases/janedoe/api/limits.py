"""Request limits: body size (checked while reading, not trusted from headers), per-key rate, call timeouts."""

import asyncio
import threading
import time
from collections.abc import Callable

from fastapi.concurrency import run_in_threadpool
from janedoe.api.errors import ApiError


class BodySizeLimit:
    """ASGI middleware: refuses a body over the limit with 413, by Content-Length or by counting streamed bytes."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await _send_413(send, self.max_bytes)
        seen = 0
        exceeded = False
        response_started = False

        async def counting_receive():
            # Over the limit, the app is told the client went away; its own answer is dropped and 413 sent instead.
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            nonlocal response_started
            if exceeded:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not response_started:
            await _send_413(send, self.max_bytes)


async def _send_413(send, max_bytes: int) -> None:
    body = f'{{"code":"body_too_large","message":"request body over {max_bytes} bytes"}}'.encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """A token bucket per API key, in this process (N processes allow up to N times the rate)."""

    def __init__(self, per_second: float, burst: int) -> None:
        self.per_second, self.burst = per_second, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, key_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.per_second)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                retry = max(1, int((1.0 - tokens) / self.per_second + 0.999))
                raise ApiError(429, "rate_limited", "too many requests for this API key; slow down",
                               headers={"Retry-After": str(retry)})
            self._buckets[key_id] = (tokens - 1.0, now)


async def call_with_timeout(seconds: float, function: Callable, *args, **kwargs):
    """Runs a blocking component call in the thread pool; the client gets 504 when it takes too long.

    Python cannot kill the thread: the work finishes in the background and its result is dropped. Spends made by a
    timed-out DP query stay spent (spend first, answer after).
    """
    try:
        return await asyncio.wait_for(run_in_threadpool(function, *args, **kwargs), timeout=seconds)
    except TimeoutError:
        raise ApiError(504, "timeout", f"the call took longer than {seconds:g} s") from None
