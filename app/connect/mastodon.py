"""Connecting a Mastodon account. Every instance is its own authorization server, so
there is no app to set up in the settings: the admin types the instance's address,
Cadence registers itself there once (`POST /api/v1/apps`, kept in `mastodon_apps`),
then runs the authorization-code flow (`/oauth/authorize`, `/oauth/token`) and reads
the account (`/api/v1/accounts/verify_credentials`) and the instance's own text limit
(`/api/v2/instance`), which the channel's config keeps (app/channels/text_limits.py).

Network calls run with no database transaction open, through the outbound policy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.orm import Session

from app.config import Settings
from app.connect.flow import Context, _bearer_get, _refused, http_client
from app.connect.models import MastodonApp
from app.connect.providers import AppSettings, Pick, Provider, redirect_uri
from app.connect.states import FlowRefused
from app.crypto import CredentialBox
from connectors.base import PublishError
from connectors.http import USER_AGENT, json_body, send
from connectors.mastodon import DEFAULT_MAX_CHARACTERS, _host_allowed_over_http
from connectors.outbound import OutboundPolicy

# Not in PROVIDERS: its URLs are rebased on the instance the admin types, and its
# client comes from the instance, not from the settings.
PROVIDER = Provider(
    platform="mastodon",
    label="Mastodon",
    authorize_url="https://mastodon.social/oauth/authorize",
    token_url="https://mastodon.social/oauth/token",
    scopes=("read", "write:statuses", "write:media"),
    pkce=False,
    basic_auth=False,
    console="nothing: Cadence registers itself on each instance",
    app_type="none",
    review="none",
)
MAX_INSTANCE_LENGTH = 255


def instance_origin(text: str, outbound: OutboundPolicy) -> str:
    """`https://host[:port]` of what the admin typed; http only for allowed hosts."""
    raw = text.strip()
    if raw and "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        host = parts.hostname
        port = parts.port
    except ValueError:
        host, port, parts = None, None, urlsplit("")
    if (
        not host
        or len(raw) > MAX_INSTANCE_LENGTH
        or parts.scheme not in ("https", "http")
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise FlowRefused(
            "That is not an instance address",
            "Type the address of the Mastodon instance, such as https://mastodon.social.",
        )
    if parts.scheme == "http" and not _host_allowed_over_http(host, outbound):
        raise FlowRefused(
            "The instance must use https",
            f"{host} is given with http://; only hosts in CADENCE_OUTBOUND_ALLOW may be "
            "reached without https.",
        )
    netloc = host.lower() if port is None else f"{host.lower()}:{port}"
    return f"{parts.scheme}://{netloc}"


def stored_app(
    session: Session, *, instance: str, redirect: str, box: CredentialBox
) -> AppSettings | None:
    row = session.get(MastodonApp, instance)
    if row is None or row.redirect_uri != redirect:
        return None
    secret = str(box.open(row.client_secret_encrypted).get("client_secret") or "")
    return AppSettings(row.client_id, secret, base_url=instance, tenant="")


def store_app(
    session: Session,
    *,
    instance: str,
    redirect: str,
    app: AppSettings,
    box: CredentialBox,
    now: datetime,
) -> None:
    row = session.get(MastodonApp, instance, with_for_update=True)
    if row is None:
        row = MastodonApp(instance=instance)
        session.add(row)
    row.client_id = app.client_id
    row.client_secret_encrypted = box.seal({"client_secret": app.client_secret})
    row.redirect_uri = redirect
    row.created_at = now


async def register_app(settings: Settings, instance: str) -> AppSettings:
    """`POST /api/v1/apps` on the instance: Cadence's client there."""
    redirect = redirect_uri(settings, "mastodon")
    form = {
        "client_name": "Cadence",
        "redirect_uris": redirect,
        "scopes": " ".join(PROVIDER.scopes),
        "website": settings.base_url,
    }
    async with http_client(settings) as http:
        try:
            response = await send(
                http,
                "POST",
                f"{instance}/api/v1/apps",
                data=form,
                headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                secrets=[],
            )
        except PublishError as exc:
            raise _refused(
                PROVIDER, f"Cadence could not reach {instance} ({exc.message})."
            ) from None
    body = json_body(response)
    client_id = body.get("client_id") if isinstance(body, dict) else None
    secret = body.get("client_secret") if isinstance(body, dict) else None
    if not response.is_success or not isinstance(client_id, str) or not isinstance(secret, str):
        raise _refused(
            PROVIDER,
            f"{instance} did not register Cadence (HTTP {response.status_code}); is it a "
            "Mastodon instance?",
        )
    return AppSettings(client_id, secret, base_url=instance, tenant="")


async def mastodon_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    """The token's account on the instance, with the instance's own text limit."""
    token = answer.get("access_token")
    instance = ctx.app.base_url or ""
    if not isinstance(token, str) or not token:
        raise _refused(ctx.provider, "The instance answered without an access token.")
    account = await _bearer_get(
        ctx,
        "https://mastodon.social/api/v1/accounts/verify_credentials",
        token,
        what="whose account it is",
    )
    if not isinstance(account, dict) or not account.get("username"):
        raise _refused(ctx.provider, "The instance did not say whose account it is.")
    about = await _bearer_get(
        ctx, "https://mastodon.social/api/v2/instance", token, what="its limits"
    )
    configuration = about.get("configuration") if isinstance(about, dict) else None
    statuses = configuration.get("statuses") if isinstance(configuration, dict) else None
    limit = statuses.get("max_characters") if isinstance(statuses, dict) else None
    if not isinstance(limit, int) or isinstance(limit, bool) or not 0 < limit <= 1_000_000:
        limit = DEFAULT_MAX_CHARACTERS
    host = httpx.URL(instance).host
    handle = f"@{account['username']}@{host}"
    return [
        Pick(
            key=f"{account.get('id') or account['username']}@{host}",
            name=f"Mastodon {handle}"[:100],
            config={"instance": instance, "max_characters": limit},
            credentials={"access_token": token},
        )
    ]
