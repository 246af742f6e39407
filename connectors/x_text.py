"""X's weighted length of a post, counted in time linear in the text.

X counts a post as twitter-text v3 does (`parse_tweet`): the text is NFC-normalised
with line endings made `\\n`; every URL counts 23; every emoji (one code point or a
whole ZWJ/modifier sequence) counts 2; other code points count 1 inside the light
ranges (U+0000-U+10FF, U+2000-U+200D, U+2010-U+201F, U+2032-U+2037) and 2 elsewhere
(CJK, most symbols). The limit is 280.

twitter-text finds URLs with one large backtracking regular expression; on texts like
`"a." * 1000` it takes seconds, and longer texts keep a core busy for minutes. This
module finds the same URLs with hand-written scanners that look at each character a
bounded number of times:

- a domain is a chain of labels (`label.`) followed by a top-level domain that ends
  at a boundary; twitter-text's greedy search prefers the longest chain, which is a
  right-to-left dynamic programme over label starts;
- the path ends at the last "path ending" character (or balanced parenthesis group)
  of the run of path characters, the query at the last "query ending" character of
  its run, exactly the match the greedy regex backtracks to;
- a URL without a protocol keeps only its ASCII domains, and t.co links stop after
  their slug, as in twitter-text.

The character classes, the TLD lists and the emoji list are twitter-text's own
(imported from the `twitter_text` package); only single-character patterns and
fixed strings are ever matched against the text. IDNA checks of a domain run the
codec only on labels short enough to be valid (its punycode step is quadratic).
"""

from __future__ import annotations

import bisect
import encodings.idna
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from twitter_text.regexp.directional_markers_group import directional_markers_group
from twitter_text.regexp.emoji import emoji_list, single_codepoint_emoji_ranges
from twitter_text.regexp.invalid_chars_group import invalid_chars_group
from twitter_text.regexp.valid_ascii_domain import valid_ascii_domain
from twitter_text.regexp.valid_cctld import valid_cctld
from twitter_text.regexp.valid_domain_chars import valid_domain_chars
from twitter_text.regexp.valid_general_url_path_chars import valid_general_url_path_chars
from twitter_text.regexp.valid_gtld import valid_gtld
from twitter_text.regexp.valid_url_path_ending_chars import valid_url_path_ending_chars
from twitter_text.regexp.valid_url_query_chars import valid_url_query_chars
from twitter_text.regexp.valid_url_query_ending_chars import valid_url_query_ending_chars

MAX_WEIGHTED_LENGTH = 280
SCALE = 100
DEFAULT_WEIGHT = 200  # per code point outside RANGES, and per emoji
URL_LENGTH = 23  # every URL counts as a t.co link
# (first code point, last code point, weight): twitter-text's v3 configuration.
RANGES = ((0, 4351, 100), (8192, 8205, 100), (8208, 8223, 100), (8242, 8247, 100))
MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
DEFAULT_PROTOCOL = "https://"


def _char_class(pattern: str) -> Callable[[str], bool]:
    """Membership of one character in a one-character pattern, with the case folding
    twitter-text's URL regex applies (it is compiled IGNORECASE)."""
    compiled = re.compile(pattern, re.IGNORECASE)

    @cache
    def member(char: str) -> bool:
        return compiled.fullmatch(char) is not None

    return member


_domain_char = _char_class(valid_domain_chars.pattern)
_path_char = _char_class(valid_general_url_path_chars.pattern)
_query_char = _char_class(valid_url_query_chars.pattern)
_query_end_char = _char_class(valid_url_query_ending_chars.pattern)
_url_preceding = _char_class(
    rf"[^A-Za-z0-9@\uff20$#\uff03{invalid_chars_group}]|[{directional_markers_group}]"
)
_tld_boundary = _char_class(r"[^0-9a-zA-Z@+-]")
_port_digit = _char_class(r"[0-9]")
_tco_slug_char = _char_class(r"[a-z0-9]")
_punycode_char = _char_class(r"[\-0-9a-z]")
# valid_url_path_ending_chars without its balanced-parentheses alternative.
_path_end_char = _char_class(valid_url_path_ending_chars.pattern.split("|(?:")[0])
# The labels of valid_ascii_domain: [\-a-z0-9] and the Latin accents.
_ascii_label_char = _char_class(
    valid_ascii_domain.pattern[len("(?:(?:") : valid_ascii_domain.pattern.index("]+") + 1]
)
# IGNORECASE also matches these with ASCII letters (see the `re` docs on [a-z] and
# IGNORECASE); every other letter of a TLD folds with str.lower().
_FOLD = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})
_PROTOCOL = re.compile(r"https?://", re.IGNORECASE)  # fixed length: constant cost per try
_LINE_ENDINGS = re.compile(r"\r\n|\r")
_IDNA_DOTS = re.compile("[.\u3002\uff0e\uff61]")


