"""create_app(): the FastAPI application, its error answers and its lifespan."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import router as api_router
from app.config import get_settings
from app.errors import Conflict, InvalidInput, NotFound
from app.exchange import IMPORT_PATHS
from app.integrity import violated_field
from app.limits import BodyLimit, BodyTooLarge, too_large_body
from app.media.storage import MULTIPART_OVERHEAD
from app.media.views import files_router as media_files_router
from app.openapi import declare_error_responses
from app.runtime import Runtime
from app.web import install as install_web_pages

log = logging.getLogger(__name__)


def _clean(errors: Any) -> list[dict[str, Any]]:
    # FastAPI echoes the offending input; it may hold credentials, so drop it.
    return [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in errors]


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _clean(exc.errors())}, status_code=422)

    @app.exception_handler(InvalidInput)
    async def _invalid(_: Request, exc: InvalidInput) -> JSONResponse:
        return JSONResponse({"detail": [p.as_dict() for p in exc.problems]}, status_code=422)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        if exc.field is None:
            return JSONResponse({"detail": exc.message}, status_code=409)
        detail = [{"loc": ["body", exc.field], "msg": exc.message, "type": "conflict"}]
        return JSONResponse({"detail": detail}, status_code=409)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # Services check first; a violation still here raced them or predates a rule.
        field = violated_field(exc)
        if field is None:
            return JSONResponse({"detail": "conflicts with stored data"}, status_code=409)
        detail = [{"loc": ["body", field], "msg": f"this {field} is taken", "type": "conflict"}]
        return JSONResponse({"detail": detail}, status_code=409)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_: Request, exc: BodyTooLarge) -> Response:
        return Response(too_large_body(exc.limit), status_code=413, media_type="application/json")


def create_app(runtime: Runtime | None = None, *, scheduler: bool = False) -> FastAPI:
    """The app. `scheduler=True` embeds the publishing scheduler in this process."""
    runtime = runtime or Runtime.build(get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        embedded = None
        if scheduler:
            from app.scheduler import Scheduler

            embedded = Scheduler(runtime)
            embedded.start()
        try:
            yield
        finally:
            if embedded is not None:
                await embedded.stop()

    app = FastAPI(
        title="Cadence",
        version="0.1.0",
        summary="Self-hosted post scheduler for communications teams",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    _install_error_handlers(app)
    app.include_router(api_router)
    app.include_router(media_files_router)
    install_web_pages(app, runtime)
    declare_error_responses(app)

    @app.get("/healthz", tags=["operations"])
    def healthz() -> JSONResponse:
        try:
            with runtime.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any database failure means "not healthy"
            log.warning("health check failed: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    settings = runtime.settings

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    def metrics(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        from app.metrics import render, scrape_allowed

        if not scrape_allowed(settings.metrics_token, request.headers.get("authorization")):
            return JSONResponse(
                {"detail": "metrics need 'Authorization: Bearer <CADENCE_METRICS_TOKEN>'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Response(render(runtime), media_type=CONTENT_TYPE_LATEST)

    def limit_for(path: str) -> int:
        if path in IMPORT_PATHS:
            return settings.max_import_bytes + MULTIPART_OVERHEAD
        return (
            settings.max_upload_bytes + MULTIPART_OVERHEAD
            if path.startswith(("/api/v1/media", "/web/media"))
            else settings.max_body_bytes
        )

    app.add_middleware(BodyLimit, limit_for=limit_for)
    # The client's address and scheme from X-Forwarded-For/-Proto, believed only from
    # CADENCE_FORWARDED_ALLOW_IPS (the proxy); `cadence serve` turns uvicorn's own off.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_list)
    return app
