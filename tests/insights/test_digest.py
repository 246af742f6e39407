"""The weekly digest: due on Mondays at CADENCE_DIGEST_AT local time, made once across
processes, queued to the alert channels; the same digest as a page and a PDF."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.clock import FrozenClock
from app.config import Settings
from app.db import transaction
from app.insights import digest
from app.insights.models import Digest
from app.objectives.models import Objective
from app.posts.models import Delivery, Post
from app.runtime import Runtime
from app.team.models import TwophyAward
from app.users.models import Role, User
from tests.fakes.processes import ROOT
from tests.helpers import API, objective, webhook_channel
from tests.insights.conftest import published
from tests.insights.test_reports import clicks, reading
from tests.web.test_pages import login, make_user

LAST_MONDAY = date(2026, 11, 16)  # the week before the test clock's Monday, 23 Nov


def settings_at(digest_at: str = "09:00", zone: str = "Europe/London") -> Settings:
    return Settings(_env_file=None, timezone=zone, digest_at=digest_at)  # type: ignore[call-arg]


def test_due_on_monday_at_the_local_time() -> None:
    settings = settings_at("09:30", "America/New_York")
    monday_early = datetime(2026, 11, 23, 14, 29, tzinfo=UTC)  # 09:29 in New York
    assert digest.due_week(monday_early, settings) is None
    assert digest.due_week(monday_early + timedelta(minutes=1), settings) == LAST_MONDAY
    assert digest.due_week(datetime(2026, 11, 26, 3, 0, tzinfo=UTC), settings) == LAST_MONDAY
    sunday = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    assert digest.due_week(sunday, settings) == LAST_MONDAY


@pytest.mark.parametrize("value", ["9", "25:00", "09:60", "nine", "09:5"])
def test_digest_at_must_be_a_time_of_day(value: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        settings_at(value)


def week_of_posts(client: TestClient, admin: dict[str, str], runtime: Runtime) -> dict:
    goal = objective(client, admin, name="Events", min_posts_per_day=1)
    with transaction(runtime.sessions) as session:  # made before the week reported
        session.execute(
            update(Objective)
            .where(Objective.id == goal["id"])
            .values(created_at=datetime(2026, 11, 1, tzinfo=UTC))
        )
    hook = webhook_channel(client, admin, name="Intranet", receives_alerts=True)["id"]
    webhook_channel(client, admin, name="Team chat", receives_alerts=True)
    # Published Tuesday and Thursday of last week: five days missed.
    made = []
    for day in (17, 19):
        made += published(
            client,
            admin,
            runtime,
            hook,
            [f"ext{day}"],
            at=datetime(2026, 11, day, 10, 0, tzinfo=UTC),
            objective_id=goal["id"],
            text=f"News of the {day}th",
        )
    reading(runtime, made[0][1], datetime(2026, 11, 20, tzinfo=UTC), likes=4, reposts=0)
    clicks(runtime, made[1][1], 9, datetime(2026, 11, 20, tzinfo=UTC))
    return {"goal": goal, "hook": hook, "made": made}


def test_the_digest_goes_once_to_the_alert_channels(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
) -> None:
    week_of_posts(client, admin, runtime)
    clock.set(datetime(2026, 11, 23, 8, 59, tzinfo=UTC))  # 08:59 in London
    settings = runtime.settings.model_copy(update={"digest_at": "09:00"})
    with transaction(runtime.sessions) as session:
        assert digest.send_due(session, now=clock.now(), settings=settings) is None
    clock.advance(minutes=1)
    with transaction(runtime.sessions) as session:
        post_id = digest.send_due(session, now=clock.now(), settings=settings)
    assert post_id is not None
    with transaction(runtime.sessions) as session:
        assert digest.send_due(session, now=clock.now(), settings=settings) is None
    with runtime.sessions() as session:
        post = session.get(Post, post_id)
        assert post is not None and post.kind == "alert" and post.internal_only
        deliveries = session.scalars(select(Delivery).where(Delivery.post_id == post_id)).all()
        assert len(deliveries) == 2 and {d.status for d in deliveries} == {"scheduled"}
        text = post.text
    assert text.startswith("Cadence weekly digest: 16 Nov to 22 Nov 2026")
    assert "- Events: 2 of 7 days covered; missed: Mon 16, Wed 18, Fri 20, Sat 21, Sun 22" in text
    assert "- Events: News of the 19th 0 (0 likes, 0 reposts, 0 replies, 9 clicks)" in text
    assert "Clicks on internal channels: 9" in text and "- Intranet: 9" in text
    assert text.endswith("The full digest: http://cadence.test/digest?week=2026-11-16")
    # Not a calendar post.
    assert client.get(f"{API}/posts", headers=admin).json()["total"] == 2


def test_a_champion_hook_adds_its_line(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    registered = list(digest.CHAMPION_HOOKS)
    digest.CHAMPION_HOOKS[:] = [lambda session, start, end, zone: f"Champion of {start}: Ann"]
    try:
        with runtime.sessions() as session:
            content = digest.content(session, LAST_MONDAY, now=clock.now(), zone="UTC")
    finally:
        digest.CHAMPION_HOOKS[:] = registered
    assert content.extra == ["Champion of 2026-11-16: Ann"]


def test_the_digest_names_the_weeks_twophy_champion(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    week_of_posts(client, admin, runtime)  # two posts by the admin, published last week
    with runtime.sessions() as session:
        admin_user = session.scalars(select(User).where(User.role == Role.admin)).one()
        name = admin_user.name or admin_user.email.split("@")[0]
        # No award yet (the digest may go before the Twophy): the week's standings.
        content = digest.content(session, LAST_MONDAY, now=clock.now(), zone="UTC")
        assert content.extra == [f"Twophy champion of 2026-W47: {name} (2 posts published)"]
        assert f"Twophy champion of 2026-W47: {name}" in digest.as_text(content, link="x")
        # A week nobody published in names nobody.
        quiet = digest.content(
            session, LAST_MONDAY - timedelta(days=7), now=clock.now(), zone="UTC"
        )
        assert quiet.extra == []
    # Once the award is made, the digest names its winner (as recorded).
    with transaction(runtime.sessions) as session:
        session.add(
            TwophyAward(week="2026-W47", user_id=admin_user.id, published=3, awarded_at=clock.now())
        )
    with runtime.sessions() as session:
        content = digest.content(session, LAST_MONDAY, now=clock.now(), zone="UTC")
    assert content.extra == [f"Twophy champion of 2026-W47: {name} (3 posts published)"]


SENDER = """
import sys, time
from datetime import date, datetime
from pathlib import Path
from app.config import Settings
from app.db import transaction
from app.insights.digest import send
from app.runtime import Runtime
url, now, go = sys.argv[1], datetime.fromisoformat(sys.argv[2]), Path(sys.argv[3])
settings = Settings(_env_file=None, database_url=url, secret_key="test-secret-key",
                    key_file=Path(sys.argv[4]), base_url="http://cadence.test")
