from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response, status

from app.channels import service
from app.channels.checks import check_channel
from app.channels.schemas import (
    ChannelCreate,
    ChannelOut,
    ChannelTestResult,
    ChannelUpdate,
    PlatformName,
)
from app.deps import ApiAdmin, ApiBriefAdmin, ApiViewer, NowDep, RuntimeDep, SessionDep
from app.pagination import Page, PageDep
from app.team import trail
from app.users.models import Role, User

router = APIRouter(prefix="/channels", tags=["channels"])


@router.post("", status_code=status.HTTP_201_CREATED)
def create_channel(
    body: ChannelCreate, session: SessionDep, runtime: RuntimeDep, now: NowDep, user: ApiAdmin
) -> ChannelOut:
    channel = service.create(
        session,
        data=body,
        box=runtime.box,
        now=now,
        outbound=runtime.settings.outbound_policy(),
    )
    trail.channel_changed(
        session, runtime.box, user, channel.id, None, channel, now, bool(body.credentials)
    )
    return service.to_out(channel, runtime.box, reveal=True)


@router.get("")
def list_channels(
    session: SessionDep,
    runtime: RuntimeDep,
    page: PageDep,
    user: ApiViewer,
    platform: PlatformName | None = None,
    status: Literal["active", "needs_reconnect", "disabled"] | None = None,
) -> Page[ChannelOut]:
    items, total = service.list_(
        session, platform=platform, status=status, limit=page.limit, offset=page.offset
    )
    reveal = _is_admin(user)
    return Page(
        items=[service.to_out(c, runtime.box, reveal=reveal, listed=True) for c in items],
        total=total,
    )


@router.get("/{channel_id}")
def get_channel(
    channel_id: str, session: SessionDep, runtime: RuntimeDep, user: ApiViewer
) -> ChannelOut:
    """URL settings (which may carry a token) are shown whole to admins only; others see
    the scheme and host (`https://hooks.example.org/…`)."""
    return service.to_out(service.get(session, channel_id), runtime.box, reveal=_is_admin(user))


def _is_admin(user: User) -> bool:
    return Role(user.role) == Role.admin


@router.patch("/{channel_id}")
def update_channel(
    channel_id: str,
    body: ChannelUpdate,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    user: ApiAdmin,
) -> ChannelOut:
    before = trail.channel_fields(service.get(session, channel_id), runtime.box)
    channel = service.update(
        session,
        channel_id=channel_id,
        data=body,
        box=runtime.box,
        now=now,
        outbound=runtime.settings.outbound_policy(),
    )
    trail.channel_changed(
        session, runtime.box, user, channel_id, before, channel, now, body.credentials is not None
    )
    return service.to_out(channel, runtime.box, reveal=True)


@router.delete(
    "/{channel_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={200: {"description": "Used by deliveries: disabled instead", "model": ChannelOut}},
)
def delete_channel(
    channel_id: str, session: SessionDep, runtime: RuntimeDep, now: NowDep, user: ApiAdmin
) -> Response:
    before = trail.channel_fields(service.get(session, channel_id), runtime.box)
    disabled = service.delete(session, channel_id=channel_id, now=now)
    trail.channel_changed(session, runtime.box, user, channel_id, before, disabled, now)
    if disabled is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    body = service.to_out(disabled, runtime.box, reveal=True).model_dump_json()
    return Response(body, status_code=status.HTTP_200_OK, media_type="application/json")


@router.post(
    "/{channel_id}/test",
)
async def test_channel(channel_id: str, runtime: RuntimeDep, _: ApiBriefAdmin) -> ChannelTestResult:
    """Check the channel's credentials with the platform, posting nothing.

    `ok: false` with the platform's (secret-free) words when the check fails. When the
    platform refuses the credentials, the channel becomes `needs_reconnect` and a
    `channel_needs_reconnect` alert opens; a check that passes changes no status
    (new credentials are what reconnect a channel). No database transaction is open
    while the platform is asked.
    """
    return await check_channel(runtime, channel_id=channel_id)
