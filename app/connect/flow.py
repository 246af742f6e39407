"""The authorization-code flow, platform by platform: the authorization URL, the code
exchange, and what the answer opens (picks). Network calls only here, each through the
outbound policy, never inside a database transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1
from oauthlib.oauth1 import Client as OAuth1Client

from app.config import Settings
from app.connect.providers import PROVIDERS, AppSettings, Pick, Provider, endpoint, rebase
from app.connect.states import FlowRefused, code_challenge
from connectors.base import PublishError
from connectors.http import USER_AGENT, excerpt, json_body, redact, send
from connectors.transport import make_client


def authorize_url(
    provider: Provider, app: AppSettings, *, state: str, verifier: str, redirect: str
) -> str:
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": redirect,
        "scope": provider.scope_separator.join(provider.scopes),
        "state": state,
        **provider.extra_authorize,
    }
    if provider.pkce:
        params["code_challenge"] = code_challenge(verifier)
        params["code_challenge_method"] = "S256"
    return endpoint(provider.authorize_url, app) + "?" + urlencode(params)


def http_client(settings: Settings) -> httpx.AsyncClient:
    """A client that connects only where the outbound policy allows."""
    return make_client(
        timeout=settings.publish_timeout_seconds,
        max_connections=4,
        outbound=settings.outbound_policy(),
    )


def _refused(provider: Provider, detail: str) -> FlowRefused:
    return FlowRefused(
        f"{provider.label} did not connect",
        f"{detail} Nothing was created; start again from the Channels page.",
    )


def oauth_words(answer: Any, hidden: list[str]) -> str:
    """The OAuth error of an answer (`error`, `error_description`), secrets removed."""
    if not isinstance(answer, dict):
        return ""
    parts = [answer.get("error"), answer.get("error_description")]
    return excerpt(redact(": ".join(p for p in parts if isinstance(p, str) and p), hidden))


async def exchange_code(
    http: httpx.AsyncClient,
    provider: Provider,
    app: AppSettings,
    *,
    code: str,
    verifier: str,
    redirect: str,
) -> dict[str, Any]:
    """The token endpoint's answer to the authorization code (RFC 6749 4.1.3)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect}
    form["client_id"] = app.client_id
    if provider.pkce:
        form["code_verifier"] = verifier
    auth = None
    if provider.basic_auth:
        auth = httpx.BasicAuth(app.client_id, app.client_secret)
    else:
        form["client_secret"] = app.client_secret
    hidden = [code, verifier, app.client_secret]
    try:
        body = {"params": form} if provider.token_method == "GET" else {"data": form}
        response = await send(
            http,
            provider.token_method,
            endpoint(provider.token_url, app),
            auth=auth,
            **body,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            secrets=hidden,
        )
    except PublishError as exc:
        raise _refused(
            provider, f"Cadence could not reach {provider.label} ({exc.message})."
        ) from None
    answer = json_body(response)
    failed = not response.is_success or not isinstance(answer, dict)
    if not failed and provider.platform == "slack" and answer.get("ok") is not True:
        failed = True
    if failed:
        words = oauth_words(answer, hidden) or f"HTTP {response.status_code}"
        raise _refused(provider, f"{provider.label} refused the sign-in ({words}).")
    return dict(answer)


def expires_at(answer: dict[str, Any], now: datetime) -> datetime | None:
    seconds = answer.get("expires_in")
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        return now + timedelta(seconds=seconds)
    return None


# -- what each platform's answer opens -------------------------------------------------------


@dataclass(frozen=True)
class Context:
    http: httpx.AsyncClient
    provider: Provider
    app: AppSettings
    now: datetime


async def _x_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise _refused(ctx.provider, "X answered without an access token.")
    try:
        response = await send(
            ctx.http,
            "GET",
            rebase("https://api.x.com/2/users/me", ctx.app.base_url),
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            secrets=[token],
        )
    except PublishError as exc:
        raise _refused(
            ctx.provider, f"Cadence could not ask X whose account it is ({exc.message})."
        ) from None
    body = json_body(response)
    data = body.get("data") if isinstance(body, dict) else None
    if not response.is_success or not isinstance(data, dict) or not data.get("username"):
        raise _refused(
            ctx.provider, f"X did not say whose account it is (HTTP {response.status_code})."
        )
    username = str(data["username"])
    credentials = _app_credentials(ctx, token, answer)
    config: dict[str, Any] = {"username": username}
    if ctx.app.base_url:
        config["api_base"] = ctx.app.base_url
    return [
        Pick(
            key=str(data.get("id") or username),
            name=f"X @{username}"[:100],
            config=config,
            credentials=credentials,
            access_expires_at=expires_at(answer, ctx.now),
        )
    ]


