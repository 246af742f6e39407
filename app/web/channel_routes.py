"""Channels: the list, adding one with its platform's form, its page (edit, replace
credentials, disable, alerts), and testing its connection."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from app.channels import service as channels
from app.channels.checks import check_channel
from app.channels.models import Channel
from app.channels.schemas import ChannelCreate, ChannelTestResult, ChannelUpdate
from app.db import transaction
from app.deps import NowDep, SessionDep, no_nul_in_url
from app.errors import FieldProblem, InvalidInput, NotFound, problems_from_pydantic
from app.team import trail
from app.users.models import Role, User
from app.web.channel_forms import fields, shown_value, values_from
from app.web.connect_routes import can_reconnect, connect_panel
from app.web.infrastructure import (
    FormDep,
    PageAdmin,
    PageBriefAdmin,
    PageError,
    PageViewer,
    csrf_protect,
    field_errors,
    redirect,
    render,
    runtime_of,
)
from connectors.registry import PLATFORMS, get_platform

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(no_nul_in_url), Depends(csrf_protect)]
)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _specs(platform_name: str) -> dict[str, Any]:
    platform = get_platform(platform_name)
    return {
        "platform": platform,
        "config_fields": fields(platform.config_model, "config"),
        "credential_fields": fields(platform.credentials_model, "credentials"),
    }


def _is_admin(user: User) -> bool:
    return Role(user.role) == Role.admin


def _channel(session: SessionDep, channel_id: str) -> Channel:
    try:
        return channels.get(session, channel_id)
    except NotFound:
        raise PageError(404, "No such channel", f"There is no channel {channel_id}.") from None


@router.get("/channels")
def channels_page(request: Request, session: SessionDep, user: PageViewer) -> Response:
    found, _ = channels.list_(session, platform=None, status=None, limit=1000, offset=0)
    box = runtime_of(request).box
    reveal = _is_admin(user)
    return render(
        request,
        "channels.html",
        {
            "channels": [channels.to_out(c, box, reveal=reveal, listed=True) for c in found],
            "platforms": PLATFORMS,
            "connect": connect_panel(runtime_of(request).settings),
        },
        user=user,
        session=session,
    )


@router.get("/channels/new")
def new_channel(
    request: Request, session: SessionDep, user: PageAdmin, platform: str = "webhook"
) -> Response:
    if platform not in PLATFORMS:
        platform = "webhook"
    return render(
        request,
        "channel_new.html",
        {
            "platforms": PLATFORMS,
            "chosen": platform,
            "values": {},
            "errors": {},
            "shown": shown_value,
            **_specs(platform),
        },
        user=user,
        session=session,
    )


@router.post("/channels/new")
def create_channel(
    request: Request, session: SessionDep, now: NowDep, user: PageAdmin, form: FormDep
) -> Response:
    platform_name = _text(form, "platform")
    if platform_name not in PLATFORMS:
        raise PageError(422, "Unknown platform", f"Cadence has no platform {platform_name!r}.")
    specs = _specs(platform_name)
    config = values_from(form, specs["config_fields"])
    body = {
        "name": _text(form, "name"),
        "platform": platform_name,
        "config": config,
        "credentials": values_from(form, specs["credential_fields"]),
        "receives_alerts": "receives_alerts" in form,
    }
    if _text(form, "audience"):
        body["audience"] = _text(form, "audience")
    problems: list[FieldProblem] = []
    try:
        data = ChannelCreate.model_validate(body)
        with session.begin_nested():
            runtime = runtime_of(request)
            created = channels.create(
                session,
                data=data,
                box=runtime.box,
                now=now,
                outbound=runtime.settings.outbound_policy(),
            )
    except ValidationError as exc:
        problems = problems_from_pydantic(exc, ("body",))
    except InvalidInput as exc:
        problems = exc.problems
    if problems:
        return render(
            request,
            "channel_new.html",
            {
                "platforms": PLATFORMS,
                "chosen": platform_name,
                "values": {
                    **config,
                    "name": body["name"],
                    "audience": body.get("audience"),
                    "receives_alerts": body["receives_alerts"],
                },
                "errors": field_errors(problems),
                "shown": shown_value,
                **specs,
            },
            user=user,
            session=session,
            status=422,
        )
    trail.channel_changed(
        session,
        runtime_of(request).box,
        user,
        created.id,
        None,
        created,
        now,
        bool(data.credentials),
    )
    return redirect(f"/channels/{created.id}", notice="channel")


def _channel_page(
    request: Request,
    session: Any,
    user: User,
    channel: Channel,
    *,
    errors: dict[str, list[str]] | None = None,
    tested: ChannelTestResult | None = None,
    status: int = 200,
) -> Response:
    box = runtime_of(request).box
    platform = get_platform(channel.platform)
    return render(
        request,
        "channel.html",
        {
            # listed: a channel whose credentials no key reads still opens, to re-enter them.
            "channel": channels.to_out(channel, box, reveal=_is_admin(user), listed=True),
            "errors": errors or {},
            "tested": tested,
            "can_test": platform.connector is not None,
            "can_reconnect": can_reconnect(runtime_of(request).settings, channel.platform),
            "shown": shown_value,
            **_specs(channel.platform),
        },
        user=user,
        session=session,
        status=status,
    )


@router.get("/channels/{channel_id}")
def channel_page(
    channel_id: str, request: Request, session: SessionDep, user: PageViewer
) -> Response:
    return _channel_page(request, session, user, _channel(session, channel_id))


@router.post("/channels/{channel_id}")
def update_channel(
    channel_id: str,
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageAdmin,
    form: FormDep,
) -> Response:
    channel = _channel(session, channel_id)
    before = trail.channel_fields(channel, runtime_of(request).box)
    specs = _specs(channel.platform)
    body: dict[str, Any] = {
        "name": _text(form, "name"),
        "config": values_from(form, specs["config_fields"]),
    }
    credentials = values_from(form, specs["credential_fields"])
    if credentials:
        body["credentials"] = credentials
    # Cleared optional config fields go back to their defaults.
    for spec in specs["config_fields"]:
        if spec.kind not in ("checkbox",) and spec.name not in body["config"] and not spec.required:
            body["config"][spec.name] = spec.default
    problems: list[FieldProblem] = []
    try:
        data = ChannelUpdate.model_validate(body)
        runtime = runtime_of(request)
        with session.begin_nested():
            channels.update(
                session,
                channel_id=channel_id,
                data=data,
                box=runtime.box,
                now=now,
                outbound=runtime.settings.outbound_policy(),
            )
    except ValidationError as exc:
        problems = problems_from_pydantic(exc, ("body",))
    except InvalidInput as exc:
        problems = exc.problems
    if problems:
        session.refresh(channel)
        return _channel_page(
            request, session, user, channel, errors=field_errors(problems), status=422
        )
    trail.channel_changed(
        session, runtime.box, user, channel_id, before, channel, now, bool(credentials)
    )
    return redirect(f"/channels/{channel_id}", notice="channel")


@router.post("/channels/{channel_id}/status")
def set_status(
    channel_id: str,
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageAdmin,
    form: FormDep,
) -> Response:
    box = runtime_of(request).box
    before = trail.channel_fields(_channel(session, channel_id), box)
    wanted = "disabled" if _text(form, "status") == "disabled" else "active"
    changed = channels.update(
        session,
        channel_id=channel_id,
        data=ChannelUpdate(status=wanted),
        box=box,
        now=now,
    )
    trail.channel_changed(session, box, user, channel_id, before, changed, now)
    return redirect(
        f"/channels/{channel_id}", notice="disabled" if wanted == "disabled" else "enabled"
    )


@router.post("/channels/{channel_id}/alerts")
def set_alerts(
    channel_id: str,
    request: Request,
    session: SessionDep,
    now: NowDep,
    user: PageAdmin,
    form: FormDep,
) -> Response:
    channel = _channel(session, channel_id)
    before = trail.channel_fields(channel, runtime_of(request).box)
    try:
        with session.begin_nested():
            channels.update(
                session,
                channel_id=channel_id,
                data=ChannelUpdate(receives_alerts=_text(form, "receives_alerts") == "on"),
                box=runtime_of(request).box,
                now=now,
            )
    except InvalidInput as exc:
        session.refresh(channel)
        return _channel_page(
            request, session, user, channel, errors=field_errors(exc.problems), status=422
        )
    trail.channel_changed(session, runtime_of(request).box, user, channel_id, before, channel, now)
    return redirect(f"/channels/{channel_id}", notice="channel")


def _render_tested(
    request: Request, channel_id: str, user: User, tested: ChannelTestResult
) -> Response:
    with transaction(runtime_of(request).sessions) as session:
        return _channel_page(request, session, user, _channel(session, channel_id), tested=tested)


@router.post("/channels/{channel_id}/test")
async def test_channel(channel_id: str, request: Request, user: PageBriefAdmin) -> Response:
    """The channel API's own check (no transaction open while the platform answers)."""
    try:
        tested = await check_channel(runtime_of(request), channel_id=channel_id)
    except NotFound:
        raise PageError(404, "No such channel", f"There is no channel {channel_id}.") from None
    return await run_in_threadpool(_render_tested, request, channel_id, user, tested)
