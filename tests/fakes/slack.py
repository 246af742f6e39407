"""A fake Slack for "Add to Slack" (OAuth v2 with the `incoming-webhook` scope) and the
incoming webhook it hands out.

- `GET /oauth/v2/authorize?client_id&scope=incoming-webhook&redirect_uri&state`: the
  consent page (Slack shows a channel picker there; this one picks `#comms`);
- `POST /api/oauth.v2.access` (`code`, `redirect_uri`; the client id and secret as HTTP
  Basic, as Slack recommends, or in the form): Slack answers HTTP 200 either way,
  `{"ok": true, "access_token", "token_type": "bot", "scope", "team": {...},
  "incoming_webhook": {"channel", "channel_id", "configuration_url", "url"}}` or
  `{"ok": false, "error": "invalid_code" | "bad_redirect_uri" | "invalid_client_id" ...}`;
- `POST /services/T.../B.../...`: the webhook, answering `ok`; messages land in
  `messages`.
"""

from __future__ import annotations

import itertools
import json
from base64 import b64decode
from typing import Any

from tests.fakes.forms import FormError, read_form
from tests.fakes.oauth import AuthorizationServer, Refusal
from tests.fakes.sinks import Answer, RecordedRequest, SinkBacked, SinkServer, json_answer

CLIENT_ID = "2141029472.691202649728"
CLIENT_SECRET = "e1b9e11dfcd19c1982d5de12921e17e8c"
TEAM = {"id": "T0CADENCE", "name": "Cadence Comms"}
CHANNEL = {"channel": "#comms", "channel_id": "C0COMMS01"}
AUTHORIZE_PATH = "/oauth/v2/authorize"
ACCESS_PATH = "/api/oauth.v2.access"


class FakeSlack(SinkBacked):
    def __init__(self, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> None:
        self.clients = {client_id: client_secret}
        self.sink = SinkServer()
        self.authorization = AuthorizationServer(
            clients=self.clients, authorize_path=AUTHORIZE_PATH, name="Slack", pkce=False
        )
        self.messages: list[dict[str, Any]] = []
        self.hooks: list[str] = []  # the webhook paths handed out
        self._serial = itertools.count(1)
        self.sink.answer_with(self._handle)

    def _handle(self, recorded: RecordedRequest) -> Answer:
        if self.authorization.handles(recorded):
            return self.authorization.handle(recorded)
        if recorded.path == ACCESS_PATH and recorded.method == "POST":
            return self._access(recorded)
        if recorded.path in self.hooks and recorded.method == "POST":
            self.messages.append(json.loads(recorded.body))
            return Answer(200, b"ok", {"Content-Type": "text/html"})
        return Answer(404, b"no_service", {"Content-Type": "text/html"})

    def _client(self, recorded: RecordedRequest, form: Any) -> str | None:
        header = recorded.header("authorization") or ""
        if header.startswith("Basic "):
            client_id, _, secret = b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id") or "", form.get("client_secret") or ""
        return client_id if self.clients.get(client_id) == secret else None

    def _access(self, recorded: RecordedRequest) -> Answer:
        try:
            form = read_form(recorded)
        except FormError:
            return json_answer(200, {"ok": False, "error": "invalid_arguments"})
        client_id = self._client(recorded, form)
        if client_id is None:
            return json_answer(200, {"ok": False, "error": "invalid_client_id"})
        grant = self.authorization.redeem(form, client_id)
        if isinstance(grant, Refusal):
            return json_answer(200, {"ok": False, "error": "invalid_code"})
        serial = next(self._serial)
        path = f"/services/{TEAM['id']}/B0HOOK{serial:04d}/hooksecret{serial:04d}"
        self.hooks.append(path)
        return json_answer(
            200,
            {
                "ok": True,
                "app_id": "A0CADENCE",
                "authed_user": {"id": "U0ADMIN01"},
                "scope": "incoming-webhook",
                "token_type": "bot",
                "access_token": f"xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy{serial}",
                "bot_user_id": "U0BOT0001",
                "team": TEAM,
                "enterprise": None,
                "is_enterprise_install": False,
                "incoming_webhook": {
                    **CHANNEL,
                    "configuration_url": f"https://cadence-comms.slack.com/services/B0HOOK{serial:04d}",
                    "url": f"https://hooks.slack.com{path}",
                },
            },
        )
