"""Reports per objective and per channel, in JSON and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db import transaction
from app.posts.models import Delivery
from app.runtime import Runtime
from app.spreadsheet import safe_cell
from tests.helpers import API, objective, post, webhook_channel


def test_objective_and_channel_report(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    events = objective(client, admin, name="Events", timezone="UTC")
    hook = webhook_channel(client, admin, name="Intranet")
    # Mon 23 covered twice over, Tue 24 nothing, Wed 25 one post that failed, Thu 26 nothing.
    first = post(
        client,
        admin,
        text="a",
        objective_ids=[events["id"]],
        channel_ids=[hook["id"]],
        scheduled_at="2026-11-23T10:00:00Z",
    )
    post(
        client,
        admin,
        text="b",
        objective_ids=[events["id"]],
        channel_ids=[hook["id"]],
        scheduled_at="2026-11-23T12:00:00Z",
    )
    failed = post(
        client,
        admin,
        text="c",
        objective_ids=[events["id"]],
        channel_ids=[hook["id"]],
        scheduled_at="2026-11-25T10:00:00Z",
    )
    with transaction(runtime.sessions) as session:
        session.execute(
            update(Delivery)
            .where(Delivery.post_id == first["id"])
            .values(status="published", published_at=datetime(2026, 11, 23, 10, 0, 3, tzinfo=UTC))
        )
        session.execute(
            update(Delivery).where(Delivery.post_id == failed["id"]).values(status="failed")
        )

    response = client.get(
        f"{API}/reports/objectives",
        params={"from": "2026-11-23", "to": "2026-11-26"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    [report] = body["objectives"]
    # The engagement figures are tested in tests/insights/test_reports.py.
    assert {k: v for k, v in report.items() if not k.startswith("engagement")} == {
        "objective_id": events["id"],
        "name": "Events",
        "required": 4,
        "planned": 2,
        "published": 1,
        "failed": 1,
        "required_days": 4,
        "covered_days": 1,
        "covered_percent": 25.0,
        "longest_uncovered_streak": 3,
    }
    [channel] = body["channels"]
    assert (channel["published"], channel["failed"], channel["median_lag_seconds"]) == (1, 1, 3.0)

    as_csv = client.get(
        f"{API}/reports/objectives",
        params={"from": "2026-11-23", "to": "2026-11-26"},
        headers={**admin, "Accept": "text/csv"},
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    rows = [r for r in rows if not r["section"].endswith("_period")]
    assert [r["section"] for r in rows] == ["objective", "channel"]
    assert rows[0]["covered_percent"] == "25.0" and rows[1]["median_lag_seconds"] == "3.0"
    assert (
        client.get(
            f"{API}/reports/objectives",
            params={"from": "2026-11-23", "to": "2026-11-26", "format": "csv"},
            headers=admin,
        ).text
        == as_csv.text
    )


def test_report_range_is_checked(client: TestClient, admin: dict[str, str]) -> None:
    response = client.get(
        f"{API}/reports/objectives",
        params={"from": "2026-11-23", "to": "2026-11-01"},
        headers=admin,
    )
    assert response.status_code == 422


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(
    client: TestClient, admin: dict[str, str]
) -> None:
    # Names are stripped, so a leading tab or CR is only checked on the function below.
    for name in ('=HYPERLINK("http://evil.example")', "+1+2", "-3", "@SUM(A1)"):
        objective(client, admin, name=name)
    webhook_channel(client, admin, name="=cmd|' /C calc'!A0")
    answer = client.get(
        f"{API}/reports/objectives",
        params={"from": "2026-11-23", "to": "2026-11-26", "format": "csv"},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    cells = [r["name"] for r in rows]
    assert cells and all(cell.startswith("'") for cell in cells), cells
    assert "'=cmd|' /C calc'!A0" in cells
    assert all(r["required"].isdigit() for r in rows if r["section"] == "objective")


def test_safe_cell_neutralises_every_formula_start() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert safe_cell(f"{start}1") == f"'{start}1"
    assert safe_cell("Events") == "Events"
    assert safe_cell(-3) == -3  # numbers are not text a spreadsheet would parse
