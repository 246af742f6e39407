"""LinkedIn and SharePoint renew a refused access token once on a 401 (which created
nothing) through the locked refresh of app/connect/tokens.py, then send again; a token
refused even after the renewal is not renewed twice. Against their fakes."""

from __future__ import annotations

import asyncio
from typing import Any

from app.channels import service as channels
from app.channels.checks import check_channel
from app.channels.models import Channel
from app.channels.schemas import ChannelCreate
from app.db import transaction
from app.runtime import Runtime
from tests.fakes import linkedin, sharepoint

STALE = "stale-access-token-4711"


def make_channel(
    runtime: Runtime, platform: str, config: dict[str, Any], creds: dict[str, Any]
) -> str:
    with transaction(runtime.sessions) as session:
        channel = channels.create(
            session,
            data=ChannelCreate.model_validate(
                {
                    "name": f"{platform} channel",
                    "platform": platform,
                    "config": config,
                    "credentials": creds,
                }
            ),
            box=runtime.box,
            now=runtime.clock.now(),
            outbound=runtime.settings.outbound_policy(),
        )
        return channel.id


def credentials_of(runtime: Runtime, channel_id: str) -> dict[str, Any]:
    with runtime.sessions() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        return runtime.box.open(channel.credentials_encrypted)


def linkedin_channel(runtime: Runtime, fake: linkedin.FakeLinkedIn) -> str:
    fake.issued.append((STALE, "AQW-refresh-1"))
    fake.expired.add(STALE)
    return make_channel(
        runtime,
        "linkedin",
        {"organization_urn": linkedin.ORG_URN, "api_base": fake.url},
        {
            "access_token": STALE,
            "refresh_token": "AQW-refresh-1",
            "client_id": linkedin.CLIENT_ID,
            "client_secret": linkedin.CLIENT_SECRET,
        },
    )


def sharepoint_channel(runtime: Runtime, fake: sharepoint.FakeSharePoint) -> str:
    fake.refresh_tokens.add("0.ASoA-refresh-0")
    return make_channel(
        runtime,
        "sharepoint",
        {
            "site_id": sharepoint.SITE_ID,
            "api_base": fake.url,
            "token_url": f"{fake.url}/{sharepoint.TENANT}/oauth2/v2.0/token",
        },
        {
            "access_token": STALE,
            "refresh_token": "0.ASoA-refresh-0",
            "client_id": sharepoint.CLIENT_ID,
            "client_secret": sharepoint.CLIENT_SECRET,
        },
    )


def test_linkedin_renews_a_refused_token_once_and_sends_again(runtime: Runtime) -> None:
    with linkedin.FakeLinkedIn() as fake:
        channel_id = linkedin_channel(runtime, fake)
        result = asyncio.run(check_channel(runtime, channel_id=channel_id))
        assert result.ok, result
        renewed = fake.issued[-1][0]
        assert len(fake.issued) == 2  # the stale pair, then one renewal
        assert credentials_of(runtime, channel_id)["access_token"] == renewed


def test_linkedin_refused_after_the_renewal_is_not_renewed_twice(runtime: Runtime) -> None:
    with linkedin.FakeLinkedIn() as fake:
        channel_id = linkedin_channel(runtime, fake)
        fake.revoke()  # every token refused, the renewed one too
        result = asyncio.run(check_channel(runtime, channel_id=channel_id))
        assert not result.ok
        assert len(fake.issued) == 2  # one renewal only


def test_sharepoint_renews_a_refused_token_once_and_sends_again(runtime: Runtime) -> None:
    with sharepoint.FakeSharePoint() as fake:
        channel_id = sharepoint_channel(runtime, fake)
        result = asyncio.run(check_channel(runtime, channel_id=channel_id))
        assert result.ok, result
        ((access, refresh),) = fake.issued
        creds = credentials_of(runtime, channel_id)
        assert (creds["access_token"], creds["refresh_token"]) == (access, refresh)


def test_sharepoint_refused_after_the_renewal_is_not_renewed_twice(runtime: Runtime) -> None:
    with sharepoint.FakeSharePoint() as fake:
        channel_id = sharepoint_channel(runtime, fake)
        fake.tokens.clear()
        fake.tokens["never-issued"] = True
        original = fake.tokens

        class Refusing(dict[str, bool]):
            def __setitem__(self, key: str, value: bool) -> None:  # issued tokens stay refused
                pass

        fake.tokens = Refusing(original)
        result = asyncio.run(check_channel(runtime, channel_id=channel_id))
        assert not result.ok
        assert len(fake.issued) == 1  # one renewal only
