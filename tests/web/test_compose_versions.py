"""The compose form's per-channel version fields (text, title, link), as the form sends
them: a field left empty is the main one."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.datastructures import FormData

from app.runtime import Runtime
from app.users.models import Role
from app.web.compose import ComposeForm, versions_from_form
from tests.helpers import API, objective, webhook_channel, x_channel
from tests.web.test_pages import csrf, login, make_user


def test_a_version_keeps_its_own_title_and_link_and_drops_empty_fields() -> None:
    form = FormData(
        [
            ("text", "Main"),
            ("channel_ids", "x1"),
            ("channel_ids", "h1"),
            ("version_text.x1", "Own text\r\nfor X"),
            ("version_title.x1", "  Own title "),
            ("version_link.x1", "https://example.org/x"),
            # h1's fields all left empty: no version at all.
            ("version_text.h1", ""),
            ("version_title.h1", "  "),
            ("version_link.h1", ""),
            ("version_colour.x1", "red"),  # not a version field
        ]
    )
    assert versions_from_form(form) == {
        "x1": {
            "text": "Own text\nfor X",
            "title": "Own title",
            "link": "https://example.org/x",
        }
    }


def test_a_version_with_only_a_link_publishes_the_main_text_and_title() -> None:
    form = FormData(
        [
            ("text", "Main"),
            ("channel_ids", "x1"),
            ("version_text.x1", ""),
            ("version_title.x1", ""),
            ("version_link.x1", "https://example.org/x"),
        ]
    )
    compose = ComposeForm.from_form(form)
    assert compose.versions == {"x1": {"link": "https://example.org/x"}}
    assert compose._fields()["versions"] == {"x1": {"link": "https://example.org/x"}}


def test_a_channel_taken_off_takes_its_version_along() -> None:
    form = FormData(
        [("text", "Main"), ("version_title.x1", "Own"), ("version_link.x1", "https://a.example")]
    )
    assert ComposeForm.from_form(form)._fields()["versions"] == {}


def test_a_version_round_trips_through_the_form_without_javascript(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    x, hook = x_channel(client, admin)["id"], webhook_channel(client, admin)["id"]
    plan = {"objective": objective(client, admin)}
    make_user(runtime, "editor@example.org", Role.editor)
    assert login(client, "editor@example.org").status_code == 303
    editor_web = client
    form = {
        "csrf_token": csrf(editor_web, "/posts/new"),
        "text": "Open day on Saturday",
        "objective_ids": plan["objective"]["id"],
        "channel_ids": [x, hook],
        f"version_text.{x}": "",
        f"version_title.{x}": "Open day (X)",
        f"version_link.{x}": "https://example.org/x",
        "day": "2026-11-25",
        "time": "09:30",
        "action": "schedule",
    }
    made = editor_web.post("/posts/new", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    post_id = made.headers["location"].split("/")[2].split("?")[0]
    stored = editor_web.get(f"{API}/posts/{post_id}", headers=admin).json()
    own = {"text": None, "title": "Open day (X)", "link": "https://example.org/x"}
    assert stored["versions"] == {x: own}

    page = editor_web.get(f"/posts/{post_id}/edit").text
    assert f'name="version_title.{x}" value="Open day (X)"' in page
    assert f'name="version_link.{x}" value="https://example.org/x"' in page
    assert f'<textarea id="version-{x}" name="version_text.{x}"' in page

    # The three fields emptied: the channel publishes the main ones again.
    emptied = {**form, f"version_title.{x}": "", f"version_link.{x}": ""}
    assert editor_web.post(f"/posts/{post_id}/edit", data=emptied).status_code == 200
    assert editor_web.get(f"{API}/posts/{post_id}", headers=admin).json()["versions"] == {}
