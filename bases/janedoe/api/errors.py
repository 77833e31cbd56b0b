"""Every error leaves as JSON {"code", "message"}: a stable code, a human message, never a traceback or a data value."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from janedoe.errors import BudgetExceededError, JaneDoeInputError, NotFoundError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("janedoe.api")

# A budget refusal is 409 Conflict: the request is well-formed and authorized, but conflicts with the ledger's state.
BUDGET_EXCEEDED_STATUS = 409
# Analysis jobs: a review step on a job in the wrong state conflicts (409); too many jobs waiting is 429; a stored
# output whose bytes no longer match their recorded hash is the server's failure (500), never served.
_CODE_STATUS = {"job_state": 409, "too_many_jobs": 429, "output_tampered": 500}


class ErrorOut(BaseModel):
    code: str
    message: str


ERROR_RESPONSES = {
    status: {"model": ErrorOut, "description": description}
    for status, description in {
        400: "bad input (file, policy, query, parameters)",
        401: "no API key, or an unknown or revoked one",
        403: "not allowed for this key (admin endpoints) or this role (the policy does not name it)",
        404: "no such dataset, job, key or budget",
        409: "privacy budget exceeded (nothing spent), or a job not done yet or not in a state for this step",
        413: "request body over the limit",
        429: "rate limit for this key exceeded, or too many analysis jobs waiting",
        500: "a stored output no longer matches its recorded hash (refused), or a bug",
        504: "a synchronous call took too long",
    }.items()
}


class ApiError(Exception):
    """An HTTP-level refusal from the base itself (auth, limits)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_body(code: str, message: str) -> dict:
    return {"code": code, "message": message}


def status_for(error: JaneDoeInputError) -> int:
    if isinstance(error, NotFoundError):
        return 404
    if isinstance(error, BudgetExceededError):
        return BUDGET_EXCEEDED_STATUS
    if error.code == "role_not_allowed":
        return 403
    return _CODE_STATUS.get(error.code, 400)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, error: ApiError):
        return JSONResponse(error_body(error.code, error.message), status_code=error.status, headers=error.headers)

    @app.exception_handler(JaneDoeInputError)
    async def _input_error(_request: Request, error: JaneDoeInputError):
        return JSONResponse(error_body(error.code, str(error)), status_code=status_for(error))

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(_request: Request, error: RequestValidationError):
        # Only where and what kind of problem: pydantic's `input` would echo the caller's values back.
        problems = [f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()[:5]]
        return JSONResponse(error_body("invalid_request", "; ".join(problems)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, error: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
        return JSONResponse(error_body(code, str(error.detail)), status_code=error.status_code)

    @app.exception_handler(Exception)
    async def _bug(_request: Request, error: Exception):
        log.exception("internal error")
        return JSONResponse(error_body("internal_error", "internal error; please report it"), status_code=500)
