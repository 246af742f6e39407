"""Connecting accounts with one click (admins): start a platform's sign-in, take its
answer, let the admin choose among several accounts, reconnect a channel in place.

Nothing is created unless the whole flow succeeds: a refusal, a bad code, a state
mismatch or a replayed answer shows a page saying so. Tokens go straight into the
credential box; none is logged, shown or put in a URL of ours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.channels.models import Channel
from app.config import Settings
from app.connect import service, states
from app.connect.flow import (
    authorize_url,
    oauth1_authorize_url,
    oauth1_picks,
    oauth1_request_token,
    picks_from_code,
)
from app.connect.mastodon import PROVIDER as MASTODON
from app.connect.providers import PROVIDERS, Pick, Provider, app_settings, redirect_uri
from app.connect.states import FlowRefused
from app.db import transaction
from app.deps import SessionDep, no_nul_in_url
from app.runtime import Runtime
from app.web import mastodon_connect
from app.web.infrastructure import (
    FormDep,
    PageAdmin,
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

# What the platform's `error` parameter means, in words for the admin.
PROVIDER_ERRORS = {
    "access_denied": "You (or the platform) did not allow Cadence to post for the account.",
    "user_cancelled_login": "The sign-in was cancelled.",
    "user_cancelled_authorize": "The sign-in was cancelled.",
}


def mastodon_panel(settings: Settings) -> dict[str, Any]:
    """Mastodon needs no app in the settings: Cadence registers itself per instance."""
    return {
        "platform": "mastodon",
        "label": MASTODON.label,
        "ready": True,
        "set_up": True,
        "redirect_uri": redirect_uri(settings, "mastodon"),
        "provider": MASTODON,
        "variable": "MASTODON",
    }


def connect_panel(settings: Settings) -> list[dict[str, Any]]:
    """Per platform: whether its Connect button works, its redirect URI and how-to."""
    return [
        {
            "platform": p.platform,
            "label": p.label,
            "ready": p.ready,
            "set_up": app_settings(settings, p.platform) is not None,
            "redirect_uri": redirect_uri(settings, p.platform),
            "provider": p,
            "variable": p.platform.upper(),
        }
        for p in PROVIDERS.values()
    ] + [mastodon_panel(settings)]


def can_reconnect(settings: Settings, platform: str) -> bool:
    """Whether a channel of `platform` can be reconnected with the platform's sign-in."""
    if platform == "mastodon":
        return True  # Cadence registers itself on each instance: no settings needed
    provider = PROVIDERS.get(platform)
    return provider is not None and provider.ready and app_settings(settings, platform) is not None


def _provider(platform: str, settings: Settings) -> tuple[Provider, Any]:
    provider = PROVIDERS.get(platform)
    if provider is None or not provider.ready:
        raise PageError(
            404, "No Connect button for this platform", "Add the channel with its form instead."
        )
    app = app_settings(settings, platform)
    if app is None:
        raise PageError(
            409,
            f"{provider.label} is not set up",
            f"Set CADENCE_{platform.upper()}_CLIENT_ID and CADENCE_{platform.upper()}_CLIENT_SECRET "
            "first; the Channels page says how.",
        )
    return provider, app


def _start(
    runtime: Runtime, platform: str, secret: str, user_id: str, channel_id: str | None
) -> states.Started:
    with transaction(runtime.sessions) as session:
        return states.begin(
            session,
            platform=platform,
            session_secret=secret,
            user_id=user_id,
            channel_id=channel_id,
            box=runtime.box,
            now=runtime.clock.now(),
        )


def _keep_secret(runtime: Runtime, state: str, secret: str) -> None:
    with transaction(runtime.sessions) as session:
        states.set_secret(session, state=state, secret=secret, box=runtime.box)