def _alternatives(compiled: re.Pattern[str]) -> list[str]:
    """The literal TLDs of twitter-text's `(?:(?:a|b|...)(?=...))` patterns, in order."""
    body = compiled.pattern
    return body[len("(?:(?:") : body.index(")(?=")].split("|")


def _tld_table() -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    # Alternation order decides between two TLDs that both end at a boundary
    # ("嘉里大酒店" before "嘉里"): the lower rank wins, as the regex's first alternative.
    ranks: dict[str, int] = {}
    for tld in [*_alternatives(valid_gtld), *_alternatives(valid_cctld)]:
        ranks.setdefault(tld.lower(), len(ranks))
    lengths: dict[str, set[int]] = {}
    for tld in ranks:
        lengths.setdefault(tld[:2], set()).add(len(tld))
    return ranks, {first: tuple(sorted(found)) for first, found in lengths.items()}


# TLD -> its rank in the alternation; first two characters -> the lengths of its TLDs
# (every TLD has at least two).
_TLD_RANK, _TLD_LENGTHS = _tld_table()
_LONGEST_TLD = max(map(len, _TLD_RANK))


def _emoji_table() -> tuple[frozenset[str], tuple[int, ...], frozenset[str], list[int], list[int]]:
    sequences = frozenset(
        "".join(chr(int(code, 16)) for code in e.codepoint.split())
        for e in emoji_list
        if len(e.codepoint.split()) > 1
    )
    lengths = tuple(sorted({len(s) for s in sequences}, reverse=True))
    starts = [low for low, _ in single_codepoint_emoji_ranges]
    ends = [high for _, high in single_codepoint_emoji_ranges]
    return sequences, lengths, frozenset(s[0] for s in sequences), starts, ends


_EMOJI_SEQUENCES, _EMOJI_LENGTHS, _EMOJI_FIRST, _EMOJI_STARTS, _EMOJI_ENDS = _emoji_table()


@dataclass(frozen=True)
class UrlEntity:
    """A URL as twitter-text reports it: where it starts, and its text (whose length,
    not the span it came from, is what the counter skips)."""

    start: int
    url: str


def weighted_length(text: str) -> int:
    """The length X gives `text` (twitter-text v3's `weightedLength`)."""
    text = _LINE_ENDINGS.sub("\n", unicodedata.normalize("NFC", text))
    urls = {entity.start: entity.url for entity in extract_urls(text)}
    emojis = dict(_emojis(text))
    total = 0
    index = 0
    while index < len(text):
        if index in urls:
            total += URL_LENGTH * SCALE
            index += len(urls[index])
        elif index in emojis:
            total += DEFAULT_WEIGHT
            index += emojis[index]
        else:
            total += _weight(text[index])
            index += 1
    return total // SCALE


def _weight(char: str) -> int:
    code = ord(char)
    for first, last, weight in RANGES:
        if first <= code <= last:
            return weight
    return DEFAULT_WEIGHT


def _emojis(text: str) -> list[tuple[int, int]]:
    """(start, length) of each emoji, left to right without overlaps; the longest
    sequence wins, as in twitter-text's alternation sorted by length."""
    found = []
    index = 0
    while index < len(text):
        length = 0
        if text[index] in _EMOJI_FIRST:
            length = next(
                (n for n in _EMOJI_LENGTHS if text[index : index + n] in _EMOJI_SEQUENCES), 0
            )
        if not length and _single_emoji(ord(text[index])):
            length = 1
        if length:
            found.append((index, length))
            index += length
        else:
            index += 1
    return found


@cache
def _single_emoji(code: int) -> bool:
    at = bisect.bisect_right(_EMOJI_STARTS, code) - 1
    return at >= 0 and code <= _EMOJI_ENDS[at]


# -- URLs ----------------------------------------------------------------------------


def extract_urls(text: str) -> list[UrlEntity]:
    """The URLs twitter-text's `extract_urls_with_indices` finds in `text` (already
    normalised), with and without protocol."""
    if not text or "." not in text:
        return []
    return _UrlScanner(text).scan()


def _folded(text: str) -> str:
    return text.translate(_FOLD).lower()


