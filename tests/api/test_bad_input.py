"""Bad input in general: 4xx naming the field, never a 500, never a partial write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runtime import Runtime
from tests.helpers import API, locs, objective, row_counts, scheduled_post, webhook_channel

MIB = 1024 * 1024
JSON = {"content-type": "application/json"}


@pytest.fixture
def lenient(runtime: Runtime) -> Iterator[TestClient]:
    """A client that answers a server error with its 500 instead of raising it."""
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client


def test_malformed_json_is_422(client: TestClient, admin: dict[str, str], runtime: Runtime) -> None:
    before = row_counts(runtime)
    for content in (
        b'{"name": "Open',
        b"{name: 'x'}",
        b'{"name": "a",}',
        b"",
        b"\xff\xfe",
        b"nul\x00l",
    ):
        response = client.post(f"{API}/objectives", content=content, headers={**admin, **JSON})
        assert response.status_code == 422, (content, response.text)
        [problem] = response.json()["detail"]
        assert problem["loc"][0] == "body"
        assert problem["msg"]
    assert row_counts(runtime) == before


def test_json_that_is_not_an_object_is_422(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    for body in ([{"name": "A"}], "A", 42, None, True):
        for path in ("/objectives", "/channels", "/posts"):
            response = client.post(f"{API}{path}", json=body, headers=admin)
            assert response.status_code == 422, (body, path, response.text)
            assert locs(response)[0].startswith("body")
    assert row_counts(runtime) == before


def test_wrong_types_name_the_field(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    for path, body, loc in (
        ("/objectives", {"name": "A", "min_posts_per_day": "many"}, "body.min_posts_per_day"),
        ("/objectives", {"name": ["A"]}, "body.name"),
        ("/objectives", {"name": "A", "active_weekdays": {"monday": True}}, "body.active_weekdays"),
        ("/channels", {"name": "A", "platform": "slack", "config": []}, "body.config"),
        (
            "/channels",
            {"name": "A", "platform": "slack", "receives_alerts": "maybe"},
            "body.receives_alerts",
        ),
        ("/posts", {"text": {"en": "hello"}, "status": "draft"}, "body.text"),
        ("/posts", {"objective_ids": "abc", "status": "draft"}, "body.objective_ids"),
    ):
        response = client.post(f"{API}{path}", json=body, headers=admin)
        assert response.status_code == 422, (path, response.text)
        assert loc in locs(response), (path, response.text)
    assert row_counts(runtime) == before


def test_body_over_the_limit_with_content_length(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    before = row_counts(runtime)
    big = b'{"name": "A", "description": "' + b"d" * (MIB + 10) + b'"}'
    response = client.post(f"{API}/objectives", content=big, headers={**admin, **JSON})
    assert response.status_code == 413
    assert response.json() == {
        "detail": [
            {
                "loc": ["body"],
                "msg": f"request body larger than {MIB} bytes",
                "type": "too_large",
            }
        ]
    }
    assert row_counts(runtime) == before


def test_body_over_the_limit_when_chunked(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    before = row_counts(runtime)

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "A", "description": "'
        for _ in range(40):  # 40 x 64 KiB = 2.5 MiB, with no Content-Length
            yield b"d" * 65536
        yield b'"}'

    for path in ("/objectives", "/posts", "/channels"):
        response = client.post(f"{API}{path}", content=chunks(), headers={**admin, **JSON})
        assert response.status_code == 413, (path, response.text)
        assert response.json()["detail"][0]["type"] == "too_large"
    assert row_counts(runtime) == before


def test_body_just_under_the_limit_is_read(client: TestClient, admin: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "A", "description": "'
        yield b"d" * 4000
        yield b'"}'

    response = client.post(f"{API}/objectives", content=chunks(), headers={**admin, **JSON})
    assert response.status_code == 201, response.text
    # Too long for the field, but read: the answer names the field, not the size.
    response = client.post(
        f"{API}/objectives",
        json={"name": "B", "description": "d" * (MIB - 100)},
        headers=admin,
    )
    assert response.status_code == 422
    assert locs(response) == ["body.description"]


def test_unknown_ids_in_paths_are_404(client: TestClient, admin: dict[str, str]) -> None:
    for method, path, resource in (
        ("GET", "/objectives/{id}", "objective"),
        ("PATCH", "/objectives/{id}", "objective"),
        ("DELETE", "/objectives/{id}", "objective"),
        ("GET", "/channels/{id}", "channel"),
        ("PATCH", "/channels/{id}", "channel"),
        ("DELETE", "/channels/{id}", "channel"),
        ("GET", "/posts/{id}", "post"),
        ("PATCH", "/posts/{id}", "post"),
        ("DELETE", "/posts/{id}", "post"),
        ("POST", "/deliveries/{id}/retry", "delivery"),
        ("POST", "/alerts/{id}/acknowledge", "alert"),
    ):
        for unknown in ("0" * 32, "does-not-exist", "x" * 300, "ünïcödé"):
            response = client.request(
                method,
                f"{API}{path.format(id=unknown)}",
                json={} if method == "PATCH" else None,
                headers=admin,
            )
            assert response.status_code == 404, (method, path, unknown, response.text)
            assert response.json() == {"detail": f"{resource} {unknown} not found"}


def test_unknown_routes_and_methods(client: TestClient, admin: dict[str, str]) -> None:
    assert client.get(f"{API}/nothing-here", headers=admin).status_code == 404
    assert client.put(f"{API}/objectives", json={}, headers=admin).status_code == 405


def test_nul_characters_are_refused_not_stored(
    lenient: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    """PostgreSQL text cannot hold U+0000: it must be a 4xx naming the field on every backend."""
    obj = objective(lenient, admin)
    channel = webhook_channel(lenient, admin)
    created = scheduled_post(lenient, admin, obj["id"], [channel["id"]])
    before = row_counts(runtime)
    for method, path, body, loc in (
        ("POST", "/objectives", {"name": "a\x00b"}, "body.name"),
        ("POST", "/objectives", {"name": "a", "description": "\x00"}, "body.description"),
        ("PATCH", f"/objectives/{obj['id']}", {"name": "\x00"}, "body.name"),
        (
            "POST",
            "/channels",
            {
                "name": "a\x00",
                "platform": "webhook",
                "audience": "internal",
                "config": {"url": "https://example.org/"},
            },
            "body.name",
        ),
        ("POST", "/posts", {"text": "hi\x00", "status": "draft"}, "body.text"),
        ("POST", "/posts", {"title": "\x00", "status": "draft"}, "body.title"),
        ("POST", "/posts", {"status": "draft", "objective_ids": ["\x00"]}, "body.objective_ids"),
        ("PATCH", f"/posts/{created['id']}", {"text": "\x00"}, "body.text"),
        ("PATCH", f"/posts/{created['id']}", {"channel_ids": ["a\x00"]}, "body.channel_ids"),
    ):
        response = lenient.request(method, f"{API}{path}", json=body, headers=admin)
        assert response.status_code == 422, (method, path, body, response.text)
        assert loc in locs(response), (path, response.text)
    for method, path in (
        ("GET", "/objectives/a%00b"),
        ("DELETE", "/channels/%00"),
        ("GET", "/posts/%00"),
        ("PATCH", "/posts/%00"),
        ("POST", "/deliveries/%00/retry"),
        ("POST", "/alerts/%00/acknowledge"),
    ):
        response = lenient.request(
            method, f"{API}{path}", json={} if method == "PATCH" else None, headers=admin
        )
        assert 400 <= response.status_code < 500, (method, path, response.text)
    for params in ({"objective_id": "\x00"}, {"channel_id": "a\x00"}):
        response = lenient.get(f"{API}/posts", params=params, headers=admin)
        assert response.status_code == 422, response.text
        assert locs(response) == [f"query.{next(iter(params))}"]
    assert row_counts(runtime) == before


def test_never_a_500(lenient: TestClient, admin: dict[str, str], runtime: Runtime) -> None:
    obj = objective(lenient, admin)
    channel = webhook_channel(lenient, admin)
    created = scheduled_post(lenient, admin, obj["id"], [channel["id"]])
    delivery = created["deliveries"][0]["id"]
    before = row_counts(runtime)
    odd_values: list[Any] = [
        None,
        10**30,
        "\x00",
        [None],
        {"$ne": 1},
        "9999-12-31T23:59:59-14:00",
    ]
    fields = {
        "/objectives": ["name", "description", "color", "min_posts_per_day",
                        "active_weekdays", "timezone", "archived"],
        "/channels": ["name", "platform", "audience", "config", "credentials",
                      "receives_alerts", "status"],
        "/posts": ["text", "title", "link", "media_ids", "objective_ids", "channel_ids",
                   "scheduled_at", "publish_now", "internal_only", "status"],
    }  # fmt: skip
    for path, names in fields.items():
        for name in names:
            for value in odd_values:
                response = lenient.post(f"{API}{path}", json={name: value}, headers=admin)
                assert response.status_code < 500, (path, name, value, response.text)
    targets = {
        f"/objectives/{obj['id']}": fields["/objectives"],
        f"/channels/{channel['id']}": fields["/channels"],
        f"/posts/{created['id']}": fields["/posts"],
    }
    for path, names in targets.items():
        for name in names:
            for value in odd_values:
                response = lenient.patch(f"{API}{path}", json={name: value}, headers=admin)
                assert response.status_code < 500, (path, name, value, response.text)
    for query in (
        {"limit": "1e3"},
        {"offset": str(10**40)},
        {"from": "2026-11-24T10:00:00+99:00"},
        {"to": "0000-01-01T00:00:00Z"},
        {"status": ""},
        {"objective_id": "x" * 5000},
    ):
        response = lenient.get(f"{API}/posts", params=query, headers=admin)
        assert response.status_code < 500, (query, response.text)
    for path in (f"/deliveries/{delivery}x/retry", "/alerts/" + "a" * 5000 + "/acknowledge"):
        assert lenient.post(f"{API}{path}", headers=admin).status_code < 500
    assert (
        lenient.post(f"{API}/posts", content=b"\x00" * 100, headers={**admin, **JSON}).status_code
        < 500
    )
    assert (
        lenient.post(
            f"{API}/posts",
            content=b'{"text": "x"}',
            headers={**admin, "content-type": "text/plain"},
        ).status_code
        < 500
    )
    # Only an objective can be made from one field (a date string is a fine name), and
    # the audit trail records each one made (or changed by a PATCH with a valid value).
    made = ("objectives", "audit_entries")
    after = row_counts(runtime)
    assert {k: v for k, v in after.items() if k not in made} == {
        k: v for k, v in before.items() if k not in made
    }
    assert lenient.get(f"{API}/posts/{created['id']}", headers=admin).status_code == 200