async def _begin(
    request: Request, platform: str, user: Any, channel_id: str | None
) -> RedirectResponse:
    runtime = runtime_of(request)
    provider, app = _provider(platform, runtime.settings)
    secret = web_session(request).csrf
    started = await run_in_threadpool(_start, runtime, platform, secret, user.id, channel_id)
    redirect = redirect_uri(runtime.settings, platform)
    if provider.request_token_url is None:
        url = authorize_url(
            provider, app, state=started.state, verifier=started.verifier, redirect=redirect
        )
        return RedirectResponse(url, status_code=303)
    # OAuth 1.0a has no `state`: it rides in our callback URL, and the request token's
    # secret is kept with it.
    try:
        token, token_secret = await oauth1_request_token(
            runtime.settings, provider, app, callback=f"{redirect}?state={started.state}"
        )
    except FlowRefused as exc:
        raise _refusal(exc) from None
    await run_in_threadpool(_keep_secret, runtime, started.state, f"{token}\n{token_secret}")
    return RedirectResponse(oauth1_authorize_url(provider, app, token), status_code=303)


@router.get("/channels/connect/{platform}")
async def connect(platform: str, request: Request, user: PageAdmin) -> Response:
    return await _begin(request, platform, user, None)


def _platform_of(runtime: Runtime, channel_id: str) -> str | None:
    with runtime.read_sessions() as session:
        channel = session.get(Channel, channel_id)
        return channel.platform if channel is not None else None


@router.get("/channels/{channel_id}/reconnect")
async def reconnect(channel_id: str, request: Request, user: PageAdmin) -> Response:
    runtime = runtime_of(request)
    platform = await run_in_threadpool(_platform_of, runtime, channel_id)
    if platform is None:
        raise PageError(404, "No such channel", f"There is no channel {channel_id}.")
    if platform == "mastodon":  # the sign-in at the channel's own instance
        return await mastodon_connect.reconnect_start(request, user, channel_id)
    return await _begin(request, platform, user, channel_id)


def _refusal(exc: FlowRefused) -> PageError:
    return PageError(400, exc.title, exc.detail)


def _take(runtime: Runtime, platform: str, state: str, secret: str) -> states.Taken:
    with transaction(runtime.sessions) as session:
        return states.take(
            session,
            state=state,
            platform=platform,
            session_secret=secret,
            box=runtime.box,
            now=runtime.clock.now(),
        )


def _apply(
    runtime: Runtime, platform: str, taken: states.Taken, picks: list[Pick]
) -> list[Channel] | None:
    """Reconnect, create the one channel, or keep the picks for the chooser (None)."""
    provider = PROVIDERS[platform]
    now = runtime.clock.now()
    outbound = runtime.settings.outbound_policy()
    with transaction(runtime.sessions) as session:
        if taken.channel_id is not None and len(picks) == 1:
            return [
                service.reconnect(
                    session,
                    channel_id=taken.channel_id,
                    pick=picks[0],
                    box=runtime.box,
                    now=now,
                    outbound=outbound,
                )
            ]
        if provider.chooser or len(picks) > 1:
            states.store_picks(
                session,
                flow_id=taken.flow_id,
                picks=[service.pick_to_dict(p) for p in picks],
                box=runtime.box,
            )
            return None
        return service.create_channels(
            session, platform=platform, picks=picks, box=runtime.box, now=now, outbound=outbound
        )


async def _picks(
    runtime: Runtime,
    provider: Provider,
    app: Any,
    taken: states.Taken,
    code: str,
    error: str,
    oauth_token: str,
) -> list[Pick]:
    """What the platform's answer opens: the code exchanged (OAuth 2), or the verifier
    with the request token it belongs to (OAuth 1.0a)."""
    if error or not code:
        words = PROVIDER_ERRORS.get(error, f"{provider.label} sent no authorization.")
        raise FlowRefused(f"{provider.label} did not connect", f"{words} Nothing was created.")
    if provider.request_token_url is not None:
        token, _, token_secret = taken.secret.partition("\n")
        if not token or oauth_token != token:
            raise FlowRefused(
                "This sign-in link is not valid", "The answer names another request token."
            )
        return await oauth1_picks(
            runtime.settings,
            provider,
            app,
            request_token=token,
            request_secret=token_secret,
            verifier=code,
        )
    return await picks_from_code(
        runtime.settings,
        provider.platform,
        app,
        code=code,
        verifier=taken.secret,
        redirect=redirect_uri(runtime.settings, provider.platform),
        now=runtime.clock.now(),
    )


