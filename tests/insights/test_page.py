"""The insights page, server-rendered: per objective and per channel, the charts as SVG
(nothing loaded from elsewhere), the numbers as tables, the top 5 posts."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.insights.charts import _nice_top, bars
from app.runtime import Runtime
from app.users.models import Role
from tests.helpers import objective, webhook_channel
from tests.insights.conftest import published
from tests.insights.test_reports import reading
from tests.web.test_pages import login, make_user


def test_the_page_shows_each_objective_and_channel(
    client: TestClient, admin: dict[str, str], runtime: Runtime, clock: FrozenClock
) -> None:
    goal = objective(client, admin, name="Fundraising events", min_posts_per_day=2)
    hook = webhook_channel(client, admin, name="Intranet news")["id"]
    made = published(
        client,
        admin,
        runtime,
        hook,
        [str(n) for n in range(7)],
        at=clock.now() - timedelta(days=3),
        objective_id=goal["id"],
        text="Fun run",
    )
    for n, (_, delivery_id) in enumerate(made):
        reading(runtime, delivery_id, clock.now(), likes=n, reposts=0, replies=0, views=10 * n)
    make_user(runtime, "viewer@example.org", Role.viewer)
    assert login(client, "viewer@example.org").status_code == 303
    page = client.get("/insights")
    assert page.status_code == 200
    html = page.text
    assert "Fundraising events" in html and "Intranet news" in html
    assert html.count("<svg") == 4, "two charts for the objective, two for the channel"
    assert 'role="img"' in html and 'class="target"' in html
    assert "http" not in re.sub(r'href="/[^"]*"', "", html.split("<main", 1)[1]).replace(
        "http://www.w3.org", ""
    ), "nothing from elsewhere"
    top = re.findall(r'<a href="/posts/[0-9a-f]+">(Fun run \d)</a>', html)
    assert top[:5] == ["Fun run 6", "Fun run 5", "Fun run 4", "Fun run 3", "Fun run 2"]
    assert "<caption>Posts per day</caption>" in html
    assert 'aria-current="page"' in html.split('href="/insights"', 1)[1][:40]


def test_the_page_needs_a_login(client: TestClient) -> None:
    answer = client.get("/insights", follow_redirects=False)
    assert answer.status_code in (302, 303)


def test_chart_scale() -> None:
    assert [_nice_top(v) for v in (0, 1, 1.5, 3, 7, 12, 99, 101)] == [1, 1, 2, 5, 10, 20, 100, 200]
    chart = bars([0, 2, 4], ["a", "b", "c"], target=1)
    assert chart.top == 5 and chart.bars[0].height == 0
    assert chart.target_y is not None and chart.bars[2].y < chart.target_y