def _tld_end(text: str, at: int, limit: int) -> int | None:
    """Where the TLD starting at `at` ends (the text counts as ending at `limit`), or None."""
    # Folding keeps the length (_FOLD maps the one letter whose lower() grows).
    window = _folded(text[at : min(at + _LONGEST_TLD, limit)])
    best: tuple[int, int] | None = None
    for length in _TLD_LENGTHS.get(window[:2], ()):
        end = at + length
        if end > limit:
            break
        rank = _TLD_RANK.get(window[:length])
        boundary = end == limit or _tld_boundary(text[end])
        if rank is not None and boundary and (best is None or rank < best[0]):
            best = (rank, end)
    if best is not None:
        return best[1]
    # valid_punycode, the last alternative: greedy and without a boundary check.
    if window[:4] == "xn--" and at + 4 < limit and _punycode_char(text[at + 4]):
        end = at + 5
        while end < limit and _punycode_char(text[end]):
            end += 1
        return end
    return None


class _UrlScanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.domain_end = self._domain_ends()

    def _domain_ends(self) -> list[int | None]:
        """For each position, where valid_domain matching there ends (None: no match).

        A label is a run of domain characters, `_` and `-` that starts and ends with a
        domain character and is followed by a dot. valid_domain is
        `subdomain* domain_name tld`: the regex prefers the most subdomains, so the
        answer at p is the answer at the next label if there is one, else this label
        (without `_`, as domain_name wants) followed by a TLD.
        """
        text, n = self.text, len(self.text)
        in_run = [_domain_char(c) or c in "_-" for c in text]
        run_end = [0] * (n + 1)
        underscore_at = [n] * (n + 1)  # the next "_" at or after each position
        ends: list[int | None] = [None] * (n + 1)
        run_end[n] = n
        for p in range(n - 1, -1, -1):
            run_end[p] = run_end[p + 1] if in_run[p] else p
            underscore_at[p] = p if text[p] == "_" else underscore_at[p + 1]
        for p in range(n - 1, -1, -1):
            if not _domain_char(text[p]):
                continue
            q = run_end[p]
            if q >= n or text[q] != "." or not _domain_char(text[q - 1]):
                continue
            end = ends[q + 1]
            if end is None and underscore_at[p] >= q:
                end = _tld_end(text, q + 1, n)
            ends[p] = end
        return ends

    def scan(self) -> list[UrlEntity]:
        text, n = self.text, len(self.text)
        found: list[UrlEntity] = []
        position = 0
        while position < n:
            match = None
            if _url_preceding(text[position]):
                match = self._url_at(position + 1, text[position])
            if match is None and position == 0:
                match = self._url_at(0, "")
            if match is None:
                position += 1
                continue
            found += self._entities(*match)
            position = match[-1]
        return found

    def _url_at(self, start: int, before: str) -> tuple[str, int, int, int, int, int] | None:
        """(before, start, protocol length, domain end, path start or -1, end)."""
        protocol = _PROTOCOL.match(self.text, start)
        # The protocol is optional: without a domain after it, the regex tries without.
        for skip in (protocol.end() - start, 0) if protocol else (0,):
            found = self._rest(start, skip)
            if found is not None:
                return (before, *found)
        return None

    def _rest(self, start: int, skip: int) -> tuple[int, int, int, int, int] | None:
        text, n = self.text, len(self.text)
        domain_start = start + skip
        if domain_start >= n:
            return None
        domain_end = self.domain_end[domain_start]
        if domain_end is None:
            return None
        end = domain_end
        if end + 1 < n and text[end] == ":" and _port_digit(text[end + 1]):
            end += 2
            while end < n and _port_digit(text[end]):
                end += 1
        path_start = -1
        if end < n and text[end] == "/":
            path_start = end
            end = self._path_end(end + 1)
        if end < n and text[end] == "?":
            end = self._query_end(end + 1) or end
        return start, skip, domain_end, path_start, end

    def _path_end(self, at: int) -> int:
        """The end of the path after its "/".

        twitter-text repeats `G* (P G*)* E | P` (G path characters, P a balanced
        parenthesis group, E an ending character; its pattern puts that `|` at the top
        level). The first branch reaches the last ending character of the run of G and
        P; after it only whole P groups can follow, one after another.
        """
        text, n = self.text, len(self.text)
        position = last_ending = at
        while position < n:
            if _path_char(text[position]):
                position += 1
                if _path_end_char(text[position - 1]):
                    last_ending = position
            elif text[position] == "(" and (group_end := self._parens_end(position)):
                position = group_end
            else:
                break
        end = last_ending
        while end < n and text[end] == "(" and (group_end := self._parens_end(end)):
            end = group_end
        return end

    def _parens_end(self, at: int) -> int | None:
        """valid_url_balanced_parens at `at` ("(" ... ")", one nested level allowed)."""
        text, n = self.text, len(self.text)
        inner = self._path_run(at + 1)
        if inner < n and text[inner] == ")" and inner > at + 1:
            return inner + 1
        if inner < n and text[inner] == "(":
            nested = self._path_run(inner + 1)
            if nested > inner + 1 and nested < n and text[nested] == ")":
                close = self._path_run(nested + 1)
                if close < n and text[close] == ")":
                    return close + 1
        return None

    def _path_run(self, at: int) -> int:
        text, n = self.text, len(self.text)
        while at < n and _path_char(text[at]):
            at += 1
        return at

    def _query_end(self, at: int) -> int | None:
        text, n = self.text, len(self.text)
        last = None
        while at < n and _query_char(text[at]):
            at += 1
            if _query_end_char(text[at - 1]):
                last = at
        return last

    def _entities(
        self, before: str, start: int, skip: int, domain_end: int, path_start: int, end: int
    ) -> list[UrlEntity]:
        text = self.text
        url = text[start:end]
        domain = text[start + skip : domain_end]
        protocol = text[start : start + skip] or DEFAULT_PROTOCOL
        ascii_domain_length = _idna_length(domain)
        if ascii_domain_length is None:
            return []
        if len(protocol) + len(url) + ascii_domain_length - len(domain) > MAX_URL_LENGTH:
            return []
        if skip:
            return [UrlEntity(start, _tco_trimmed(url))] if _tco_ok(url) else []
        if before in ("-", "_", ".", "/"):
            return []
        found = [
            UrlEntity(start + s, text[start + s : start + e]) for s, e in _ascii_domains(domain)
        ]
        if found and path_start >= 0:
            last = found[-1]
            found[-1] = UrlEntity(last.start, url.replace(domain, last.url))
        return found


