"""The `cadence` command."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from app.config import Settings, get_settings, write_key_file
from app.keys import KeyProblem, check_credentials_readable, check_secret_key
from app.runtime import Runtime
from app.users.roles import ROLE_NAMES

# Named, not __name__: run as `python -m app.cli` this module is __main__, which the
# log setup would treat as another library's logger.
log = logging.getLogger("app.cli")


def _settings() -> Settings:
    """Settings, with a readable message naming the variable when one is wrong."""
    from pydantic import ValidationError

    try:
        settings = get_settings()
        check_secret_key(settings)
    except ValidationError as exc:
        lines = [
            f"CADENCE_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        ]
        raise click.ClickException("invalid settings:\n  " + "\n  ".join(lines)) from None
    except KeyProblem as exc:
        raise click.ClickException(str(exc)) from None
    return settings


def _runtime(settings: Settings | None = None) -> Runtime:
    try:
        return Runtime.build(settings or _settings())
    except KeyProblem as exc:
        raise click.ClickException(str(exc)) from None


def _refuse_unreadable_credentials(runtime: Runtime, accepted: bool) -> None:
    """Stop here when the keys do not read the stored credentials (lost or replaced key)."""
    try:
        check_credentials_readable(runtime)
    except KeyProblem as exc:
        if not accepted:
            runtime.close()
            raise click.ClickException(str(exc)) from None
        click.echo(f"warning: {exc}", err=True)


_ACCEPT_UNREADABLE = click.option(
    "--accept-unreadable-credentials",
    is_flag=True,
    help="Start even when some channels' credentials cannot be decrypted "
    "(their API answers 409 until new credentials are entered).",
)


def _configure_logging(settings: Settings) -> None:
    from app.logs import configure

    configure(settings.log_level, settings.log_format)


@click.group()
def main() -> None:
    """Cadence: plan posts, publish them on time, keep every objective covered."""


@main.command()
def migrate() -> None:
    """Apply database migrations."""
    from app.migrate import upgrade

    runtime = _runtime()
    upgrade(runtime.engine)
    click.echo("database is up to date")


@main.command()
@click.option("--host", default=None, help="Address to listen on (CADENCE_HOST).")
@click.option("--port", type=int, default=None, help="Port (CADENCE_PORT).")
@click.option("--no-scheduler", is_flag=True, help="Serve the API and pages only; workers publish.")
@_ACCEPT_UNREADABLE
def serve(
    host: str | None, port: int | None, no_scheduler: bool, accept_unreadable_credentials: bool
) -> None:
    """Apply migrations, then serve the API and web pages (with the scheduler unless told not to)."""
    import uvicorn

    from app.main import create_app
    from app.migrate import upgrade

    settings = _settings()
    _configure_logging(settings)
    runtime = _runtime(settings)
    upgrade(runtime.engine)
    _refuse_unreadable_credentials(runtime, accept_unreadable_credentials)
    app = create_app(runtime, scheduler=not no_scheduler)
    host, port = host or settings.host, port or settings.port
    log.info(
        "serving http://%s:%d/ %s",
        host,
        port,
        "(API and pages only)" if no_scheduler else "with the publishing scheduler",
    )
    # log_level=None: uvicorn leaves logger levels to app.logs (its access log is noise).
    # proxy_headers=False: create_app reads X-Forwarded-* itself, from
    # CADENCE_FORWARDED_ALLOW_IPS only.
    uvicorn.run(app, host=host, port=port, log_level=None, log_config=None, proxy_headers=False)


@main.command()
@click.option("--metrics-port", type=int, default=None, help="Serve /metrics on this port.")
@_ACCEPT_UNREADABLE
def worker(metrics_port: int | None, accept_unreadable_credentials: bool) -> None:
    """Run the scheduler alone: claim and publish due deliveries until SIGTERM or SIGINT."""
    import asyncio
    import signal

    from app.scheduler import Scheduler

    settings = _settings()
    _configure_logging(settings)
    runtime = _runtime(settings)
    _refuse_unreadable_credentials(runtime, accept_unreadable_credentials)
    if metrics_port is not None:
        from app.metrics import serve_metrics

        serve_metrics(metrics_port, addr=settings.host, token=settings.metrics_token)

    async def run() -> None:
        scheduler = Scheduler(runtime)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        scheduler.start()
        await stop.wait()
        log.info("stopping: finishing the posts being published")
        await scheduler.stop()

    with asyncio.Runner(loop_factory=_fast_loop_factory()) as runner:
        runner.run(run())
    runtime.close()


def _fast_loop_factory() -> Any:
    """uvloop's event loop where it is installed: the dispatcher's HTTP calls and
    timers cost less CPU on it. The standard loop otherwise (Windows)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency where it builds
        return None
    return uvloop.new_event_loop