runtime = Runtime.build(settings)
print("ready", flush=True)
while not go.exists():
    time.sleep(0.01)
with transaction(runtime.sessions) as session:
    made = send(session, date(2026, 11, 16), now=now, settings=settings)
print(made or "none", flush=True)
"""


def test_two_processes_send_one_digest(
    client: TestClient,
    admin: dict[str, str],
    runtime: Runtime,
    clock: FrozenClock,
    database_url: str,
    tmp_path: Path,
) -> None:
    week_of_posts(client, admin, runtime)
    go = tmp_path / "go"
    args = [database_url, clock.now().isoformat(), str(go), str(tmp_path / "key")]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SENDER, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [proc.communicate(timeout=120)[0].strip() for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    assert [proc.returncode for proc in procs] == [0, 0]
    assert sorted(out == "none" for out in outputs) == [False, True], outputs
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Digest)) == 1
        digests = session.scalars(select(Post).where(Post.title.like("Cadence weekly%"))).all()
        assert len(digests) == 1
        count = session.scalar(select(func.count()).where(Delivery.post_id == digests[0].id))
        assert count == 2


def test_the_digest_page_and_pdf(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    week_of_posts(client, admin, runtime)
    make_user(runtime, "viewer@example.org", Role.viewer)
    assert login(client, "viewer@example.org").status_code == 303
    page = client.get("/digest")
    assert page.status_code == 200
    assert "Cadence weekly digest: 16 Nov to 22 Nov 2026" in page.text
    assert "2 of 7" in page.text and "News of the 19th" in page.text
    other = client.get("/digest?week=2026-11-04")
    assert "2 Nov to 8 Nov 2026" in other.text
    assert client.get("/digest?week=nonsense").status_code == 200
    pdf = client.get("/digest.pdf?week=2026-11-18")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert 'filename="cadence-digest-2026-11-16.pdf"' in pdf.headers["content-disposition"]


def test_the_pdf_prints_unicode_with_dejavu_and_degrades_without(
    runtime: Runtime, clock: FrozenClock
) -> None:
    from app.insights import pdf

    with runtime.sessions() as session:
        content = digest.content(session, LAST_MONDAY, now=clock.now(), zone="UTC")
    content.extra = ["Twophy champion of 2026-W47: Zoë Ωmega Жанна 中 🏆"]
    # Debian's fonts-dejavu-core comes with chromium, which .ci/run installs: CI must
    # check the Unicode path, not skip past it.
    if os.environ.get("CI"):
        assert pdf.unicode_font_dir() is not None, "fonts-dejavu-core is missing"
    if pdf.unicode_font_dir() is not None:
        made = pdf.digest_pdf(content, link="http://cadence.test/digest")
        assert made.startswith(b"%PDF-") and b"/FontFile2" in made, "DejaVu embedded"
        assert b"DejaVu" in made
    core = pdf.digest_pdf(content, link="http://cadence.test/digest", font_dirs=())
    assert core.startswith(b"%PDF-") and b"/Helvetica" in core and b"DejaVu" not in core
    assert pdf.unicode_font_dir((Path("/nowhere"),)) is None
