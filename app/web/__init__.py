"""The web pages for comms staff: server-rendered, served by the API's own app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.runtime import Runtime


def install(app: FastAPI, runtime: Runtime) -> None:
    """Mount the pages, their static files and their error pages on `app`."""
    from app.insights import page as insights_page
    from app.insights import redirects
    from app.web import (
        account_pages,
        alerts_page,
        calendar_page,
        channel_routes,
        connect_routes,
        coverage_page,
        feeds_page,
        import_page,
        mastodon_connect,
        planning_pages,
        post_routes,
        team_pages,  # team workflow
    )
    from app.web.infrastructure import HERE, WebState, install_handlers
    from app.web.sessions import Sessions

    sessions = Sessions(
        runtime.settings.secret_keys()[0],
        clock=runtime.clock,
        idle=runtime.settings.session_idle,
    )
    app.state.web = WebState(sessions=sessions)
    install_handlers(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for page in (
        account_pages,
        calendar_page,
        coverage_page,
        alerts_page,
        post_routes,
        channel_routes,
        # connecting accounts
        mastodon_connect,
        connect_routes,
        # team workflow
        team_pages,
        # planning
        planning_pages,
        # exchange
        # insights
        redirects,
        insights_page,
        import_page,
        feeds_page,
    ):
        app.include_router(page.router)
