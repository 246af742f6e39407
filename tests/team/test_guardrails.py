"""Guardrails: whole-word phrases after NFKC + case folding; block or require approval."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from app.team.guardrails import MAX_PHRASE_WORDS, Matcher, Rule, words
from tests.helpers import API, HOOK_URL, objective, row_counts, scheduled_post, webhook_channel


def rule(phrase: str, rid: str = "r") -> Rule:
    return Rule(id=rid, phrase=phrase, audience="all", action="block", note="")


@pytest.mark.parametrize(
    ("phrase", "text", "hit"),
    [
        ("Project Falcon", "News about project falcon today", True),
        ("project falcon", "PROJECT   FALCON!", True),
        ("falcon", "falconry is fun", False),
        ("internal only", "this is internal-only", True),
        ("ﬁnance", "FINANCE figures", True),  # NFKC: the ligature is "fi"
        ("straße", "STRASSE works", True),  # case folding: ß is ss
        ("confidential", "", False),
        ("code red", "code\nred", True),
    ],
)
def test_matching(phrase: str, text: str, hit: bool) -> None:
    assert bool(Matcher([rule(phrase)]).find(text)) is hit


def test_words_are_folded() -> None:
    assert words("\uff23onfidential, ÉTÉ") == ["confidential", "été"]


@pytest.fixture
def chans(client: TestClient, admin: dict[str, str]) -> dict[str, Any]:
    return {
        "objective": objective(client, admin)["id"],
        "internal": webhook_channel(client, admin, url=HOOK_URL)["id"],
        "external": webhook_channel(
            client, admin, url=HOOK_URL, name="Public hook", audience="external"
        )["id"],
    }


def add(client: TestClient, admin: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post(f"{API}/guardrails", json=body, headers=admin)
    assert answer.status_code == 201, answer.text
    return answer.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("phrase", ["", "   ", "!!!", " ".join(["w"] * (MAX_PHRASE_WORDS + 1))])
def test_bad_phrase_is_422(client: TestClient, admin: dict[str, str], phrase: str) -> None:
    answer = client.post(f"{API}/guardrails", json={"phrase": phrase}, headers=admin)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "phrase"]


def test_block_names_phrase_and_note_and_stores_nothing(
    client: TestClient,
    admin: dict[str, str],
    editor: dict[str, str],
    chans: dict[str, Any],
    runtime: Runtime,
) -> None:
    add(client, admin, phrase="Project Falcon", audience="external", note="Code name, not public")
    before = row_counts(runtime)
    answer = client.post(
        f"{API}/posts",
        json={
            "text": "Soon: project FALCON",
            "objective_ids": [chans["objective"]],
            "channel_ids": [chans["external"]],
            "scheduled_at": "2026-11-24T10:00:00Z",
        },
        headers=editor,
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()["detail"][0]
    assert problem["loc"] == ["body", "text"]
    assert "Project Falcon" in problem["msg"] and "Code name, not public" in problem["msg"]
    assert row_counts(runtime) == before
    # An external-only rule does not apply to an internal channel.
    inside = scheduled_post(
        client, editor, chans["objective"], [chans["internal"]], text="Soon: project FALCON"
    )
    assert inside["status"] == "scheduled"


def test_require_approval_holds_even_an_editors_post(
    client: TestClient, admin: dict[str, str], editor: dict[str, str], chans: dict[str, Any]
) -> None:
    add(client, admin, phrase="confidential", action="require_approval")
    held = scheduled_post(
        client, editor, chans["objective"], [chans["internal"]], text="Not Confidential at all"
    )
    assert held["status"] == "pending_approval"


def test_crud_and_audit(client: TestClient, admin: dict[str, str]) -> None:
    created = add(client, admin, phrase="  internal   only ", note="n")
    assert created["phrase"] == "internal only"
    changed = client.patch(
        f"{API}/guardrails/{created['id']}", json={"action": "require_approval"}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["action"] == "require_approval"
    listed = client.get(f"{API}/guardrails", headers=admin).json()
    assert listed["total"] == 1
    assert client.delete(f"{API}/guardrails/{created['id']}", headers=admin).status_code == 204
    assert client.get(f"{API}/guardrails/{created['id']}", headers=admin).status_code == 404
    trail = client.get(f"{API}/audit", params={"subject_type": "guardrail"}, headers=admin).json()
    assert [e["action"] for e in trail["items"]] == ["delete", "update", "create"]
    assert trail["items"][1]["changes"] == {"action": ["block", "require_approval"]}


def test_linear_in_text() -> None:
    """1,000 rules and a 10,000-character text: each word walks the trie a bounded depth."""
    rules = [rule(f"alpha{i} beta{i} gamma", f"r{i}") for i in range(1000)]
    matcher = Matcher(rules)
    text = ("alpha1 beta1 " * 800)[:10_000]
    assert matcher.find(text) == []
    assert [r.id for r in matcher.find(text + " alpha7 beta7 gamma")] == ["r7"]


def test_a_batch_names_the_post_that_hits_a_block(
    client: TestClient,
    admin: dict[str, str],
    editor: dict[str, str],
    chans: dict[str, Any],
    runtime: Runtime,
) -> None:
    add(client, admin, phrase="secret plan")
    one = {
        "objective_ids": [chans["objective"]],
        "channel_ids": [chans["internal"]],
        "scheduled_at": "2026-11-24T10:00:00Z",
    }
    before = row_counts(runtime)
    answer = client.post(
        f"{API}/posts/batch",
        json={"posts": [{**one, "text": "fine"}, {**one, "text": "The SECRET plan"}]},
        headers=editor,
    )
    assert answer.status_code == 422, answer.text
    assert [p["loc"] for p in answer.json()["detail"]] == [["body", "posts", 1, "text"]]
    assert row_counts(runtime) == before
