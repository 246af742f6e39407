"""POST /posts/import and GET /posts/export: posts in and out of spreadsheets."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from tests.helpers import API, objective, row_counts, total, webhook_channel, x_channel

CSV = {"Content-Type": "text/csv"}
HEADER = "text,scheduled_at,objectives,channels,title,link,timezone,status\n"


@pytest.fixture
def world(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "support": objective(client, admin)["id"],
        "events": objective(client, admin, name="Events")["id"],
        "hook": webhook_channel(client, admin)["id"],
        "x": x_channel(client, admin)["id"],
    }


def _import(client: TestClient, headers: dict[str, str], body: str | bytes, **params: Any) -> Any:
    data = body.encode() if isinstance(body, str) else body
    return client.post(
        f"{API}/posts/import", content=data, headers={**headers, **CSV}, params=params
    )


def _posts(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(f"{API}/posts", headers=headers, params={"limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["items"]  # type: ignore[no-any-return]


def test_rows_become_posts_by_name_or_id_with_offsets_or_local_times(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    body = HEADER + (
        "Open day,2026-11-24T10:00:00+00:00,Support and information,Intranet hook,,,,\n"
        f'Two of each,2026-11-24 10:00,"support and information;{world["events"]}",'
        f'"{world["hook"]};main x account",A title,https://example.org/a?b=1#c,Europe/Paris,\n'
        "A draft,,,,,,,draft\n"
    )
    response = _import(client, editor, body)
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["rows"] == 3 and answer["dry_run"] is False and len(answer["post_ids"]) == 3
    posts = {p["id"]: p for p in _posts(client, editor)}
    first, second, draft = (posts[i] for i in answer["post_ids"])
    assert first["scheduled_at"] == "2026-11-24T10:00:00Z"
    assert first["objective_ids"] == [world["support"]]
    assert first["channel_ids"] == [world["hook"]]
    # A local time in the row's zone: 10:00 in Paris is 09:00 UTC in November.
    assert second["scheduled_at"] == "2026-11-24T09:00:00Z"
    assert sorted(second["objective_ids"]) == sorted([world["support"], world["events"]])
    assert sorted(second["channel_ids"]) == sorted([world["hook"], world["x"]])
    assert (second["title"], second["link"]) == ("A title", "https://example.org/a?b=1#c")
    assert (draft["status"], draft["scheduled_at"]) == ("draft", None)


def test_a_bom_semicolons_and_quoted_line_breaks_are_read(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    body = (
        "\ufefftext;scheduled_at;objectives;channels\r\n"
        '"First line\r\nsecond; line";2026-11-24T10:00:00Z;"Support and information;Events";'
        "Intranet hook\r\n"
    )
    response = _import(client, editor, body.encode("utf-8"))
    assert response.status_code == 201, response.text
    (created,) = _posts(client, editor)
    assert created["text"] == "First line\r\nsecond; line"
    assert len(created["objective_ids"]) == 2


def test_every_problem_is_named_by_row_line_and_column_and_nothing_is_stored(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    body = HEADER + (
        "Fine,2026-11-24T10:00:00Z,Events,Intranet hook,,,,\n"
        '"Two\nlines",yesterday,Nope,Intranet hook,,,,\n'
        f"{'x' * 300},2026-11-24T10:00:00Z,Events,Main X account,,not a link,,\n"
        "Past,2020-01-01T00:00:00Z,Events,Intranet hook,,,Mars/Olympus,soon\n"
        "No channel,2026-11-24T10:00:00Z,Events,,,,,\n"
    )
    response = _import(client, editor, body)
    assert response.status_code == 422, response.text
    found = [(p["row"], p["line"], p["column"]) for p in response.json()["detail"]]
    assert found == [
        (2, 3, "scheduled_at"),
        (2, 3, "objectives"),
        (3, 5, "link"),
        (4, 6, "timezone"),
        (4, 6, "status"),
        (5, 7, "channels"),
    ]
    problem = response.json()["detail"][1]
    assert problem["msg"] == "no objective has the name or id 'Nope'"
    assert problem["loc"] == ["body", 2, "objectives"]
    assert row_counts(runtime) == before

    # Once the rows are well formed, the platforms' rules speak, by row too.
    body = HEADER + f"{'x' * 300},2026-11-24T10:00:00Z,Events,Main X account,,,,\n"
    response = _import(client, editor, body)
    assert response.status_code == 422, response.text
    ((row, line, column, msg),) = [
        (p["row"], p["line"], p["column"], p["msg"]) for p in response.json()["detail"]
    ]
    assert (row, line, column) == (1, 2, "text") and "Main X account" in msg
    assert row_counts(runtime) == before


def test_a_dry_run_checks_only(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    body = HEADER + "Open day,2026-11-24T10:00:00Z,Events,Intranet hook,,,,\n"
    response = _import(client, editor, body, dry_run="true")
    assert response.status_code == 200, response.text
    assert response.json() == {"rows": 1, "dry_run": True, "post_ids": []}
    assert row_counts(runtime) == before


def test_the_file_may_come_as_a_multipart_field(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    body = HEADER + "Open day,2026-11-24T10:00:00Z,Events,Intranet hook,,,,\n"
    response = client.post(
        f"{API}/posts/import",
        files={"file": ("posts.csv", body.encode(), "text/csv")},
        headers=editor,
    )
    assert response.status_code == 201, response.text
    response = client.post(
        f"{API}/posts/import", files={"other": ("x.csv", b"text\n")}, headers=editor
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


@pytest.mark.parametrize(
    ("body", "msg"),
    [
        (b"", "the file is empty; it needs a header row"),
        (b"text\n", "the file has a header but no rows"),
        (b"text,colour\nHi,red\n", "unknown column 'colour'"),
        (b"title\nHi\n", "the header has no text column"),
        (b"text\n\xff\xfe\n", "the file is not UTF-8 text"),
        (b'text\n"open quote\n', "unexpected end of data"),
    ],
)
def test_files_that_cannot_be_read_are_refused_with_a_reason(
    client: TestClient, editor: dict[str, str], body: bytes, msg: str
) -> None:
    response = _import(client, editor, body)
    assert response.status_code == 422, response.text
    assert any(msg in p["msg"] for p in response.json()["detail"]), response.json()


def test_only_editors_import_and_a_body_must_be_csv(
    client: TestClient, viewer: dict[str, str], editor: dict[str, str]
) -> None:
    assert _import(client, viewer, HEADER).status_code == 403
    response = client.post(f"{API}/posts/import", json={"text": "hi"}, headers=editor)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def _export(client: TestClient, headers: dict[str, str]) -> str:
    response = client.get(
        f"{API}/posts/export", params={"from": "2026-11-01", "to": "2026-12-31"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return response.text


def test_an_export_re_imports_unchanged(
    client: TestClient, editor: dict[str, str], world: dict[str, Any]
) -> None:
    texts = ["=SUM(A1)", "'-already quoted", 'Line one\nline "two", three', "Plain"]
    for i, text in enumerate(texts):
        response = client.post(
            f"{API}/posts",
            json={
                "text": text,
                "title": "+title" if i == 0 else None,
                "link": "https://example.org/p?q=1#f" if i == 1 else None,
                "objective_ids": [world["events"], world["support"]][: 1 + i % 2],
                "channel_ids": [world["hook"], world["x"]][: 1 + i % 2],
                "scheduled_at": f"2026-11-2{4 + i}T10:00:00Z",
                "status": "draft" if i == 3 else "scheduled",
            },
            headers=editor,
        )
        assert response.status_code == 201, response.text
    exported = _export(client, editor)
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == HEADER.strip().split(",")
    assert rows[1][0] == "'=SUM(A1)" and rows[1][4] == "'+title"  # no formulas in a sheet
    assert rows[1][1] == "2026-11-24T10:00:00+00:00" and rows[1][6] == "Europe/London"
    assert rows[2][2] == "Events;Support and information"
    for item in _posts(client, editor):
        assert client.delete(f"{API}/posts/{item['id']}", headers=editor).status_code == 200
    assert _export(client, editor) == HEADER.replace("\n", "\r\n")

    response = _import(client, editor, exported)
    assert response.status_code == 201, response.text
    assert _export(client, editor) == exported
    imported = sorted(_posts(client, editor), key=lambda p: p["scheduled_at"])
    assert [p["text"] for p in imported if p["status"] != "cancelled"] == texts


def test_the_export_bounds_are_days_or_times_with_an_offset(
    client: TestClient, editor: dict[str, str]
) -> None:
    for params in (
        {"from": "2026-11-01", "to": "soon"},
        {"from": "2026-11-01T00:00:00", "to": "2026-12-01"},
        {"from": "2026-12-01", "to": "2026-11-01"},
        {"from": "2026-01-01", "to": "2027-12-31"},
    ):
        response = client.get(f"{API}/posts/export", params=params, headers=editor)
        assert response.status_code == 422, (params, response.text)
        assert response.json()["detail"][0]["loc"][0] == "query"
    response = client.get(
        f"{API}/posts/export",
        params={"from": "2026-11-01T00:00:00+01:00", "to": "2026-11-02T00:00:00Z"},
        headers=editor,
    )
    assert response.status_code == 200


def test_five_thousand_rows_larger_than_a_json_body_import_at_once(
    client: TestClient, editor: dict[str, str], world: dict[str, Any], runtime: Runtime
) -> None:
    lines = [
        f'"Post {i}: {"words " * 40}",2026-12-{1 + i % 28:02d}T{i % 24:02d}:00:00Z,'
        "Events;Support and information,Intranet hook,,https://example.org/,,\n"
        for i in range(5000)
    ]
    body = HEADER + "".join(lines)
    assert len(body) > runtime.settings.max_body_bytes
    response = _import(client, editor, body)
    assert response.status_code == 201, response.text
    assert len(response.json()["post_ids"]) == 5000
    assert total(client, editor, "/posts") == 5000
