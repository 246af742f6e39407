"""Connect Mastodon: the instance form, the start (registering Cadence on the instance
once) and the callback. Registered before the other platforms' connect routes, whose
paths it shares; the flow's state keeps the instance (its `secret`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.channels.models import Channel
from app.connect import service, states
from app.connect.flow import Context, authorize_url, exchange_code, http_client
from app.connect.mastodon import (
    PROVIDER,
    instance_origin,
    mastodon_picks,
    register_app,
    store_app,
    stored_app,
)
from app.connect.providers import AppSettings, Pick, redirect_uri
from app.connect.states import FlowRefused
from app.db import transaction
from app.deps import no_nul_in_url
from app.runtime import Runtime
from app.web.infrastructure import (
    FormDep,
    PageAdmin,
    PageBriefAdmin,
    PageError,
    csrf_protect,
    redirect,
    render,
    runtime_of,
    web_session,
)

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)


def _refusal(exc: FlowRefused) -> PageError:
    return PageError(400, exc.title, exc.detail)


@router.get("/channels/connect/mastodon")
def instance_form(request: Request, user: PageAdmin) -> Response:
    context = {"instance": "", "error": None, "authorize": None}
    return render(request, "connect_mastodon.html", context, user=user)


def _known_app(runtime: Runtime, instance: str) -> AppSettings | None:
    redirect_to = redirect_uri(runtime.settings, "mastodon")
    with runtime.read_sessions() as session:
        return stored_app(session, instance=instance, redirect=redirect_to, box=runtime.box)


def _keep_app(runtime: Runtime, instance: str, app: AppSettings) -> None:
    with transaction(runtime.sessions) as session:
        store_app(
            session,
            instance=instance,
            redirect=redirect_uri(runtime.settings, "mastodon"),
            app=app,
            box=runtime.box,
            now=runtime.clock.now(),
        )


async def _app_for(runtime: Runtime, instance: str) -> AppSettings:
    """Cadence's client on the instance: the kept one, else registered now and kept."""
    app = await run_in_threadpool(_known_app, runtime, instance)
    if app is None:
        app = await register_app(runtime.settings, instance)
        await run_in_threadpool(_keep_app, runtime, instance, app)
    return app


def _start(
    runtime: Runtime, instance: str, secret: str, user_id: str, channel_id: str | None = None
) -> states.Started:
    with transaction(runtime.sessions) as session:
        return states.begin(
            session,
            platform="mastodon",
            session_secret=secret,
            user_id=user_id,
            channel_id=channel_id,
            box=runtime.box,
            now=runtime.clock.now(),
            secret=instance,  # no PKCE at Mastodon: the state's secret is the instance
        )


@router.post("/channels/connect/mastodon")
async def start(request: Request, user: PageBriefAdmin, form: FormDep) -> Response:
    runtime = runtime_of(request)
    typed = form.get("instance")
    typed = typed if isinstance(typed, str) else ""
    try:
        instance = instance_origin(typed, runtime.settings.outbound_policy())
        app = await _app_for(runtime, instance)
    except FlowRefused as exc:
        context = {
            "instance": typed[:255],
            "error": f"{exc.title}. {exc.detail}",
            "authorize": None,
        }
        return render(request, "connect_mastodon.html", context, user=user, status=400)
    started = await run_in_threadpool(_start, runtime, instance, web_session(request).csrf, user.id)
    url = authorize_url(
        PROVIDER,
        app,
        state=started.state,
        verifier=started.verifier,
        redirect=redirect_uri(runtime.settings, "mastodon"),
    )
    # A page with the link, not a redirect: the CSP's form-action 'self' stops a form
    # post from being redirected to another site.
    context = {"instance": instance, "error": None, "authorize": url}
    return render(request, "connect_mastodon.html", context, user=user)


def _instance_of(runtime: Runtime, channel_id: str) -> str:
    with runtime.read_sessions() as session:
        channel = session.get(Channel, channel_id)
        instance = channel.config.get("instance") if channel is not None else None
    if not isinstance(instance, str) or not instance:
        raise FlowRefused("No instance to sign in at", "Connect the account again instead.")
    return instance


async def reconnect_start(request: Request, user: Any, channel_id: str) -> Response:
    """Reconnect a Mastodon channel: the sign-in at the channel's own instance, the
    channel updated in place (same id) at the callback."""
    runtime = runtime_of(request)
    try:
        instance = await run_in_threadpool(_instance_of, runtime, channel_id)
        app = await _app_for(runtime, instance)
    except FlowRefused as exc:
        raise _refusal(exc) from None
    csrf = web_session(request).csrf
    started = await run_in_threadpool(_start, runtime, instance, csrf, user.id, channel_id)
    url = authorize_url(
        PROVIDER,
        app,
        state=started.state,
        verifier=started.verifier,
        redirect=redirect_uri(runtime.settings, "mastodon"),
    )
    # A link followed (GET), not a form post: a redirect to the instance is allowed.
    return RedirectResponse(url, status_code=303)


def _take(runtime: Runtime, state: str, secret: str) -> states.Taken:
    with transaction(runtime.sessions) as session:
        return states.take(
            session,
            state=state,
            platform="mastodon",
            session_secret=secret,
            box=runtime.box,
            now=runtime.clock.now(),
        )


async def _picks(runtime: Runtime, instance: str, code: str) -> list[Pick]:
    app = await run_in_threadpool(_known_app, runtime, instance)
    if app is None:
        raise FlowRefused("Mastodon did not connect", "Start again from the Channels page.")
    async with http_client(runtime.settings) as http:
        answer = await exchange_code(
            http,
            PROVIDER,
            app,
            code=code,
            verifier="",
            redirect=redirect_uri(runtime.settings, "mastodon"),
        )
        return await mastodon_picks(Context(http, PROVIDER, app, runtime.clock.now()), answer)


def _create(runtime: Runtime, picks: list[Pick], channel_id: str | None) -> list[Channel]:
    with transaction(runtime.sessions) as session:
        if channel_id is not None and picks:
            return [
                service.reconnect(
                    session,
                    channel_id=channel_id,
                    pick=picks[0],
                    box=runtime.box,
                    now=runtime.clock.now(),
                    outbound=runtime.settings.outbound_policy(),
                )
            ]
        return service.create_channels(
            session,
            platform="mastodon",
            picks=picks,
            box=runtime.box,
            now=runtime.clock.now(),
            outbound=runtime.settings.outbound_policy(),
        )


@router.get("/channels/connect/mastodon/callback")
async def callback(
    request: Request, user: PageAdmin, state: str = "", code: str = "", error: str = ""
) -> Response:
    runtime = runtime_of(request)
    try:
        taken = await run_in_threadpool(_take, runtime, state, web_session(request).csrf)
        if error or not code:
            raise FlowRefused(
                "Mastodon did not connect",
                "You (or the instance) did not allow Cadence to post. Nothing was created.",
            )
        picks = await _picks(runtime, taken.secret, code)
        made: list[Any] = await run_in_threadpool(_create, runtime, picks, taken.channel_id)
    except FlowRefused as exc:
        raise _refusal(exc) from None
    return redirect(f"/channels/{made[0].id}", notice="connected")
