"""Guardrails: phrases a post may not contain (block) or that send it for approval.

Matching is on whole words after NFKC normalisation and case folding. The text is
split into words once (a fixed pattern, linear in the text); phrases are kept in a
trie of words, and each word position walks it at most MAX_PHRASE_WORDS steps, so a
check costs O(words x MAX_PHRASE_WORDS) however many guardrails there are. Admins
give plain phrases, never patterns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.channels.models import Channel
from app.errors import FieldProblem, NotFound, invalid
from app.team.models import Guardrail, GuardrailAction, GuardrailAudience

MAX_PHRASE_WORDS = 8
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The words of `text` after NFKC and case folding (then NFKC again: folding can
    denormalise, e.g. "ǰ")."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    return _WORD.findall(folded)


class Rule(NamedTuple):
    """A guardrail as matching needs it (a row read without the ORM: cheap to load and
    hashable, so the trie built from a set of rows is cached)."""

    id: str
    phrase: str
    audience: str
    action: str
    note: str


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    rules: list[Rule] = field(default_factory=list)


@dataclass(frozen=True)
class Match:
    rule: Rule
    field: str


class Matcher:
    """The guardrails that apply to one post, as a trie of their phrases' words."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.root = _Node()
        for rule in rules:
            node = self.root
            for word in words(rule.phrase)[:MAX_PHRASE_WORDS]:
                node = node.children.setdefault(word, _Node())
            if node is not self.root:
                node.rules.append(rule)

    def find(self, text: str) -> list[Rule]:
        """Every rule whose phrase occurs in `text` as whole words, each once."""
        seen: dict[str, Rule] = {}
        found = words(text)
        for start in range(len(found)):
            node = self.root
            for word in found[start : start + MAX_PHRASE_WORDS]:
                child = node.children.get(word)
                if child is None:
                    break
                node = child
                for rule in node.rules:
                    seen.setdefault(rule.id, rule)
        return list(seen.values())


def applicable(session: Session, *, external: bool) -> tuple[Rule, ...]:
    audiences = [GuardrailAudience.all.value]
    if external:
        audiences.append(GuardrailAudience.external.value)
    rows = session.execute(
        select(Guardrail.id, Guardrail.phrase, Guardrail.audience, Guardrail.action, Guardrail.note)
        .where(Guardrail.audience.in_(audiences))
        .order_by(Guardrail.id)
    ).all()
    return tuple(Rule(*row) for row in rows)


@lru_cache(maxsize=8)
def matcher_of(rules: tuple[Rule, ...]) -> Matcher:
    """The trie of these exact rules, built once per process while they stay the same."""
    return Matcher(rules)


# (external?, version) -> the trie: a post create then costs one small aggregate query
# instead of loading every rule. Any write moves the version in every process: a
# create or delete the count and the id range, an edit updated_at and (under a frozen
# clock, as in tests) the lengths.
_MATCHERS: dict[tuple[bool, tuple[Any, ...]], Matcher] = {}


def _version(session: Session) -> tuple[Any, ...]:
    sizes = (
        func.length(Guardrail.phrase)
        + func.length(Guardrail.note)
        + func.length(Guardrail.action)
        + func.length(Guardrail.audience)
    )
    row = session.execute(
        select(
            func.count(),
            func.max(Guardrail.updated_at),
            func.coalesce(func.sum(sizes), 0),
            # Random ids: another database (or a rule deleted and another added in the
            # same instant) never shares the key.
            func.min(Guardrail.id),
            func.max(Guardrail.id),
        )
    ).one()
    return tuple(row)


def current_matcher(session: Session, *, external: bool) -> Matcher | None:
    """The trie of the rules for a post with (or without) external channels; None when
    there are no guardrails at all."""
    version = _version(session)
    if not version[0]:
        return None
    key = (external, version)
    found = _MATCHERS.get(key)
    if found is None:
        if len(_MATCHERS) > 16:
            _MATCHERS.clear()
        found = _MATCHERS[key] = matcher_of(applicable(session, external=external))
    return found


class Matchers:
    """The tries for one request (its posts with and without external channels): the
    rules' version is read once however many posts are checked."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.found: dict[bool, Matcher | None] = {}

    def matches(
        self,
        *,
        text: str,
        title: str | None,
        link: str | None,
        channels: Sequence[Channel],
    ) -> list[Match]:
        """The guardrails the post's text, title or link hits, for its channels' audiences."""
        external = any(c.audience == "external" for c in channels)
        if external not in self.found:
            self.found[external] = current_matcher(self.session, external=external)
        matcher = self.found[external]
        if matcher is None:
            return []
        found: list[Match] = []
        for name, value in (("text", text), ("title", title), ("link", link)):
            found += [Match(rule, name) for rule in matcher.find(value or "")]
        return found


def matches(
    session: Session, *, text: str, title: str | None, link: str | None, channels: Sequence[Channel]
) -> list[Match]:
    """The guardrails one post's text, title or link hits, for its channels' audiences."""
    return Matchers(session).matches(text=text, title=title, link=link, channels=channels)


def describe(match: Match) -> str:
    rule = match.rule
    verb = "is blocked" if rule.action == GuardrailAction.block else "needs approval"
    note = f": {rule.note}" if rule.note else ""
    return f"contains {rule.phrase!r}, which {verb}{note}"


def blocked(matches_found: Sequence[Match], where: tuple[str | int, ...]) -> list[FieldProblem]:
    """A 422 problem naming each blocking phrase and its note, at `where` + the field."""
    return [
        FieldProblem((*where, m.field), describe(m), type="guardrail")
        for m in matches_found
        if m.rule.action == GuardrailAction.block
    ]


def wants_approval(matches_found: Sequence[Match]) -> bool:
    return any(m.rule.action == GuardrailAction.require_approval for m in matches_found)


def checked_phrase(phrase: str) -> str:
    """The phrase as stored (trimmed); 422 when it has no word or too many."""
    found = words(phrase)
    if not found:
        raise invalid("phrase", "the phrase must contain at least one word")
    if len(found) > MAX_PHRASE_WORDS:
        raise invalid("phrase", f"a phrase has at most {MAX_PHRASE_WORDS} words")
    return " ".join(phrase.split())


def create(
    session: Session, *, phrase: str, audience: str, action: str, note: str, now: datetime
) -> Guardrail:
    rule = Guardrail(
        phrase=checked_phrase(phrase),
        audience=audience,
        action=action,
        note=note,
        created_at=now,
        updated_at=now,
    )
    session.add(rule)
    session.flush()
    return rule


def get(session: Session, guardrail_id: str) -> Guardrail:
    rule = session.get(Guardrail, guardrail_id)
    if rule is None:
        raise NotFound("guardrail", guardrail_id)
    return rule


def listed(session: Session, *, limit: int, offset: int) -> tuple[list[Guardrail], int]:
    total = session.scalar(select(func.count()).select_from(Guardrail)) or 0
    rows = session.scalars(
        select(Guardrail).order_by(Guardrail.phrase, Guardrail.id).limit(limit).offset(offset)
    ).all()
    return list(rows), total
