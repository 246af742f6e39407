"""The compose form's per-channel version fields (text, title, link), as the form sends
them: a field left empty is the main one."""

from __future__ import annotations

from starlette.datastructures import FormData

from app.web.compose import ComposeForm, versions_from_form


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
