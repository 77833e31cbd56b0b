"""The FastAPI app: one router per area, error handlers, the body size limit."""

from contextlib import asynccontextmanager

from fastapi import FastAPI
from janedoe.api import (
    analysis_jobs_routes,
    datasets_routes,
    dp_routes,
    jobs_routes,
    kanon_routes,
    keys_routes,
    mask_routes,
    review_routes,
    sql_datasets_routes,
    stage_one_routes,
    web_routes,
)
from janedoe.api.errors import ERROR_RESPONSES, install_error_handlers
from janedoe.api.limits import BodySizeLimit
from janedoe.api.request_log import RequestLog
from janedoe.api.services import Services
from janedoe.api.settings import ApiSettings

API_VERSION = "1"


def create_app(settings: ApiSettings) -> FastAPI:
    services = Services.start(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        services.close()

    app = FastAPI(
        title="janedoe API",
        version=API_VERSION,
        description="Role-based masking, k-anonymity, a shared differential-privacy budget and synthetic data.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    app.state.services = services
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestLog)  # added last: outermost, so it sees every answer, a 413 included
    for module in _area_routers():
        app.include_router(module.router)

    @app.get("/v1/health", tags=["health"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _area_routers():
    return [keys_routes, datasets_routes, sql_datasets_routes, mask_routes, dp_routes, kanon_routes, jobs_routes,
            stage_one_routes, analysis_jobs_routes, review_routes, web_routes]
