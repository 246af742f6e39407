"""What each webhook-family connector sends, exactly, and how it reads each platform's answers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from connectors.base import (
    AuthExpired,
    CheckResult,
    Connector,
    Permanent,
    PublishError,
    PublishRequest,
    PublishResult,
    RateLimited,
    Transient,
)
from connectors.webhooks import (
    ADAPTIVE_CARD,
    SIGNATURE_HEADER,
    ChatConfig,
    ChatCredentials,
    MattermostConnector,
    SlackConnector,
    TeamsConnector,
    WebhookConfig,
    WebhookConnector,
    WebhookCredentials,
)
from tests.connectors.conftest import NOW
from tests.connectors.harnesses import REQUEST, make_client
from tests.fakes.sinks import (
    Answer,
    RecordedRequest,
    SinkServer,
    json_answer,
    mattermost_error,
    slack_error,
    teams_accepted,
    teams_error,
    teams_legacy_ok,
    teams_legacy_throttled,
    text_answer,
    webhook_accepted,
)

SECRET = "whsec-test-secret"
PLAIN = PublishRequest(delivery_id="dlv-2", post_id="post-2", text="Just text")


def _run(
    make: type[Connector],
    config: object,
    credentials: object,
    request: PublishRequest = REQUEST,
    transport: str = "httpx",
) -> PublishResult | PublishError:
    async def go() -> PublishResult | PublishError:
        async with make_client(transport, 2.0) as http:
            connector = make(config, credentials, http, now=lambda: NOW)  # type: ignore[call-arg, arg-type]
            try:
                return await connector.publish(request)
            except PublishError as exc:
                return exc

    return asyncio.run(go())


def _check(make: type[Connector], config: object, credentials: object) -> CheckResult:
    async def go() -> CheckResult:
        async with make_client("httpx", 2.0) as http:
            return await make(config, credentials, http).check()  # type: ignore[arg-type]

    return asyncio.run(go())


def _only(sink: SinkServer) -> RecordedRequest:
    assert len(sink.requests) == 1
    return sink.requests[0]


# -- JSON webhook --------------------------------------------------------------------


def webhook(
    sink: SinkServer, secret: str | None = SECRET
) -> tuple[WebhookConfig, WebhookCredentials]:
    return WebhookConfig(url=sink.url_for("/hook")), WebhookCredentials(signing_secret=secret)


def test_webhook_sends_the_post_as_signed_json(sink: SinkServer) -> None:
    _run(WebhookConnector, *webhook(sink))

    sent = _only(sink)
    assert (sent.method, sent.path) == ("POST", "/hook")
    assert sent.header("Content-Type") == "application/json"
    assert sent.header("Idempotency-Key") == "dlv-0001"
    assert sent.header("User-Agent") == "Cadence/0.1"
    expected = hmac.new(SECRET.encode(), sent.body, hashlib.sha256).hexdigest()
    assert sent.header(SIGNATURE_HEADER) == f"sha256={expected}"
    assert sent.json() == {
        "delivery_id": "dlv-0001",
        "post_id": "post-0001",
        "text": REQUEST.text,
        "title": "Bake sale",
        "link": "https://example.org/events/bake-sale?from=cadence&x=1",
        "objectives": [
            {"id": "obj-1", "name": "Fundraising events"},
            {"id": "obj-2", "name": "Support and information"},
        ],
        "scheduled_at": "2026-11-23T09:00:00+00:00",
        "media": [
            {
                "id": "med-1",
                "filename": "poster.png",
                "content_type": "image/png",
                "size": 2048,
                "url": "http://cadence.test/media/med-1/poster.png",
            }
        ],
        "post_url": "http://cadence.test/posts/post-0001",
    }


def test_webhook_signature_covers_the_exact_bytes_sent(sink: SinkServer) -> None:
    request = replace(REQUEST, text="Café ☕ — “quotes” and \\ backslashes\n")
    _run(WebhookConnector, *webhook(sink), request=request)

    sent = _only(sink)
    signature = sent.header(SIGNATURE_HEADER)
    assert signature is not None
    assert hmac.compare_digest(
        signature, "sha256=" + hmac.new(SECRET.encode(), sent.body, hashlib.sha256).hexdigest()
    )
    assert sent.json()["text"] == request.text
    wrong = "sha256=" + hmac.new(b"another secret", sent.body, hashlib.sha256).hexdigest()
    assert signature != wrong


def test_webhook_without_a_secret_is_not_signed(sink: SinkServer) -> None:
    _run(WebhookConnector, *webhook(sink, secret=None), request=PLAIN)

    sent = _only(sink)
    assert sent.header(SIGNATURE_HEADER) is None
    assert sent.json()["scheduled_at"] is None
    assert sent.json()["media"] == [] and sent.json()["objectives"] == []


def test_each_delivery_has_its_own_idempotency_key(sink: SinkServer) -> None:
    for n in range(3):
        _run(WebhookConnector, *webhook(sink), request=replace(PLAIN, delivery_id=f"d-{n}"))

    assert sink.idempotency_keys() == ["d-0", "d-1", "d-2"]


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            webhook_accepted("abc", "https://intra.example/1"),
            PublishResult("abc", "https://intra.example/1"),
        ),
        (
            webhook_accepted(url="https://intra.example/2"),
            PublishResult(None, "https://intra.example/2"),
        ),
        (json_answer(201, {"id": 17}), PublishResult("17")),
        (json_answer(200, ["not", "an", "object"]), PublishResult()),
        (text_answer(200, "thanks!"), PublishResult()),
        (Answer(204, b""), PublishResult()),
        (Answer(202, b"", {"Content-Type": "application/json"}), PublishResult()),
    ],
)
def test_webhook_success_answers(sink: SinkServer, answer: Answer, expected: PublishResult) -> None:
    sink.answer(answer)

    assert _run(WebhookConnector, *webhook(sink)) == expected


@pytest.mark.parametrize("status", [301, 400, 403, 404, 409, 410, 413, 422])
def test_webhook_refusals_are_permanent_with_status_and_body(sink: SinkServer, status: int) -> None:
    sink.answer(text_answer(status, "  nope:\n  " + "x" * 500))

    outcome = _run(WebhookConnector, *webhook(sink))

    assert isinstance(outcome, Permanent)
    assert outcome.code == f"http_{status}"
    assert outcome.message.startswith(f"Webhook answered HTTP {status}: nope: xxx")
    assert len(outcome.message) < 250


def test_webhook_check_sends_a_head_and_posts_nothing(sink: SinkServer) -> None:
    sink.answer(text_answer(405, "method not allowed"))

    result = _check(WebhookConnector, *webhook(sink))

    assert result.ok
    # Reachable is all it says: not the status, which would let a check scan ports.
    assert result.detail == "127.0.0.1 answers; nothing was posted"
    assert [(r.method, r.body) for r in sink.requests] == [("HEAD", b"")]


# -- Slack ---------------------------------------------------------------------------


def slack(sink: SinkServer, username: str | None = "Cadence") -> tuple[ChatConfig, ChatCredentials]:
    return ChatConfig(username=username), ChatCredentials(
        webhook_url=sink.url_for("/services/T/B/tok")
    )


def test_slack_sends_text_blocks_and_username(sink: SinkServer) -> None:
    assert _run(SlackConnector, *slack(sink)) == PublishResult()

    sent = _only(sink)
    assert sent.header("Content-Type") == "application/json"
    escaped = "Bake sale on Friday in the atrium.\nBring cakes &amp; &lt;friends&gt;!"
    assert sent.json() == {
        "text": escaped,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Bake sale"}},
            {"type": "section", "text": {"type": "mrkdwn", "text": escaped}},
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "<https://example.org/events/bake-sale?from=cadence&amp;x=1>",
                },
            },
        ],
        "username": "Cadence",
    }


def test_slack_splits_long_text_into_sections_and_omits_username(sink: SinkServer) -> None:
    _run(SlackConnector, *slack(sink, username=None), request=replace(PLAIN, text="y" * 7000))

    body = _only(sink).json()
    assert "username" not in body
    assert [len(b["text"]["text"]) for b in body["blocks"]] == [3000, 3000, 1000]
    assert all(b["type"] == "section" for b in body["blocks"])


def test_slack_sections_end_at_a_space_and_never_split_an_escape(sink: SinkServer) -> None:
    text = "a" * 2990 + " b&c" + "d" * 3000
    _run(SlackConnector, *slack(sink), request=replace(PLAIN, text=text))

    sections = [b["text"]["text"] for b in _only(sink).json()["blocks"]]
    assert sections[0] == "a" * 2990 + " "
    assert "".join(sections) == "a" * 2990 + " b&amp;c" + "d" * 3000
    assert all(len(s) <= 3000 for s in sections)
    packed = "x" * 2997 + "&"  # the escape would straddle the 3000th character
    _run(SlackConnector, *slack(sink), request=replace(PLAIN, text=packed + "y"))
    second = [b["text"]["text"] for b in sink.requests[1].json()["blocks"]]
    assert second == ["x" * 2997, "&amp;y"]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("invalid_payload", Permanent),
        ("no_text", Permanent),
        ("invalid_blocks", Permanent),
        ("posting_to_general_channel_denied", Permanent),
        ("action_prohibited", AuthExpired),
        ("invalid_token", AuthExpired),
        ("channel_not_found", AuthExpired),
        ("no_service", AuthExpired),
        ("no_team", AuthExpired),
        ("team_disabled", AuthExpired),
        ("channel_is_archived", AuthExpired),
        ("rollup_error", Transient),
    ],
)
def test_slack_answers(sink: SinkServer, code: str, kind: type[PublishError]) -> None:
    sink.answer(slack_error(code))

    outcome = _run(SlackConnector, *slack(sink))

    assert type(outcome) is kind
    assert code in outcome.message
    if isinstance(outcome, Permanent):
        assert outcome.code == code


def test_slack_404_without_a_code_is_a_dead_webhook(sink: SinkServer) -> None:
    sink.answer(text_answer(404, "<html>Not Found</html>"))

    assert isinstance(_run(SlackConnector, *slack(sink)), AuthExpired)


def test_slack_rate_limit(sink: SinkServer) -> None:
    sink.answer(text_answer(429, "rate_limited", {"Retry-After": "1"}))

    outcome = _run(SlackConnector, *slack(sink))

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at == NOW + timedelta(seconds=1)


def test_slack_check_posts_an_empty_object_a_live_hook_refuses(sink: SinkServer) -> None:
    sink.answer(slack_error("no_text"), slack_error("channel_is_archived"))

    live = _check(SlackConnector, *slack(sink))
    dead = _check(SlackConnector, *slack(sink))

    assert live.ok and live.detail == "Slack knows the webhook; nothing was posted"
    assert not dead.ok and "channel_is_archived" in dead.detail  # one of Slack's known codes
    assert [r.json() for r in sink.requests] == [{}, {}]


# -- Mattermost ----------------------------------------------------------------------


def mattermost(
    sink: SinkServer, username: str | None = "cadence-bot"
) -> tuple[ChatConfig, ChatCredentials]:
    return ChatConfig(username=username), ChatCredentials(webhook_url=sink.url_for("/hooks/key"))


def test_mattermost_sends_text_and_username(sink: SinkServer) -> None:
    assert _run(MattermostConnector, *mattermost(sink)) == PublishResult()

    sent = _only(sink)
    assert sent.path == "/hooks/key"
    assert sent.json() == {
        "text": f"**Bake sale**\n\n{REQUEST.text}\n\n{REQUEST.link}",
        "username": "cadence-bot",
    }


def test_mattermost_plain_text_without_username(sink: SinkServer) -> None:
    _run(MattermostConnector, *mattermost(sink, username=None), request=PLAIN)

    assert _only(sink).json() == {"text": "Just text"}


@pytest.mark.parametrize(
    ("error_id", "status", "kind", "words"),
    [
        ("web.incoming_webhook.parse.app_error", None, Permanent, "Unable to parse incoming data"),
        ("web.incoming_webhook.text.app_error", None, Permanent, "No text specified"),
        ("web.incoming_webhook.invalid.app_error", None, AuthExpired, "Invalid webhook"),
        ("web.incoming_webhook.channel.app_error", None, AuthExpired, "Couldn't find the channel"),
        (
            "web.incoming_webhook.disabled.app_error",
            None,
            Permanent,
            "disabled by the system admin",
        ),
        ("web.incoming_webhook.channel_locked.app_error", 403, AuthExpired, "error"),
        ("app.post.save.app_error", 500, Transient, "error"),
    ],
)
def test_mattermost_answers(
    sink: SinkServer, error_id: str, status: int | None, kind: type[PublishError], words: str
) -> None:
    sink.answer(mattermost_error(error_id, status=status))

    outcome = _run(MattermostConnector, *mattermost(sink))

    assert type(outcome) is kind
    assert words in outcome.message
    if isinstance(outcome, Permanent):
        assert outcome.code == error_id


def test_mattermost_501_without_json_is_permanent(sink: SinkServer) -> None:
    sink.answer(text_answer(501, ""))

    outcome = _run(MattermostConnector, *mattermost(sink))

    assert isinstance(outcome, Permanent)
    assert "disabled" in outcome.message


def test_mattermost_rate_limit_falls_back_to_x_ratelimit_reset(sink: SinkServer) -> None:
    sink.answer(
        text_answer(
            429, "limit exceeded", {"X-Ratelimit-Reset": "12", "X-Ratelimit-Remaining": "0"}
        ),
        text_answer(429, "limit exceeded", {"Retry-After": "3", "X-Ratelimit-Reset": "12"}),
        text_answer(429, "limit exceeded"),
    )

    outcomes = [_run(MattermostConnector, *mattermost(sink)) for _ in range(3)]

    assert all(isinstance(o, RateLimited) for o in outcomes)
    assert [o.retry_at for o in outcomes] == [  # type: ignore[union-attr]
        NOW + timedelta(seconds=12),
        NOW + timedelta(seconds=3),
        None,
    ]


# -- Microsoft Teams -----------------------------------------------------------------


def teams(sink: SinkServer) -> tuple[ChatConfig, ChatCredentials]:
    url = sink.url_for("/workflows/w1/triggers/manual/paths/invoke?api-version=1&sig=s1")
    return ChatConfig(), ChatCredentials(webhook_url=url)


def test_teams_sends_one_adaptive_card(sink: SinkServer) -> None:
    sink.answer(teams_accepted())

    assert _run(TeamsConnector, *teams(sink)) == PublishResult()

    sent = _only(sink)
    assert (sent.path, sent.query) == (
        "/workflows/w1/triggers/manual/paths/invoke",
        "api-version=1&sig=s1",
    )
    assert sent.header("Content-Type") == "application/json"
    assert sent.json() == {
        "type": "message",
        "attachments": [
            {
                "contentType": ADAPTIVE_CARD,
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "Bake sale",
                            "weight": "Bolder",
                            "size": "Medium",
                            "wrap": True,
                        },
                        {"type": "TextBlock", "text": REQUEST.text, "wrap": True},
                    ],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Open link", "url": REQUEST.link}
                    ],
                },
            }
        ],
    }


def test_teams_card_without_title_or_link(sink: SinkServer) -> None:
    sink.answer(teams_accepted())
    _run(TeamsConnector, *teams(sink), request=PLAIN)

    card = _only(sink).json()["attachments"][0]["content"]
    assert card["body"] == [{"type": "TextBlock", "text": "Just text", "wrap": True}]
    assert "actions" not in card


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (teams_accepted(), PublishResult),
        (Answer(200, b""), PublishResult),
        (teams_legacy_ok(), PublishResult),
        (teams_legacy_throttled(), RateLimited),
        (
            text_answer(
                200,
                "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 413 with ContextId x",
            ),
            Permanent,
        ),
        (
            text_answer(
                200,
                "Webhook message delivery failed with error: Microsoft Teams endpoint returned HTTP error 502 with ContextId x",
            ),
            Transient,
        ),
        (
            teams_error(400, "InvalidRequestContent", "The request content is not valid JSON."),
            Permanent,
        ),
        (
            teams_error(
                403, "DirectApiAuthorizationRequired", "The request must be authenticated."
            ),
            AuthExpired,
        ),
        (teams_error(404, "WorkflowNotFound", "The workflow could not be found."), AuthExpired),
        (text_answer(410, "Gone"), AuthExpired),
        (teams_error(401, "MisMatchingOAuthClaims", "Signature mismatch."), AuthExpired),
        (teams_error(502, "BadGateway", "upstream"), Transient),
    ],
)
def test_teams_answers(sink: SinkServer, answer: Answer, kind: type) -> None:
    sink.answer(answer)

    outcome = _run(TeamsConnector, *teams(sink))

    assert type(outcome) is kind, outcome


def test_teams_legacy_throttle_has_no_time_to_wait(sink: SinkServer) -> None:
    sink.answer(teams_legacy_throttled())

    outcome = _run(TeamsConnector, *teams(sink))

    assert isinstance(outcome, RateLimited)
    assert outcome.retry_at is None
    assert "429" in outcome.message


def test_teams_error_message_and_code_come_from_the_json(sink: SinkServer) -> None:
    sink.answer(teams_error(400, "TriggerInputSchemaMismatch", "Body did not match the schema."))

    outcome = _run(TeamsConnector, *teams(sink))

    assert isinstance(outcome, Permanent)
    assert outcome.code == "TriggerInputSchemaMismatch"
    assert outcome.message == "Microsoft Teams answered HTTP 400: Body did not match the schema."


@pytest.mark.parametrize("make", [TeamsConnector, MattermostConnector])
def test_reachability_checks_send_a_head(sink: SinkServer, make: type[Connector]) -> None:
    sink.answer(text_answer(405, ""))

    result = _check(make, ChatConfig(), ChatCredentials(webhook_url=sink.url_for("/hooks/k")))

    assert result.ok
    assert [(r.method, r.body) for r in sink.requests] == [("HEAD", b"")]


def test_connectors_accept_plain_dicts_for_config_and_credentials(sink: SinkServer) -> None:
    outcome = _run(
        WebhookConnector,
        {"url": sink.url_for("/hook")},
        {"signing_secret": None},
        request=PLAIN,
    )

    assert outcome == PublishResult()
    assert json.loads(_only(sink).body)["text"] == "Just text"


def test_the_client_is_not_closed_by_the_connector(sink: SinkServer) -> None:
    async def go() -> bool:
        async with httpx.AsyncClient() as http:
            await WebhookConnector(*webhook(sink), http).publish(PLAIN)
            return http.is_closed

    assert asyncio.run(go()) is False
