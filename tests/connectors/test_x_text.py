"""X's weighted length (connectors/x_text.py): twitter-text's numbers, in linear time.

twitter-text's `parse_tweet` is the oracle here, on short texts only: its URL regex
takes seconds on some 1,000-character texts."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest
from twitter_text import extract_urls_with_indices, parse_tweet
from twitter_text.config import config as twitter_text_config

from connectors import x_text
from connectors.base import PublishRequest
from connectors.x import XConnector
from connectors.x_text import extract_urls, weighted_length

CONFORMANCE = json.loads((Path(__file__).parent / "x_text_conformance.json").read_text())
ROOT = Path(__file__).resolve().parents[2]

# Runs that made twitter-text's regex take seconds (or hours) at a few thousand characters.
PATHOLOGICAL = {
    "a. runs": "a.",
    "@ runs": "@a",
    "# runs": "#a",
    "domain-like": "ab-cd.",
    "http:// repeated": "http://",
    "path parens": "http://a.com/(((",
    "underscored labels": "a_b.",
    "t.co slugs": "https://t.co/",
    "mixed": "a.b http://x.co/(a)?b=1 @c #d 日本.com ",
    "idn labels": "日本語ドメイン",
}

# Pieces of ordinary posts, glued at random into texts for the differential test.
PIECES = [
    "example.com",
    "www.example.org",
    "foo.co.uk",
    "t.co/abc123",
    "http://",
    "https://",
    "HTTPS://",
    "bit.ly/dJpywL",
    "/path",
    "/a(b)",
    "/(x)|(y)",
    "?q=1&lang=en",
    "#anchor",
    ":8080",
    "@cadence_comms",
    "#BakeSale",
    "Bake sale",
    " ",
    " ",
    "\n",
    "\r\n",
    ".",
    ",",
    "!",
    "?",
    "(",
    ")",
    "'",
    '"',
    "-",
    "_",
    "…",
    "—",
    "日本語",
    "中文",
    "한국어",
    "😷",
    "👍🏽",
    "👨‍👩‍👧",
    "🇫🇷",
    "#️⃣",
    "1⃣",
    "é",
    "e\u0301",
    "ß",
    "münchen.de",
    "☃.net",
    "xn--p1ai",
    "пример.рф",
    "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d",
    "\u200b",
    "\u202a",
    "。",
    "a_b.com",
    "-a.com",
    "a-.com",
    "192.168.0.1",
    "嘉里大酒店",
    "\u017f",
    "\u212a",
    "\u0130",
    ".COM",
    ".photography",
    "t.co",
]


def text_request(text: str) -> PublishRequest:
    return replace(PublishRequest(delivery_id="dlv-x-1", post_id="post-x-1", text=text))


@pytest.mark.parametrize(
    "case", CONFORMANCE["cases"], ids=[c["description"][:60] for c in CONFORMANCE["cases"]]
)
def test_twitter_text_conformance_weighted_lengths(case: dict[str, object]) -> None:
    assert weighted_length(str(case["text"])) == case["weightedLength"]


def test_the_weights_are_twitter_texts_v3_configuration() -> None:
    defaults = twitter_text_config["defaults"]
    assert defaults["max_weighted_tweet_length"] == x_text.MAX_WEIGHTED_LENGTH
    assert defaults["scale"] == x_text.SCALE
    assert defaults["default_weight"] == x_text.DEFAULT_WEIGHT
    assert defaults["transformed_url_length"] == x_text.URL_LENGTH
    assert defaults["emoji_parsing_enabled"] is True
    assert [(r["start"], r["end"], r["weight"]) for r in defaults["ranges"]] == list(x_text.RANGES)


def test_the_same_weighted_length_and_urls_as_twitter_text_on_ordinary_texts() -> None:
    rng = random.Random(20261202)
    for _ in range(1500):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 18)))
        assert weighted_length(text) == parse_tweet(text).weightedLength, text
        expected = [(u["indices"][0], u["url"]) for u in extract_urls_with_indices(text)]
        assert [(u.start, u.url) for u in extract_urls(text)] == expected, text


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Bake sale on Friday https://example.com/bake-sale?day=fri", 20 + 23),
        ("see example.com/path and www.example.org", 4 + 23 + 5 + 23),
        ("https://t.co/abc123/extra", 23 + len("/extra")),  # t.co takes no path
        ("mail me at a@example.com", 24),  # no URL right after "@"
        ("-example.com", 12),  # no URL without protocol after "-"
        ("example.com?x=1", 23 + 4),  # without a path, the query is not part of it
        ("http://example.com/|(b)", 23 + 4),
        ("日本語", 6),
        ("😷👍🏽👨‍👩‍👧", 6),
        ("e\u0301", 1),  # NFC: one code point
        ("a\r\nb", 3),
    ],
)
def test_worked_examples(text: str, length: int) -> None:
    assert weighted_length(text) == length
    assert parse_tweet(text).weightedLength == length


def test_a_long_non_ascii_domain_label_is_refused_without_punycode() -> None:
    # The idna codec's punycode step is quadratic; a label that long is invalid anyway.
    text = "https://" + "日" * 5000 + ".com"
    assert weighted_length(text) == len("https://") + 2 * 5000 + 4


@pytest.mark.timeout(15)
@pytest.mark.parametrize("unit", PATHOLOGICAL.values(), ids=PATHOLOGICAL.keys())
def test_a_10000_character_pathological_text_is_validated_at_once(unit: str) -> None:
    # A hang guard, not a timing: twitter-text took minutes on these.
    text = (unit * 10_000)[:10_000]
    [problem] = XConnector.validate(text_request(text))
    assert problem.field == "text"
    assert weighted_length(text) > 280


def test_nothing_outside_the_tests_calls_twitter_texts_parser() -> None:
    sources = [*(ROOT / "app").rglob("*.py"), *(ROOT / "connectors").rglob("*.py")]
    imports = [
        line.strip()
        for path in sources
        for line in path.read_text().splitlines()
        if line.startswith(("import twitter_text", "from twitter_text"))
    ]
    # Only twitter-text's data (TLDs, emoji, character classes), never its parser.
    assert imports and all(line.startswith("from twitter_text.regexp.") for line in imports)
    assert not any("parse_tweet(" in path.read_text() for path in sources)
