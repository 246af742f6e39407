"""One description per platform's authorization server: where its pages and endpoints
are, which scopes Cadence asks for, how the client authenticates, and how the answer
becomes channels ("picks").

Every URL is the platform's real one; `CADENCE_<P>_BASE_URL` replaces its scheme and
host (`rebase`), paths stay. Sources for each value are in docs/platforms.md
("Connecting accounts").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from app.config import Settings


@dataclass(frozen=True)
class Provider:
    platform: str  # the registry's slug
    label: str
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...]
    # PKCE (S256) on the authorization request and the code exchange.
    pkce: bool
    # Client authentication at the token endpoint: HTTP Basic, or client_id and
    # client_secret in the form body.
    basic_auth: bool
    # Written in the how-to of a platform that is not set up.
    console: str
    app_type: str
    review: str
    scope_separator: str = " "
    # The name of the scope parameter (Slack's bot scopes are `scope`, user ones not).
    extra_authorize: Mapping[str, str] = field(default_factory=dict)
    # Whether one authorization may hold several publishable things (a chooser).
    chooser: bool = False
    # Whether the flow is built (the others show their how-to and "use the form").
    ready: bool = True
    # How the code goes to the token endpoint: a form POST, or (Facebook) a GET query.
    token_method: str = "POST"
    # OAuth 1.0a three-legged (Flickr): where the request token comes from; the
    # authorize URL and token URL are then the authorize page and the access token URL.
    request_token_url: str | None = None


@dataclass(frozen=True)
class Pick:
    """One publishable thing an authorization opened: becomes one channel."""

    key: str  # stable id on the platform (account, channel, page, community)
    name: str  # what the admin sees and the channel's default name
    config: dict[str, Any]
    credentials: dict[str, Any]
    access_expires_at: datetime | None = None
    ends_at: datetime | None = None


PROVIDERS: dict[str, Provider] = {
    "x": Provider(
        platform="x",
        label="X",
        authorize_url="https://x.com/i/oauth2/authorize",
        token_url="https://api.x.com/2/oauth2/token",
        scopes=("tweet.read", "tweet.write", "users.read", "offline.access", "media.write"),
        pkce=True,
        basic_auth=True,
        console="the X Developer Portal (developer.x.com), Projects & Apps",
        app_type=(
            "User authentication settings: OAuth 2.0, type of app 'Web App, Automated App "
            "or Bot' (a confidential client), app permissions 'Read and write'"
        ),
        review="none for the Free tier; posting volume depends on the plan",
    ),
    "slack": Provider(
        platform="slack",
        label="Slack",
        authorize_url="https://slack.com/oauth/v2/authorize",
        token_url="https://slack.com/api/oauth.v2.access",
        scopes=("incoming-webhook",),
        scope_separator=",",
        pkce=False,
        basic_auth=False,
        console="api.slack.com/apps, Create New App, From scratch",
        app_type="OAuth & Permissions: add the bot scope incoming-webhook",
        review="none for your own workspace; other workspaces need public distribution",
    ),
    "youtube": Provider(
        platform="youtube",
        label="YouTube",
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        scopes=(
            "https://www.googleapis.com/auth/youtube.upload",
            "https://www.googleapis.com/auth/youtube.readonly",
        ),
        pkce=True,
        basic_auth=False,
        extra_authorize={"access_type": "offline", "prompt": "consent"},
        chooser=True,
        console="Google Cloud console, APIs & Services (enable YouTube Data API v3)",
        app_type="OAuth client ID of type 'Web application'",
        review=(
            "Google's verification of the sensitive scopes; uploads of unverified apps "
            "stay private until the API audit"
        ),
    ),
    "facebook": Provider(
        platform="facebook",
        label="Facebook Pages",
        authorize_url="https://www.facebook.com/v24.0/dialog/oauth",
        token_url="https://graph.facebook.com/v24.0/oauth/access_token",
        scopes=("pages_show_list", "pages_read_engagement", "pages_manage_posts"),
        scope_separator=",",
        pkce=False,
        basic_auth=False,
        chooser=True,
        console="Meta for Developers (developers.facebook.com), My Apps, type Business",
        app_type="add the product 'Facebook Login for Business'",
        review="App Review of pages_manage_posts and Business Verification",
        token_method="GET",
    ),
    "yammer": Provider(
        platform="yammer",
        label="Viva Engage",
        authorize_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        token_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        scopes=("https://www.yammer.com/.default", "offline_access"),
        pkce=True,
        basic_auth=False,
        chooser=True,
        console="Microsoft Entra admin center, App registrations",
        app_type="platform 'Web', API permission Yammer (delegated) access_as_user",
        review="a tenant admin's consent",
    ),
    "flickr": Provider(
        platform="flickr",
        label="Flickr",
        authorize_url="https://www.flickr.com/services/oauth/authorize",
        token_url="https://www.flickr.com/services/oauth/access_token",
        scopes=("write",),
        pkce=False,
        basic_auth=False,
        console="flickr.com/services/apps/create",
        app_type="a non-commercial (or commercial) API key; its callback URL",
        review="Flickr approves commercial keys",
        request_token_url="https://www.flickr.com/services/oauth/request_token",
    ),
    "linkedin": Provider(
        platform="linkedin",
        label="LinkedIn Page",
        authorize_url="https://www.linkedin.com/oauth/v2/authorization",
        token_url="https://www.linkedin.com/oauth/v2/accessToken",
        # rw_organization_admin: the chooser's organizationAcls lookup needs it.
        scopes=("w_organization_social", "r_organization_social", "rw_organization_admin"),
        pkce=False,
        basic_auth=False,
        chooser=True,
        console="LinkedIn Developer Portal (linkedin.com/developers/apps), Create app",
        app_type=(
            "Auth tab: the redirect URL; Products: 'Community Management API' (grants the "
            "organisation scopes)"
        ),
        review=(
            "LinkedIn's review of the Community Management API; refresh tokens only for "
            "approved partners (without them the channel asks for a reconnect after 60 days)"
        ),
    ),
    "vimeo": Provider(
        platform="vimeo",
        label="Vimeo",
        authorize_url="https://api.vimeo.com/oauth/authorize",
        token_url="https://api.vimeo.com/oauth/access_token",
        scopes=("public", "private", "upload", "edit"),
        pkce=False,
        basic_auth=True,
        console="developer.vimeo.com/apps, Create an app",
        app_type="its callback URL; request upload access for the app",
        review="Vimeo approves upload access per app",
    ),
    "sharepoint": Provider(
        platform="sharepoint",
        label="SharePoint",
        authorize_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        token_url="https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        scopes=("Sites.ReadWrite.All", "offline_access"),
        pkce=True,
        basic_auth=False,
        chooser=True,
        console="Microsoft Entra admin center, App registrations",
        app_type="platform 'Web', API permission Microsoft Graph (delegated) Sites.ReadWrite.All",
        review="a tenant admin's consent",
    ),
    "instagram": Provider(
        platform="instagram",
        label="Instagram",
        # Facebook Login: the Instagram professional accounts come with the Pages they
        # are linked to; the app may be the Facebook Pages one (its own settings).
        authorize_url="https://www.facebook.com/v24.0/dialog/oauth",
        token_url="https://graph.facebook.com/v24.0/oauth/access_token",
        scopes=(
            "instagram_basic",
            "instagram_content_publish",
            "pages_show_list",
            "pages_read_engagement",
        ),
        scope_separator=",",
        pkce=False,
        basic_auth=False,
        chooser=True,
        console="Meta for Developers (developers.facebook.com), My Apps, type Business",
        app_type="add the products 'Facebook Login for Business' and 'Instagram'",
        review="App Review of instagram_content_publish and Business Verification",
        token_method="GET",
    ),
}


def rebase(url: str, base: str | None) -> str:
    """`url` with the scheme and host of `base` (when given); path and query stay."""
    if not base:
        return url
    target, parts = urlsplit(base), urlsplit(url)
    return urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class AppSettings:
    """One platform's app, from the settings."""

    client_id: str
    client_secret: str
    base_url: str | None
    tenant: str


def app_settings(settings: Settings, platform: str) -> AppSettings | None:
    """The platform's client id and secret, or None when it is not set up."""
    client_id = getattr(settings, f"{platform}_client_id", None)
    secret = getattr(settings, f"{platform}_client_secret", None)
    if not client_id or not secret:
        return None
    return AppSettings(
        client_id=client_id,
        client_secret=secret,
        base_url=getattr(settings, f"{platform}_base_url", None),
        tenant=(settings.sharepoint_tenant if platform == "sharepoint" else None)
        or settings.yammer_tenant,
    )


def redirect_uri(settings: Settings, platform: str) -> str:
    """Where the platform sends the browser back: from the settings, never the request."""
    return settings.base_url.rstrip("/") + f"/channels/connect/{platform}/callback"


def endpoint(url: str, app: AppSettings) -> str:
    return rebase(url.replace("{tenant}", app.tenant), app.base_url)