@main.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.option("--email", required=True, help="The user's e-mail; the user is created if needed.")
@click.option("--role", type=click.Choice(ROLE_NAMES), required=True)
@click.option("--name", default="", help="A label for the token.")
@click.option(
    "--expires-in-days", type=click.IntRange(min=1), default=None, help="Expire it after N days."
)
def token_create(email: str, role: str, name: str, expires_in_days: int | None) -> None:
    """Create a token for a user and print it (last line). It is shown only once."""
    from datetime import timedelta

    from app.db import transaction
    from app.users.models import Role
    from app.users.service import create_token, get_or_create_user

    runtime = _runtime()
    now = runtime.clock.now()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    with transaction(runtime.sessions) as session:
        user = get_or_create_user(session, email=email, role=Role(role), now=now)
        secret = create_token(session, user=user, now=now, name=name, expires_at=expires_at)
    click.echo(f"token for {user.email} ({role}); store it now, it is not shown again:", err=True)
    click.echo(secret)


def _when(value: object) -> str:
    from datetime import datetime

    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else "-"


@token.command("list")
@click.option("--email", default=None, help="Only this user's tokens.")
def token_list(email: str | None) -> None:
    """List the tokens not revoked: id, name, owner, role, created, expires, last used."""
    from sqlalchemy import select

    from app.users.models import ApiToken, User

    runtime = _runtime()
    query = (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.revoked_at.is_(None))
        .order_by(User.email, ApiToken.created_at)
    )
    if email:
        query = query.where(User.email == email.strip().lower())
    with runtime.sessions() as session:
        rows = session.execute(query).all()
    click.echo("ID\tNAME\tUSER\tROLE\tCREATED\tEXPIRES\tLAST USED")
    for api_token, user in rows:
        click.echo(
            "\t".join(
                [
                    api_token.id,
                    api_token.name or "-",
                    user.email + ("" if user.active else " (disabled)"),
                    user.role,
                    _when(api_token.created_at),
                    _when(api_token.expires_at),
                    _when(api_token.last_used_at),
                ]
            )
        )


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token by its ID (from `cadence token list`); it stops working at once."""
    from app.db import transaction
    from app.users.models import ApiToken

    runtime = _runtime()
    with transaction(runtime.sessions) as session:
        found = session.get(ApiToken, token_id)
        if found is None or found.revoked_at is not None:
            raise click.ClickException(f"there is no token {token_id} (or it is revoked already)")
        found.revoked_at = runtime.clock.now()
    click.echo(f"token {token_id} revoked")


@main.group()
def user() -> None:
    """People who use the web pages."""


@user.command("set-password")
@click.option("--email", required=True, help="The user's e-mail.")
@click.option(
    "--role",
    type=click.Choice(ROLE_NAMES),
    default=None,
    help="Create the user with this role if needed, or change an existing user's role.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_set_password(email: str, role: str | None, password_stdin: bool) -> None:
    """Set the password a user logs in to the web pages with (prompts twice)."""
    from sqlalchemy import select

    from app.db import transaction
    from app.errors import InvalidInput
    from app.users.models import Role, User
    from app.users.passwords import check_strength, set_password
    from app.users.service import get_or_create_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        check_strength(password, user_inputs=(email,))
    except InvalidInput as exc:
        raise click.ClickException(exc.problems[0].msg) from None
    runtime = _runtime()
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        found = session.scalar(select(User).where(User.email == email.strip().lower()))
        if found is None and role is None:
            raise click.ClickException(
                f"there is no user {email}; give --role {'|'.join(ROLE_NAMES)} to create one"
            )
        if role is not None:
            found = get_or_create_user(session, email=email, role=Role(role), now=now)
        if found is None:  # unreachable: either found, or made with the role given
            raise click.ClickException(f"there is no user {email}")
        set_password(session, user=found, password=password)
        label = f"{found.email} ({found.role})"
    click.echo(f"password set for {label}")


@main.command("check-coverage")
def check_coverage() -> None:
    """Run the coverage check now: open and resolve alerts, and queue their announcements."""
    from app.alerts.announce import Times, announce
    from app.coverage.service import check
    from app.db import transaction

    runtime = _runtime()
    now = runtime.clock.now()
    with transaction(runtime.sessions) as session:
        result = check(session, now=now, lookahead_days=runtime.settings.coverage_lookahead_days)
        announced = announce(
            session, now=now, base_url=runtime.settings.base_url, times=Times.of(runtime.settings)
        )
    click.echo(
        f"coverage checked: {len(result.opened)} alert(s) opened, {len(result.resolved)} resolved, "
        f"{announced} announcement(s) queued for the alert channels"
    )


@main.command("rotate-key")
def rotate_key() -> None:
    """Generate a new secret key and re-encrypt every channel's credentials with it."""
    import secrets

    from sqlalchemy import select

    from app.channels.models import Channel
    from app.crypto import CredentialBox
    from app.db import transaction

    settings = _settings()
    runtime = _runtime(settings)  # makes the first key file when there is none yet
    old_keys = settings.secret_keys()
    new_key = secrets.token_urlsafe(32)
    box = CredentialBox([new_key, *old_keys])
    with transaction(runtime.sessions) as session:
        channels = session.scalars(select(Channel).with_for_update()).all()
        for channel in channels:
            channel.credentials_encrypted = box.rotate(channel.credentials_encrypted)
    if settings.secret_key:
        click.echo(
            "credentials re-encrypted. Set CADENCE_SECRET_KEY to the new key below and "
            "restart every process; the old key is no longer needed:",
            err=True,
        )
        click.echo(new_key)
    else:
        # Keep the old key on a second line until every process has restarted.
        write_key_file(settings.key_file, new_key, previous=old_keys[:1])
        click.echo(
            f"re-encrypted {len(channels)} channel(s); new key written to {settings.key_file}"
        )