async def _slack_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    hook = answer.get("incoming_webhook")
    url = hook.get("url") if isinstance(hook, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise _refused(ctx.provider, "Slack answered without a webhook for a channel.")
    team = answer.get("team")
    team_name = team.get("name") if isinstance(team, dict) else None
    channel = hook.get("channel") if isinstance(hook, dict) else None
    name = " ".join(str(p) for p in ("Slack", team_name, channel) if p)
    return [
        Pick(
            key=str(hook.get("channel_id") or url) if isinstance(hook, dict) else url,
            name=name[:100],
            config={},
            credentials={"webhook_url": rebase(url, ctx.app.base_url)},
        )
    ]


async def _youtube_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    """One pick per YouTube channel of the Google account (`channels?mine=true`)."""
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise _refused(ctx.provider, "Google answered without an access token.")
    try:
        response = await send(
            ctx.http,
            "GET",
            rebase("https://www.googleapis.com/youtube/v3/channels", ctx.app.base_url),
            params={"part": "snippet", "mine": "true", "maxResults": "50"},
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            secrets=[token],
        )
    except PublishError as exc:
        raise _refused(
            ctx.provider, f"Cadence could not list the channels ({exc.message})."
        ) from None
    body = json_body(response)
    items = body.get("items") if isinstance(body, dict) else None
    if not response.is_success or not isinstance(items, list):
        raise _refused(
            ctx.provider, f"YouTube did not list the channels (HTTP {response.status_code})."
        )
    credentials = _app_credentials(ctx, token, answer)
    config: dict[str, Any] = {}
    if ctx.app.base_url:
        config = {
            "api_base": ctx.app.base_url,
            "token_url": rebase(ctx.provider.token_url, ctx.app.base_url),
        }
    picks = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            continue
        snippet = item.get("snippet")
        title = str((snippet.get("title") if isinstance(snippet, dict) else None) or item["id"])
        picks.append(
            Pick(
                key=item["id"],
                name=f"YouTube {title}"[:100],
                config=config,
                credentials=credentials,
                access_expires_at=expires_at(answer, ctx.now),
            )
        )
    return picks


async def _graph_get(ctx: Context, path: str, params: dict[str, str]) -> dict[str, Any]:
    """A Graph API GET (`https://graph.facebook.com/v24.0` + path), its JSON object."""
    hidden = [
        v for k, v in params.items() if k in ("access_token", "client_secret", "fb_exchange_token")
    ]
    url = rebase(f"https://graph.facebook.com/v24.0{path}", ctx.app.base_url)
    try:
        response = await send(
            ctx.http, "GET", url, params=params, headers={"User-Agent": USER_AGENT}, secrets=hidden
        )
    except PublishError as exc:
        raise _refused(ctx.provider, f"Cadence could not reach Facebook ({exc.message}).") from None
    body = json_body(response)
    if not response.is_success or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        words = error.get("message") if isinstance(error, dict) else None
        detail = redact(str(words or f"HTTP {response.status_code}"), hidden)
        raise _refused(ctx.provider, f"Facebook refused: {excerpt(detail)}.")
    return dict(body)


def _app_credentials(ctx: Context, token: str, answer: dict[str, Any]) -> dict[str, Any]:
    """A channel's credentials from a token answer: the token, the app that renews it,
    and the refresh token when the platform gave one."""
    credentials: dict[str, Any] = {
        "access_token": token,
        "client_id": ctx.app.client_id,
        "client_secret": ctx.app.client_secret,
    }
    refresh = answer.get("refresh_token")
    if isinstance(refresh, str) and refresh:
        credentials["refresh_token"] = refresh
    return credentials


async def _long_lived_user_token(
    ctx: Context, answer: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """Facebook Login's short-lived user token exchanged for a long-lived one (about 60
    days: the known end Cadence warns of); the token and the whole answer."""
    short = answer.get("access_token")
    if not isinstance(short, str) or not short:
        raise _refused(ctx.provider, "Facebook answered without an access token.")
    long = await _graph_get(
        ctx,
        "/oauth/access_token",
        {
            "grant_type": "fb_exchange_token",
            "client_id": ctx.app.client_id,
            "client_secret": ctx.app.client_secret,
            "fb_exchange_token": short,
        },
    )
    token = long.get("access_token")
    if not isinstance(token, str) or not token:
        raise _refused(ctx.provider, "Facebook did not give a long-lived token.")
    return token, long


async def _facebook_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    """The short-lived user token becomes a long-lived one (about 60 days: the known
    end Cadence warns of), whose `/me/accounts` lists the Pages with their tokens."""
    token, long = await _long_lived_user_token(ctx, answer)
    pages = await _graph_get(ctx, "/me/accounts", {"access_token": token, "limit": "100"})
    ends = expires_at(long, ctx.now)
    picks = []
    for page in pages.get("data") or []:
        if not isinstance(page, dict) or not page.get("id") or not page.get("access_token"):
            continue
        config: dict[str, Any] = {"page_id": str(page["id"])}
        if ctx.app.base_url:
            config["api_base"] = ctx.app.base_url
        picks.append(
            Pick(
                key=str(page["id"]),
                name=f"Facebook {page.get('name') or page['id']}"[:100],
                config=config,
                credentials={"page_access_token": str(page["access_token"])},
                ends_at=ends,
            )
        )
    return picks


async def _yammer_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    """One pick per Viva Engage community the person belongs to (`groups.json?mine=1`)."""
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise _refused(ctx.provider, "Microsoft answered without an access token.")
    try:
        response = await send(
            ctx.http,
            "GET",
            rebase("https://www.yammer.com/api/v1/groups.json", ctx.app.base_url),
            params={"mine": "1"},
            headers={"Authorization": f"Bearer {token}", "User-Agent": USER_AGENT},
            secrets=[token],
        )
    except PublishError as exc:
        raise _refused(
            ctx.provider, f"Cadence could not list the communities ({exc.message})."
        ) from None
    groups = json_body(response)
    if not response.is_success or not isinstance(groups, list):
        raise _refused(
            ctx.provider, f"Viva Engage did not list the communities (HTTP {response.status_code})."
        )
    credentials = _app_credentials(ctx, token, answer)
    picks = []
    for group in groups:
        if not isinstance(group, dict) or not isinstance(group.get("id"), int | str):
            continue
        config: dict[str, Any] = {
            "group_id": str(group["id"]),
            "token_url": endpoint(ctx.provider.token_url, ctx.app),
        }
        if group.get("network_id") is not None:
            config["network_id"] = str(group["network_id"])
        if ctx.app.base_url:
            config["api_base"] = ctx.app.base_url
        title = group.get("full_name") or group.get("name") or group["id"]
        picks.append(
            Pick(
                key=str(group["id"]),
                name=f"Viva Engage {title}"[:100],
                config=config,
                credentials=credentials,
                access_expires_at=expires_at(answer, ctx.now),
            )
        )
    return picks


async def _bearer_get(
    ctx: Context,
    url: str,
    token: str,
    *,
    what: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    """A GET with the new access token; its JSON body, or the flow refused."""
    label = ctx.provider.label
    try:
        response = await send(
            ctx.http,
            "GET",
            rebase(url, ctx.app.base_url),
            params=params,
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": USER_AGENT,
                **(headers or {}),
            },
            secrets=[token],
        )
    except PublishError as exc:
        raise _refused(
            ctx.provider, f"Cadence could not ask {label} {what} ({exc.message})."
        ) from None
    body = json_body(response)
    if not response.is_success or body is None:
        raise _refused(ctx.provider, f"{label} did not say {what} (HTTP {response.status_code}).")
    return body


def _seconds_after(answer: dict[str, Any], key: str, now: datetime) -> datetime | None:
    return expires_at({"expires_in": answer.get(key)}, now)


# LinkedIn's versioned API (the connector's default version); organisations listed at once.
LINKEDIN_HEADERS = {"LinkedIn-Version": "202511", "X-Restli-Protocol-Version": "2.0.0"}
MAX_ORGANIZATIONS = 50


async def _linkedin_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    """One pick per organisation page the member administers (organizationAcls), named
    by `GET /rest/organizations/{id}`. Access tokens last 60 days; with a programmatic
    refresh token (a year) Cadence renews them, and the grant's end is the refresh
    token's, else the access token's: the keeper warns 7 days before either."""
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise _refused(ctx.provider, "LinkedIn answered without an access token.")
    acls = await _bearer_get(
        ctx,
        "https://api.linkedin.com/rest/organizationAcls",
        token,
        what="which pages you administer",
        params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"},
        headers=LINKEDIN_HEADERS,
    )
    elements = acls.get("elements") if isinstance(acls, dict) else None
    urns = [
        e["organization"]
        for e in (elements if isinstance(elements, list) else [])
        if isinstance(e, dict)
        and isinstance(e.get("organization"), str)
        and e["organization"].startswith("urn:li:organization:")
    ][:MAX_ORGANIZATIONS]
    credentials = _app_credentials(ctx, token, answer)
    access_ends = expires_at(answer, ctx.now)
    ends = access_ends
    if "refresh_token" in credentials:
        ends = _seconds_after(answer, "refresh_token_expires_in", ctx.now)
    picks = []
    for urn in dict.fromkeys(urns):
        org_id = urn.rsplit(":", 1)[1]
        org = await _bearer_get(
            ctx,
            f"https://api.linkedin.com/rest/organizations/{org_id}",
            token,
            what="the page's name",
            headers=LINKEDIN_HEADERS,
        )
        title = org.get("localizedName") if isinstance(org, dict) else None
        config: dict[str, Any] = {"organization_urn": urn}
        if ctx.app.base_url:
            config["api_base"] = ctx.app.base_url
        picks.append(
            Pick(
                key=urn,
                name=f"LinkedIn {title or org_id}"[:100],
                config=config,
                credentials=credentials,
                access_expires_at=access_ends,
                ends_at=ends,
            )
        )
    return picks


async def _vimeo_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    """The account of the token (`GET /me`). Vimeo's tokens do not expire."""
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise _refused(ctx.provider, "Vimeo answered without an access token.")
    me = await _bearer_get(
        ctx,
        "https://api.vimeo.com/me",
        token,
        what="whose account it is",
        headers={"Accept": "application/vnd.vimeo.*+json;version=3.4"},
    )
    uri = me.get("uri") if isinstance(me, dict) else None
    if not isinstance(uri, str) or not uri:
        raise _refused(ctx.provider, "Vimeo did not say whose account it is.")
    config: dict[str, Any] = {}
    if ctx.app.base_url:
        config["api_base"] = ctx.app.base_url
    return [
        Pick(
            key=uri,
            name=f"Vimeo {me.get('name') or uri}"[:100],
            config=config,
            credentials={"access_token": token},
        )
    ]


async def _sharepoint_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    """One pick per SharePoint site the person can see (Graph `GET /sites?search=*`);
    the hour-long token is renewed by the token keeper with the refresh token."""
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise _refused(ctx.provider, "Microsoft answered without an access token.")
    found = await _bearer_get(
        ctx,
        "https://graph.microsoft.com/v1.0/sites",
        token,
        what="which sites you can use",
        params={"search": "*", "$select": "id,displayName,webUrl"},
    )
    sites = found.get("value") if isinstance(found, dict) else None
    credentials = _app_credentials(ctx, token, answer)
    picks = []
    for site in sites if isinstance(sites, list) else []:
        if not isinstance(site, dict) or not isinstance(site.get("id"), str) or not site["id"]:
            continue
        config: dict[str, Any] = {
            "site_id": site["id"],
            "token_url": endpoint(ctx.provider.token_url, ctx.app),
        }
        if ctx.app.base_url:
            config["api_base"] = ctx.app.base_url
        title = site.get("displayName") or site.get("webUrl") or site["id"]
        picks.append(
            Pick(
                key=site["id"][:512],
                name=f"SharePoint {title}"[:100],
                config=config,
                credentials=credentials,
                access_expires_at=expires_at(answer, ctx.now),
            )
        )
    return picks


async def _instagram_picks(ctx: Context, answer: dict[str, Any]) -> list[Pick]:
    """Like Facebook Pages (a long-lived user token, about 60 days, whose `/me/accounts`
    lists the Pages with their tokens), one pick per Instagram professional account
    linked to a Page; it publishes with that Page's token."""
    token, long = await _long_lived_user_token(ctx, answer)
    fields = "instagram_business_account{id,username},access_token,name"
    pages = await _graph_get(
        ctx, "/me/accounts", {"access_token": token, "fields": fields, "limit": "100"}
    )
    ends = expires_at(long, ctx.now)
    picks = []
    for page in pages.get("data") or []:
        account = page.get("instagram_business_account") if isinstance(page, dict) else None
        if not isinstance(account, dict) or not str(account.get("id") or "").isdigit():
            continue
        if not page.get("access_token"):
            continue
        config: dict[str, Any] = {"ig_user_id": str(account["id"])}
        if ctx.app.base_url:
            config["api_base"] = ctx.app.base_url
        shown = f"@{account['username']}" if account.get("username") else page.get("name")
        picks.append(
            Pick(
                key=str(account["id"]),
                name=f"Instagram {shown or account['id']}"[:100],
                config=config,
                credentials={"page_access_token": str(page["access_token"])},
                ends_at=ends,
            )
        )
    return picks


PICKERS: dict[str, Callable[[Context, dict[str, Any]], Awaitable[list[Pick]]]] = {
    "x": _x_picks,
    "slack": _slack_picks,
    "youtube": _youtube_picks,
    "facebook": _facebook_picks,
    "yammer": _yammer_picks,
    "linkedin": _linkedin_picks,
    "vimeo": _vimeo_picks,
    "sharepoint": _sharepoint_picks,
    "instagram": _instagram_picks,
}


async def picks_from_code(
    settings: Settings,
    platform: str,
    app: AppSettings,
    *,
    code: str,
    verifier: str,
    redirect: str,
    now: datetime,
) -> list[Pick]:
    """Exchange the code and look up what it opens."""
    provider = PROVIDERS[platform]
    async with http_client(settings) as http:
        answer = await exchange_code(
            http, provider, app, code=code, verifier=verifier, redirect=redirect
        )
        picks = await PICKERS[platform](Context(http, provider, app, now), answer)
    if not picks:
        raise _refused(provider, f"{provider.label} showed nothing Cadence can publish to.")
    return picks


# -- OAuth 1.0a three-legged (Flickr) ---------------------------------------------------------


async def _oauth1_call(
    settings: Settings, provider: Provider, url: str, client: OAuth1Client, hidden: list[str]
) -> dict[str, str]:
    """A signed GET whose answer is form-encoded (`oauth_token=...&...`)."""
    uri, headers, _ = client.sign(url, http_method="GET")
    async with http_client(settings) as http:
        try:
            response = await send(
                http, "GET", uri, headers={**headers, "User-Agent": USER_AGENT}, secrets=hidden
            )
        except PublishError as exc:
            raise _refused(
                provider, f"Cadence could not reach {provider.label} ({exc.message})."
            ) from None
    answer = dict(parse_qsl(response.text)) if response.is_success else {}
    if not answer.get("oauth_token") or not answer.get("oauth_token_secret"):
        words = excerpt(redact(response.text, hidden)) or f"HTTP {response.status_code}"
        raise _refused(provider, f"{provider.label} refused the sign-in ({words}).")
    return answer


async def oauth1_request_token(
    settings: Settings, provider: Provider, app: AppSettings, *, callback: str
) -> tuple[str, str]:
    """The temporary credentials (RFC 5849 2.1), with our callback."""
    client = OAuth1Client(
        app.client_id,
        client_secret=app.client_secret,
        callback_uri=callback,
        signature_method=SIGNATURE_HMAC_SHA1,
    )
    url = endpoint(provider.request_token_url or "", app)
    answer = await _oauth1_call(settings, provider, url, client, [app.client_secret])
    return answer["oauth_token"], answer["oauth_token_secret"]


def oauth1_authorize_url(provider: Provider, app: AppSettings, token: str) -> str:
    return (
        endpoint(provider.authorize_url, app)
        + "?"
        + urlencode({"oauth_token": token, "perms": "write"})
    )


async def oauth1_picks(
    settings: Settings,
    provider: Provider,
    app: AppSettings,
    *,
    request_token: str,
    request_secret: str,
    verifier: str,
) -> list[Pick]:
    """The token credentials (RFC 5849 2.3) and the Flickr account they open."""
    client = OAuth1Client(
        app.client_id,
        client_secret=app.client_secret,
        resource_owner_key=request_token,
        resource_owner_secret=request_secret,
        verifier=verifier,
        signature_method=SIGNATURE_HMAC_SHA1,
    )
    hidden = [app.client_secret, request_secret, verifier]
    url = endpoint(provider.token_url, app)
    answer = await _oauth1_call(settings, provider, url, client, hidden)
    nsid = answer.get("user_nsid")
    if not nsid:
        raise _refused(provider, "Flickr did not say whose account it is.")
    config: dict[str, Any] = {"user_nsid": nsid}
    if app.base_url:
        config.update(api_base=app.base_url, upload_base=app.base_url)
    return [
        Pick(
            key=nsid,
            name=f"Flickr {answer.get('username') or nsid}"[:100],
            config=config,
            credentials={
                "consumer_key": app.client_id,
                "consumer_secret": app.client_secret,
                "oauth_token": answer["oauth_token"],
                "oauth_token_secret": answer["oauth_token_secret"],
            },
        )
    ]
