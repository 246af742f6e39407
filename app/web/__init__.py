"""The web pages for comms staff: server-rendered, served by the API's own app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.runtime import Runtime


def install(app: FastAPI, runtime: Runtime) -> None:
    """Mount the pages, their static files and their error pages on `app`."""
    from app.web import channel_routes, post_routes, routes
    from app.web.auth import Sessions
    from app.web.pages import HERE, WebState, install_handlers

    app.state.web = WebState(sessions=Sessions(runtime.settings.secret_keys()[0]))
    install_handlers(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (routes.router, post_routes.router, channel_routes.router):
        app.include_router(router)