def _tco_slug_end(url: str) -> int | None:
    """Where the slug of a t.co URL ends (None: not a t.co URL)."""
    protocol = _PROTOCOL.match(url)
    if protocol is None or url[protocol.end() : protocol.end() + 5].lower() != "t.co/":
        return None
    end = start = protocol.end() + 5
    while end < len(url) and _tco_slug_char(url[end]):
        end += 1
    return end if end > start else None


def _tco_ok(url: str) -> bool:
    slug_end = _tco_slug_end(url)
    if slug_end is None:
        return True
    protocol = _PROTOCOL.match(url)
    if protocol is None:
        return True
    return slug_end - protocol.end() - 5 <= MAX_TCO_SLUG_LENGTH


def _tco_trimmed(url: str) -> str:
    """A t.co URL takes no path after its slug, only a query."""
    slug_end = _tco_slug_end(url)
    if slug_end is None:
        return url
    end = slug_end
    if end < len(url) and url[end] == "?":
        at, last = end + 1, None
        while at < len(url) and _query_char(url[at]):
            at += 1
            if _query_end_char(url[at - 1]):
                last = at
        end = last or end
    return url[:end]


def _ascii_domains(domain: str) -> list[tuple[int, int]]:
    """(start, end) of each valid_ascii_domain match in `domain`, left to right:
    one or more ASCII labels, each followed by a dot, then a TLD (most labels first)."""
    n = len(domain)
    run_end = [n] * (n + 1)
    for p in range(n - 1, -1, -1):
        run_end[p] = run_end[p + 1] if _ascii_label_char(domain[p]) else p
    ends: list[int | None] = [None] * (n + 1)
    for p in range(n - 1, -1, -1):
        q = run_end[p]
        if q == p or q >= n or domain[q] != ".":
            continue
        end = ends[q + 1]
        ends[p] = end if end is not None else _tld_end(domain, q + 1, n)
    found = []
    position = 0
    while position < n:
        end = ends[position]
        if end is None:
            position += 1
        else:
            found.append((position, end))
            position = end
    return found


def _idna_length(domain: str) -> int | None:
    """len(domain.encode("idna")), or None where the codec refuses the domain.

    The codec's punycode step is quadratic in a label's length, and a label that
    needs punycode is valid only when short ("xn--" and at least one character per
    code point within 63), so longer ones are refused before it runs.
    """
    if not domain.isascii():
        for label in _IDNA_DOTS.split(domain):
            if label.isascii():
                continue
            try:
                prepared = encodings.idna.nameprep(label)
            except UnicodeError:
                return None
            if not prepared.isascii() and len(prepared) >= 60:
                return None
    try:
        return len(domain.encode("idna"))
    except UnicodeError:
        return None