@router.get("/channels/connect/{platform}/callback")
async def callback(
    platform: str,
    request: Request,
    user: PageAdmin,
    state: str = "",
    code: str = "",
    error: str = "",
    oauth_token: str = "",
    oauth_verifier: str = "",
) -> Response:
    runtime = runtime_of(request)
    provider, app = _provider(platform, runtime.settings)
    secret = web_session(request).csrf
    try:
        taken = await run_in_threadpool(_take, runtime, platform, state, secret)
        picks = await _picks(
            runtime, provider, app, taken, code or oauth_verifier, error, oauth_token
        )
        made = await run_in_threadpool(_apply, runtime, platform, taken, picks)
    except FlowRefused as exc:
        raise _refusal(exc) from None
    if made is None:
        return redirect(f"/channels/connect/{platform}/choose?flow={taken.flow_id}")
    if len(made) == 1:
        return redirect(f"/channels/{made[0].id}", notice="connected")
    return redirect("/channels", notice="connected")


def _offer(
    runtime: Runtime, platform: str, flow: str, secret: str, *, finish: bool
) -> tuple[str | None, list[Pick]]:
    with transaction(runtime.sessions) as session:
        row, picks = states.picks_of(
            session,
            flow_id=flow,
            platform=platform,
            session_secret=secret,
            box=runtime.box,
            now=runtime.clock.now(),
            finish=finish,
        )
        return row.channel_id, [service.pick_from_dict(p) for p in picks]


@router.get("/channels/connect/{platform}/choose")
def choose(platform: str, request: Request, user: PageAdmin, flow: str = "") -> Response:
    runtime = runtime_of(request)
    provider, _ = _provider(platform, runtime.settings)
    try:
        channel_id, picks = _offer(runtime, platform, flow, web_session(request).csrf, finish=False)
    except FlowRefused as exc:
        raise _refusal(exc) from None
    return render(
        request,
        "connect_choose.html",
        {"provider": provider, "picks": picks, "flow": flow, "reconnect": channel_id},
        user=user,
    )


def _chosen(
    session: Session, runtime: Runtime, platform: str, flow: str, secret: str, keys: list[str]
) -> list[Channel]:
    """In the request's own transaction (a POST's holds the write lock on SQLite): the
    offer is used up only if the choice makes its channels."""
    now: datetime = runtime.clock.now()
    outbound = runtime.settings.outbound_policy()
    row, raw = states.picks_of(
        session,
        flow_id=flow,
        platform=platform,
        session_secret=secret,
        box=runtime.box,
        now=now,
        finish=True,
    )
    chosen = [service.pick_from_dict(p) for p in raw if p.get("key") in keys]
    if not chosen or (row.channel_id is not None and len(chosen) != 1):
        raise FlowRefused("Choose what to connect", "Tick one (to reconnect: exactly one).")
    if row.channel_id is not None:
        return [
            service.reconnect(
                session,
                channel_id=row.channel_id,
                pick=chosen[0],
                box=runtime.box,
                now=now,
                outbound=outbound,
            )
        ]
    return service.create_channels(
        session, platform=platform, picks=chosen, box=runtime.box, now=now, outbound=outbound
    )


@router.post("/channels/connect/{platform}/choose")
def choose_post(
    platform: str, request: Request, session: SessionDep, user: PageAdmin, form: FormDep
) -> Response:
    runtime = runtime_of(request)
    _provider(platform, runtime.settings)
    flow = form.get("flow")
    keys = [k for k in form.getlist("pick") if isinstance(k, str)]
    try:
        with session.begin_nested():
            made = _chosen(
                session,
                runtime,
                platform,
                flow if isinstance(flow, str) else "",
                web_session(request).csrf,
                keys,
            )
    except FlowRefused as exc:
        raise _refusal(exc) from None
    if len(made) == 1:
        return redirect(f"/channels/{made[0].id}", notice="connected")
    return redirect("/channels", notice="connected")
