"""The authorization-code half of a fake OAuth 2.0 authorization server (RFC 6749 4.1,
RFC 7636), shared by the platform fakes that speak it.

- the authorization page (`GET <authorize path>?response_type=code&client_id&
  redirect_uri&scope&state[&code_challenge&code_challenge_method=S256]`) checks the
  client and the parameters and shows a consent page: a form with "Authorize app" and
  "Cancel" buttons posting to `<authorize path>/decide`;
- the decision redirects (302) to `redirect_uri` with `code` and `state`, or with
  `error=access_denied` and `state`;
- `redeem(form, client_id)` checks a code at the token endpoint: issued to this client,
  never used before (a second use is refused and, as RFC 6749 10.5 suggests, nothing
  else changes), the same `redirect_uri` as the authorization request, and a
  `code_verifier` whose S256 is the `code_challenge`.

`approve(url)` does what a person's click does, for tests without a browser.
"""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import threading
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from tests.fakes.forms import Form
from tests.fakes.sinks import Answer, RecordedRequest


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    scope: str
    challenge: str | None
    used: bool = False


@dataclass(frozen=True)
class Refusal:
    error: str
    description: str


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def html_answer(status: int, body: str) -> Answer:
    return Answer(status, body.encode(), {"Content-Type": "text/html; charset=utf-8"})


def redirect_answer(url: str) -> Answer:
    return Answer(302, b"", {"Location": url})


class AuthorizationServer:
    def __init__(
        self,
        *,
        clients: dict[str, str],
        authorize_path: str,
        name: str,
        pkce: bool,
        code_prefix: str = "code",
    ) -> None:
        self.clients = clients
        self.authorize_path = authorize_path
        self.decide_path = authorize_path.rstrip("/") + "/decide"
        self.name = name
        self.pkce = pkce
        self.grants: dict[str, Grant] = {}
        self.authorizations: list[dict[str, str]] = []  # the query of each consent page
        self.refused_codes: list[str] = []  # why each redemption was refused
        self._codes = itertools.count(1)
        self._code_prefix = code_prefix
        self._lock = threading.Lock()

    def handles(self, recorded: RecordedRequest) -> bool:
        return recorded.path in (self.authorize_path, self.decide_path)

    def handle(self, recorded: RecordedRequest) -> Answer:
        if recorded.path == self.authorize_path and recorded.method == "GET":
            return self._consent(dict(parse_qsl(recorded.query, keep_blank_values=True)))
        if recorded.path == self.decide_path and recorded.method == "POST":
            fields = dict(parse_qsl(recorded.body.decode(), keep_blank_values=True))
            return self._decide(fields)
        return html_answer(405, "<p>Method not allowed</p>")

    def _problem(self, query: dict[str, str]) -> str | None:
        if query.get("response_type") != "code":
            return "response_type must be code"
        if query.get("client_id") not in self.clients:
            return "unknown client_id"
        if not query.get("redirect_uri", "").startswith(("http://", "https://")):
            return "redirect_uri missing"
        if not query.get("state"):
            return "state missing"
        if self.pkce and (
            not query.get("code_challenge") or query.get("code_challenge_method") != "S256"
        ):
            return "PKCE S256 code_challenge missing"
        return None

    def _consent(self, query: dict[str, str]) -> Answer:
        problem = self._problem(query)
        if problem is not None:
            return html_answer(400, f"<title>Error</title><p>{html.escape(problem)}</p>")
        self.authorizations.append(query)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in query.items()
        )
        return html_answer(
            200,
            f"<!doctype html><html lang='en'><head><title>Authorize {self.name}</title></head>"
            f"<body><main><h1>Authorize Cadence to use your {self.name} account?</h1>"
            f'<form method="post" action="{self.decide_path}">{hidden}'
            '<button name="decision" value="allow">Authorize app</button> '
            '<button name="decision" value="deny">Cancel</button></form></main></body></html>',
        )

    def _decide(self, fields: dict[str, str]) -> Answer:
        problem = self._problem(fields)
        if problem is not None:
            return html_answer(400, f"<p>{html.escape(problem)}</p>")
        target = fields["redirect_uri"]
        joiner = "&" if "?" in target else "?"
        if fields.get("decision") != "allow":
            return redirect_answer(
                target + joiner + urlencode({"error": "access_denied", "state": fields["state"]})
            )
        with self._lock:
            code = f"{self._code_prefix}-{next(self._codes)}"
            self.grants[code] = Grant(
                client_id=fields["client_id"],
                redirect_uri=target,
                scope=fields.get("scope", ""),
                challenge=fields.get("code_challenge"),
            )
        return redirect_answer(
            target + joiner + urlencode({"code": code, "state": fields["state"]})
        )

    def approve(self, authorize_url: str, *, allow: bool = True) -> str:
        """The URL the browser is sent back to after a person's decision."""
        query = dict(parse_qsl(urlsplit(authorize_url).query, keep_blank_values=True))
        answer = self._consent(query)
        if answer.status != 200:
            raise AssertionError(answer.body.decode())
        decided = self._decide({**query, "decision": "allow" if allow else "deny"})
        return decided.headers["Location"]

    def redeem(self, form: Form, client_id: str) -> Grant | Refusal:
        """The grant a token request's code opens, or why not."""
        code = form.get("code") or ""
        with self._lock:
            grant = self.grants.get(code)
            refusal = self._refusal(grant, form, client_id)
            if grant is not None:
                grant.used = True  # single use, even when refused now
        if refusal is not None:
            self.refused_codes.append(refusal.description)
            return refusal
        assert grant is not None
        return grant

    def _refusal(self, grant: Grant | None, form: Form, client_id: str) -> Refusal | None:
        if grant is None or grant.used:
            return Refusal("invalid_grant", "authorization code unknown or already used")
        if grant.client_id != client_id:
            return Refusal("invalid_grant", "authorization code issued to another client")
        if form.get("redirect_uri") != grant.redirect_uri:
            return Refusal("invalid_grant", "redirect_uri differs from the authorization's")
        if grant.challenge is not None or self.pkce:
            verifier = form.get("code_verifier") or ""
            if not verifier or grant.challenge is None or s256(verifier) != grant.challenge:
                return Refusal("invalid_grant", "code_verifier does not match the challenge")
        return None
