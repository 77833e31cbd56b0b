"""API-key authentication: `Authorization: Bearer <key>` or `X-API-Key: <key>`. No key 401; not allowed 403.

Dataset reads go by the key's role; managing keys and datasets needs an admin key; the stateless tools (/v1/mask,
/v1/kanon/*: CPU-heavy work on the caller's own uploads, unrelated to any dataset the role may read) need a key with
the `tools` permission, or an admin key.
"""

import threading
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from janedoe.api.errors import ApiError
from janedoe.service_store import Principal

_bearer = HTTPBearer(auto_error=False, description="an API key from `janedoe-api keys create`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)


class KeyCache:
    """Verified keys for a few seconds, so a hot client does not cost one database read per request.

    A revoked key stops working within `seconds` on every process.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Principal | None]:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def put(self, key: str, principal: Principal | None) -> None:
        with self._lock:
            if len(self._entries) > 10_000:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.seconds, principal)


async def current_principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_header)],
) -> Principal:
    presented = bearer.credentials if bearer is not None else header_key
    if not presented:
        raise ApiError(401, "unauthenticated", "an API key is required", headers={"WWW-Authenticate": "Bearer"})
    services = request.app.state.services
    known, principal = services.key_cache.get(presented)
    if not known:
        principal = await run_in_threadpool(services.state.keys.verify, presented)
        services.key_cache.put(presented, principal)
    if principal is None:
        raise ApiError(401, "unauthenticated", "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    services.rate_limiter.check(principal.key_id)
    request.state.analyst = principal.name  # for the request's log line
    return principal


async def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.admin:
        raise ApiError(403, "forbidden", "this endpoint needs an admin key")
    return principal


async def tools_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.tools:
        raise ApiError(403, "forbidden", "this endpoint needs a key with the tools permission (keys create --tools)")
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
Admin = Annotated[Principal, Depends(admin_principal)]
ToolUser = Annotated[Principal, Depends(tools_principal)]