# -- connecting accounts --


# -- team workflow --


# -- planning --


# -- exchange --


# -- insights --


@main.group()
def metrics() -> None:
    """Engagement figures read back from the platforms."""


@metrics.command("collect")
def metrics_collect() -> None:
    """Read now the figures of every published delivery of the last 30 days, whatever
    its schedule (deliveries whose post was deleted are skipped)."""
    import asyncio

    from app.insights.collect import Collector

    runtime = _runtime()

    async def run() -> int:
        collector = Collector(runtime, owner=f"cli-{id(runtime):x}")
        try:
            return await collector.run(everything=True)
        finally:
            await collector.close()

    try:
        read = asyncio.run(run())
    finally:
        runtime.close()
    click.echo(f"metrics collected: {read} delivery(ies) read")


@main.group()
def digest() -> None:
    """The weekly digest sent to the alert channels."""


@digest.command("send")
@click.option(
    "--week",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Any day of the week to report (default: last week).",
)
def digest_send(week: Any) -> None:
    """Send the digest of a week to the alert channels now, unless it was sent already
    (by the scheduler or another process)."""
    from datetime import timedelta

    from app.db import transaction
    from app.insights.digest import last_week, send

    runtime = _runtime()
    now = runtime.clock.now()
    if week is None:
        from zoneinfo import ZoneInfo

        start = last_week(now.astimezone(ZoneInfo(runtime.settings.timezone)).date())
    else:
        day = week.date()
        start = day - timedelta(days=day.weekday())
    try:
        with transaction(runtime.sessions) as session:
            post_id = send(session, start, now=now, settings=runtime.settings)
    finally:
        runtime.close()
    if post_id is None:
        click.echo(f"the digest of the week of {start} was sent already")
    else:
        click.echo(f"digest of the week of {start} queued for the alert channels (post {post_id})")


# Last, so `python -m app.cli` knows every command defined above.
if __name__ == "__main__":
    sys.exit(main())
